// Internal to templating/: the parse tree of Go's text/template language and its parser.
// Consumers use templating/template.h instead.
//
// The grammar, the node kinds and the error texts follow Go's text/template/parse package so
// that templates written for Prometheus and Alertmanager behave the same. Trees are immutable
// after parsing and may be executed from many threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "templating/value.h"

namespace alertd::templating {

struct FunctionDef;  // functions.h
class FuncMap;       // functions.h

namespace internal {

enum class NodeType {
  // Control.
  kList,
  kText,
  kAction,
  kIf,
  kRange,
  kWith,
  kTemplate,
  kBreak,
  kContinue,
  kComment,
  // Expressions.
  kPipe,
  kCommand,
  kField,
  kVariable,
  kChain,
  kIdentifier,
  kDot,
  kNil,
  kBool,
  kNumber,
  kString,
};

struct Tree;

struct Node {
  Node(NodeType t, int p, const Tree* tr) : type(t), pos(p), tree(tr) {}
  virtual ~Node() = default;
  NodeType type;
  int pos;           // byte offset in the tree's source text
  const Tree* tree;  // the tree (source) this node was parsed from
};
using NodePtr = std::unique_ptr<Node>;

struct ListNode : Node {
  ListNode(int p, const Tree* t) : Node(NodeType::kList, p, t) {}
  std::vector<NodePtr> nodes;
};

struct TextNode : Node {
  TextNode(int p, const Tree* t, std::string s) : Node(NodeType::kText, p, t), text(std::move(s)) {}
  std::string text;
};

struct VariableNode : Node {
  VariableNode(int p, const Tree* t) : Node(NodeType::kVariable, p, t) {}
  std::vector<std::string> ident;  // "$x", then field names
};

struct CommandNode : Node {
  CommandNode(int p, const Tree* t) : Node(NodeType::kCommand, p, t) {}
  std::vector<NodePtr> args;
};

struct PipeNode : Node {
  PipeNode(int p, const Tree* t) : Node(NodeType::kPipe, p, t) {}
  bool is_assign = false;  // `=` rather than `:=`
  std::vector<std::unique_ptr<VariableNode>> decl;
  std::vector<std::unique_ptr<CommandNode>> cmds;
};

struct ActionNode : Node {
  ActionNode(int p, const Tree* t) : Node(NodeType::kAction, p, t) {}
  std::unique_ptr<PipeNode> pipe;
};

// if / range / with.
struct BranchNode : Node {
  BranchNode(NodeType ty, int p, const Tree* t) : Node(ty, p, t) {}
  std::unique_ptr<PipeNode> pipe;
  std::unique_ptr<ListNode> list;
  std::unique_ptr<ListNode> else_list;  // may be null
};

struct TemplateNode : Node {
  TemplateNode(int p, const Tree* t) : Node(NodeType::kTemplate, p, t) {}
  std::string name;
  std::unique_ptr<PipeNode> pipe;  // may be null
};

struct FieldNode : Node {
  FieldNode(int p, const Tree* t) : Node(NodeType::kField, p, t) {}
  std::vector<std::string> ident;
};

struct ChainNode : Node {
  ChainNode(int p, const Tree* t) : Node(NodeType::kChain, p, t) {}
  NodePtr node;
  std::vector<std::string> field;
};

struct IdentifierNode : Node {
  IdentifierNode(int p, const Tree* t) : Node(NodeType::kIdentifier, p, t) {}
  std::string name;
  const FunctionDef* fn = nullptr;  // resolved at parse time
};

struct BoolNode : Node {
  BoolNode(int p, const Tree* t, bool v) : Node(NodeType::kBool, p, t), value(v) {}
  bool value;
};

struct NumberNode : Node {
  NumberNode(int p, const Tree* t) : Node(NodeType::kNumber, p, t) {}
  std::string text;
  Value value;  // int64 or double, as Go's idealConstant chooses
};

struct StringNode : Node {
  StringNode(int p, const Tree* t) : Node(NodeType::kString, p, t) {}
  std::string quoted;
  Value value;  // the unquoted string
};

// One named template (the main text or a {{define}}), with its source for error positions.
struct Tree {
  std::string name;        // template name
  std::string parse_name;  // name of the top-level template whose text held it
  std::shared_ptr<const std::string> text;
  std::unique_ptr<ListNode> root;
};

// A parse error with its position (1-based line and column).
struct ParseError {
  std::string template_name;
  int line = 0;
  int column = 0;
  std::string message;  // e.g. `function "foo" not defined`
  std::string ToString() const;
};

// Parses `text` as template `name`. On success returns the main tree first, then every
// {{define}}/{{block}} tree, in source order. `funcs` resolves function names (an unknown
// name is a parse error, as in Go).
Result<std::vector<std::unique_ptr<Tree>>> Parse(std::string_view name, std::string_view text,
                                                 const FuncMap& funcs, ParseError* error);

// Go's Node.String(): the source form of a node, used in execution error contexts.
std::string NodeString(const Node& n);

// Go's ErrorContext: "name:line:col" (col is the 0-based byte offset in the line) and the
// node's source text.
void ErrorContext(const Node& n, std::string* location, std::string* context);

}  // namespace internal
}  // namespace alertd::templating
