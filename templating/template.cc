// TemplateSet and the executor. The executor walks the parse tree like Go's text/template
// exec.go: same variable scoping, same treatment of maps, methods and missing keys, same
// error texts, so that templates written for Prometheus and Alertmanager render identically.
#include "templating/template.h"

#include <glob.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "core/labels.h"
#include "templating/defaults.h"
#include "templating/html_context.h"
#include "templating/parse.h"

namespace alertd::templating {

using internal::ActionNode;
using internal::BranchNode;
using internal::ChainNode;
using internal::CommandNode;
using internal::FieldNode;
using internal::IdentifierNode;
using internal::ListNode;
using internal::Node;
using internal::NodeType;
using internal::PipeNode;
using internal::TemplateNode;
using internal::Tree;
using internal::VariableNode;

using TreeMap = std::map<std::string, std::shared_ptr<const Tree>, std::less<>>;

namespace internal {
struct SetImpl {
  Dialect dialect = Dialect::kAlertmanager;
  const FuncMap* funcs = nullptr;
  TreeMap templates;
};
}  // namespace internal

struct CompiledText::Impl {
  std::shared_ptr<const internal::SetImpl> set;
  std::string name;
  std::shared_ptr<const Tree> main;
  TreeMap local;  // templates the text itself defined
};

namespace {

// Methods of Go's time.Time and time.Duration that templates use.
const TypeInfo* MethodsFor(const Value& v) {
  if (v.type() != nullptr) return v.type();
  if (v.kind() == Value::Kind::kTime) return &TimeType();
  if (v.kind() == Value::Kind::kDuration) return &DurationType();
  return nullptr;
}

enum class Flow { kNormal, kBreak, kContinue };

// Thrown nowhere: errors travel as Status through every call, like Go's panics through
// s.errorf, but explicitly.
class Executor {
 public:
  Executor(const internal::SetImpl& set, const TreeMap* local, const ExecOptions& opts,
           std::string* out)
      : set_(set), local_(local), opts_(opts), env_(opts.env), out_(*out) {
    env_.max_result_bytes = opts.max_output_bytes;
    if (opts.escape_html) html_.emplace();
  }

  Status Run(const Tree& tree, const Value& dot) {
    tmpl_name_ = tree.name;
    vars_.push_back({"$", dot});
    Flow flow = Flow::kNormal;
    return Walk(dot, *tree.root, &flow);
  }

  int error_count() const { return error_count_; }
  const Status& first_error() const { return first_error_; }

 private:
  struct Var {
    std::string_view name;
    Value value;
  };

  const Tree* Lookup(std::string_view name) const {
    if (local_ != nullptr) {
      auto it = local_->find(name);
      if (it != local_->end()) return it->second.get();
    }
    auto it = set_.templates.find(name);
    return it == set_.templates.end() ? nullptr : it->second.get();
  }

  Status Error(const Node* at, std::string_view msg) const {
    if (at == nullptr)
      return Status::InvalidArgument("template: " + tmpl_name_ + ": " + std::string(msg));
    std::string location, context;
    internal::ErrorContext(*at, &location, &context);
    return Status::InvalidArgument("template: " + location + ": executing " + GoQuote(tmpl_name_) +
                                   " at <" + context + ">: " + std::string(msg));
  }

  // Walks a node that produces output. With continue_on_error, a failing action is replaced
  // by its error text and the walk goes on.
  Status Walk(const Value& dot, const Node& node, Flow* flow) {
    Status st = WalkInner(dot, node, flow);
    if (st.ok() && opts_.max_output_bytes > 0 && out_.size() > opts_.max_output_bytes) {
      st = OverBudget(&node, "output is longer than its budget of " +
                                 std::to_string(opts_.max_output_bytes) + " bytes");
    }
    if (st.ok() || !opts_.continue_on_error || node.type == NodeType::kList || over_budget_) {
      return st;
    }
    if (error_count_++ == 0) first_error_ = st;
    const std::string text = "<error: " + st.message() + ">";
    // In HTML the marker would read as an unknown tag and vanish (and the message may quote
    // data): escape it so it shows.
    if (html_) {
      html_->AppendString(out_, text);
    } else {
      out_ += text;
    }
    return Status::Ok();
  }

  // Counts one step of the execution budget; an error once it is spent.
  Status Step(const Node* at) {
    if (opts_.max_steps > 0 && ++steps_ > opts_.max_steps) {
      return OverBudget(at, "execution took more than its budget of " +
                                std::to_string(opts_.max_steps) + " steps");
    }
    return Status::Ok();
  }

  // A budget error: reported as an execution error and never continued from.
  Status OverBudget(const Node* at, const std::string& what) {
    over_budget_ = true;
    return Error(at, "template " + what);
  }

  // Values a function is given or returns are bounded by the output budget too, so that a
  // loop of assignments ($x = printf "%s%s" $x $x) cannot build gigabytes without printing.
  // Counted: strings, and the strings directly in a list or map (what functions build: split,
  // stringSlice); not the maps they hold, which are the shared notification data.
  static size_t ValueBytes(const Value& v, size_t cap) {
    auto own = [](const Value& e) { return e.kind() == Value::Kind::kString ? e.as_string().size() : 1; };
    switch (v.kind()) {
      case Value::Kind::kString:
        return v.as_string().size();
      case Value::Kind::kList: {
        size_t n = 0;
        for (const Value& e : v.as_list()) {
          n += own(e) + 1;
          if (n > cap) break;
        }
        return n;
      }
      case Value::Kind::kMap: {
        size_t n = 0;
        for (const auto& [k, e] : v.as_map()) {
          n += k.size() + own(e) + 1;
          if (n > cap) break;
        }
        return n;
      }
      default:
        return 8;
    }
  }

  Status WalkInner(const Value& dot, const Node& node, Flow* flow) {
    if (Status st = Step(&node); !st.ok()) return st;
    switch (node.type) {
      case NodeType::kText:
        if (html_) {
          html_->AppendText(out_, static_cast<const internal::TextNode&>(node).text);
        } else {
          out_ += static_cast<const internal::TextNode&>(node).text;
        }
        return Status::Ok();
      case NodeType::kList:
        for (const auto& n : static_cast<const ListNode&>(node).nodes) {
          Status st = Walk(dot, *n, flow);
          if (!st.ok()) return st;
          if (*flow != Flow::kNormal) return Status::Ok();
        }
        return Status::Ok();
      case NodeType::kAction: {
        const auto& a = static_cast<const ActionNode&>(node);
        Value v;
        Status st = EvalPipeline(dot, *a.pipe, &v);
        if (!st.ok()) return st;
        if (!a.pipe->decl.empty()) return Status::Ok();
        if (html_) return PrintEscaped(v, *a.pipe, &node);
        PrintValue(v);
        return Status::Ok();
      }
      case NodeType::kIf:
      case NodeType::kWith: {
        const auto& b = static_cast<const BranchNode&>(node);
        const size_t mark = vars_.size();
        Value v;
        Status st = EvalPipeline(dot, *b.pipe, &v);
        if (st.ok()) {
          if (v.Truth()) {
            st = Walk(node.type == NodeType::kWith ? v : dot, *b.list, flow);
          } else if (b.else_list) {
            st = Walk(dot, *b.else_list, flow);
          }
        }
        vars_.resize(mark);
        return st;
      }
      case NodeType::kRange: {
        const size_t mark = vars_.size();
        Status st = WalkRange(dot, static_cast<const BranchNode&>(node), flow);
        vars_.resize(mark);
        return st;
      }
      case NodeType::kTemplate:
        return WalkTemplate(dot, static_cast<const TemplateNode&>(node));
      case NodeType::kBreak:
        *flow = Flow::kBreak;
        return Status::Ok();
      case NodeType::kContinue:
        *flow = Flow::kContinue;
        return Status::Ok();
      case NodeType::kComment:
        return Status::Ok();
      default:
        return Error(&node, "unknown node: " + internal::NodeString(node));
    }
  }

  void PrintValue(const Value& v) {
    if (v.is_nil()) {
      out_ += "<no value>";
      return;
    }
    v.AppendTo(out_);
  }

  // What html/template prints for an action where it lands (see ExecOptions and
  // templating/html_context.h).
  Status PrintEscaped(const Value& v, const PipeNode& pipe, const Node* at) {
    Status st = html_->AppendValue(out_, v, PipelineEndOf(pipe));
    return st.ok() ? st : Error(at, st.message());
  }

  // html/template lets a final `html` or `urlquery` command stand in for its own equivalent
  // escaper instead of adding one, so `{{ .X | html }}` is escaped once, by text/template's
  // html function.
  static internal::HtmlContextEscaper::PipelineEnd PipelineEndOf(const PipeNode& pipe) {
    using End = internal::HtmlContextEscaper::PipelineEnd;
    if (pipe.cmds.empty()) return End::kOther;
    const Node& first = *pipe.cmds.back()->args[0];
    if (first.type != NodeType::kIdentifier) return End::kOther;
    const std::string& name = static_cast<const IdentifierNode&>(first).name;
    return name == "html" ? End::kHtml : name == "urlquery" ? End::kUrlquery : End::kOther;
  }

  Status WalkRange(const Value& dot, const BranchNode& r, Flow* flow) {
    Value val;
    Status st = EvalPipeline(dot, *r.pipe, &val);
    if (!st.ok()) return st;
    const size_t mark = vars_.size();
    const auto& decl = r.pipe->decl;
    auto one = [&](const Value& index, const Value& elem) -> Status {
      if (!decl.empty()) {
        if (r.pipe->is_assign) {
          Status s = SetVar(decl[0]->ident[0], decl.size() > 1 ? index : elem, &r);
          if (!s.ok()) return s;
        } else {
          vars_[vars_.size() - 1].value = elem;
        }
      }
      if (decl.size() > 1) {
        if (r.pipe->is_assign) {
          Status s = SetVar(decl[1]->ident[0], elem, &r);
          if (!s.ok()) return s;
        } else {
          vars_[vars_.size() - 2].value = index;
        }
      }
      Flow f = Flow::kNormal;
      Status s = Walk(elem, *r.list, &f);
      vars_.resize(mark);
      if (f == Flow::kBreak) *flow = Flow::kBreak;
      return s;
    };
    bool iterated = false;
    switch (val.kind()) {
      case Value::Kind::kList: {
        const List& l = val.as_list();
        for (size_t i = 0; i < l.size(); ++i) {
          iterated = true;
          Status s = one(Value(static_cast<int64_t>(i)), l[i]);
          if (!s.ok()) return s;
          if (*flow == Flow::kBreak) break;
        }
        break;
      }
      case Value::Kind::kMap:
        for (const auto& [k, v] : val.as_map()) {
          iterated = true;
          Status s = one(Value(k), v);
          if (!s.ok()) return s;
          if (*flow == Flow::kBreak) break;
        }
        break;
      case Value::Kind::kInt:
        for (int64_t i = 0; i < val.as_int(); ++i) {
          iterated = true;
          Status s = one(Value(i), Value(i));
          if (!s.ok()) return s;
          if (*flow == Flow::kBreak) break;
        }
        break;
      case Value::Kind::kNil:
        break;
      default:
        return Error(&r, "range can't iterate over " + val.ToString());
    }
    *flow = Flow::kNormal;
    if (!iterated && r.else_list) return Walk(dot, *r.else_list, flow);
    return Status::Ok();
  }

  Status WalkTemplate(const Value& dot, const TemplateNode& t) {
    const Tree* tree = Lookup(t.name);
    if (tree == nullptr) return Error(&t, "template " + GoQuote(t.name) + " not defined");
    if (depth_ >= opts_.max_depth) {
      return Error(&t, "exceeded maximum template depth (" + std::to_string(opts_.max_depth) + ")");
    }
    Value new_dot;
    if (t.pipe) {
      Status st = EvalPipeline(dot, *t.pipe, &new_dot);
      if (!st.ok()) return st;
    }
    // No dynamic scoping: the called template sees only $.
    std::vector<Var> saved_vars;
    saved_vars.swap(vars_);
    vars_.push_back({"$", new_dot});
    std::string saved_name = std::move(tmpl_name_);
    tmpl_name_ = tree->name;
    ++depth_;
    Flow flow = Flow::kNormal;
    Status st = Walk(new_dot, *tree->root, &flow);
    --depth_;
    tmpl_name_ = std::move(saved_name);
    vars_.swap(saved_vars);
    return st;
  }

  Status SetVar(std::string_view name, const Value& v, const Node* at) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].name == name) {
        vars_[i].value = v;
        return Status::Ok();
      }
    }
    return Error(at, "undefined variable: " + std::string(name));
  }

  Status VarValue(std::string_view name, const Node* at, Value* out) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].name == name) {
        *out = vars_[i].value;
        return Status::Ok();
      }
    }
    return Error(at, "undefined variable: " + std::string(name));
  }

  Status EvalPipeline(const Value& dot, const PipeNode& pipe, Value* out) {
    Value value;
    bool have_final = false;
    for (const auto& cmd : pipe.cmds) {
      Value next;
      Status st = EvalCommand(dot, *cmd, have_final ? &value : nullptr, &next);
      if (!st.ok()) return st;
      value = std::move(next);
      have_final = true;
    }
    for (const auto& v : pipe.decl) {
      if (pipe.is_assign) {
        Status st = SetVar(v->ident[0], value, v.get());
        if (!st.ok()) return st;
      } else {
        vars_.push_back({v->ident[0], value});
      }
    }
    *out = std::move(value);
    return Status::Ok();
  }

  Status NotAFunction(const CommandNode& cmd, const Value* final) {
    if (cmd.args.size() > 1 || final != nullptr) {
      return Error(cmd.args[0].get(),
                   "can't give argument to non-function " + internal::NodeString(*cmd.args[0]));
    }
    return Status::Ok();
  }

  Status EvalCommand(const Value& dot, const CommandNode& cmd, const Value* final, Value* out) {
    if (Status st = Step(&cmd); !st.ok()) return st;
    const Node& first = *cmd.args[0];
    switch (first.type) {
      case NodeType::kField: {
        const auto& f = static_cast<const FieldNode&>(first);
        return EvalFieldChain(dot, dot, f, f.ident, 0, &cmd, final, out);
      }
      case NodeType::kChain: {
        const auto& c = static_cast<const ChainNode&>(first);
        if (c.node->type == NodeType::kNil) {
          return Error(&c, "indirection through explicit nil in " + internal::NodeString(c));
        }
        Value recv;
        Status st = EvalArg(dot, *c.node, &recv);
        if (!st.ok()) return st;
        return EvalFieldChain(dot, recv, c, c.field, 0, &cmd, final, out);
      }
      case NodeType::kIdentifier:
        return EvalFunction(dot, static_cast<const IdentifierNode&>(first), &cmd, final, out);
      case NodeType::kPipe: {
        Status st = NotAFunction(cmd, final);
        if (!st.ok()) return st;
        return EvalPipeline(dot, static_cast<const PipeNode&>(first), out);
      }
      case NodeType::kVariable: {
        const auto& v = static_cast<const VariableNode&>(first);
        Value val;
        Status st = VarValue(v.ident[0], &v, &val);
        if (!st.ok()) return st;
        if (v.ident.size() == 1) {
          st = NotAFunction(cmd, final);
          if (!st.ok()) return st;
          *out = std::move(val);
          return Status::Ok();
        }
        return EvalFieldChain(dot, val, v, v.ident, 1, &cmd, final, out);
      }
      default:
        break;
    }
    Status st = NotAFunction(cmd, final);
    if (!st.ok()) return st;
    switch (first.type) {
      case NodeType::kBool:
        *out = Value(static_cast<const internal::BoolNode&>(first).value);
        return Status::Ok();
      case NodeType::kDot:
        *out = dot;
        return Status::Ok();
      case NodeType::kNil:
        return Error(&first, "nil is not a command");
      case NodeType::kNumber:
        *out = static_cast<const internal::NumberNode&>(first).value;
        return Status::Ok();
      case NodeType::kString:
        *out = static_cast<const internal::StringNode&>(first).value;
        return Status::Ok();
      default:
        return Error(&first, "can't evaluate command " + GoQuote(internal::NodeString(first)));
    }
  }

  // Evaluates an argument node to a value (Go's evalArg for an interface{} parameter).
  Status EvalArg(const Value& dot, const Node& n, Value* out) {
    switch (n.type) {
      case NodeType::kDot:
        *out = dot;
        return Status::Ok();
      case NodeType::kNil:
        *out = Value();
        return Status::Ok();
      case NodeType::kField: {
        const auto& f = static_cast<const FieldNode&>(n);
        return EvalFieldChain(dot, dot, f, f.ident, 0, nullptr, nullptr, out);
      }
      case NodeType::kVariable: {
        const auto& v = static_cast<const VariableNode&>(n);
        Value val;
        Status st = VarValue(v.ident[0], &v, &val);
        if (!st.ok()) return st;
        if (v.ident.size() == 1) {
          *out = std::move(val);
          return Status::Ok();
        }
        return EvalFieldChain(dot, val, v, v.ident, 1, nullptr, nullptr, out);
      }
      case NodeType::kPipe:
        return EvalPipeline(dot, static_cast<const PipeNode&>(n), out);
      case NodeType::kIdentifier:
        return EvalFunction(dot, static_cast<const IdentifierNode&>(n), nullptr, nullptr, out);
      case NodeType::kChain: {
        const auto& c = static_cast<const ChainNode&>(n);
        if (c.node->type == NodeType::kNil) {
          return Error(&c, "indirection through explicit nil in " + internal::NodeString(c));
        }
        Value recv;
        Status st = EvalArg(dot, *c.node, &recv);
        if (!st.ok()) return st;
        return EvalFieldChain(dot, recv, c, c.field, 0, nullptr, nullptr, out);
      }
      case NodeType::kBool:
        *out = Value(static_cast<const internal::BoolNode&>(n).value);
        return Status::Ok();
      case NodeType::kNumber:
        *out = static_cast<const internal::NumberNode&>(n).value;
        return Status::Ok();
      case NodeType::kString:
        *out = static_cast<const internal::StringNode&>(n).value;
        return Status::Ok();
      default:
        return Error(&n, "can't handle " + internal::NodeString(n) + " for arg");
    }
  }

  // Evaluates the arguments of a command (all but the first word) plus the piped value.
  Status EvalArgs(const Value& dot, const CommandNode* cmd, const Value* final,
                  std::vector<Value>* args) {
    if (cmd != nullptr) {
      args->reserve(cmd->args.size());
      for (size_t i = 1; i < cmd->args.size(); ++i) {
        Value v;
        Status st = EvalArg(dot, *cmd->args[i], &v);
        if (!st.ok()) return st;
        args->push_back(std::move(v));
      }
    }
    if (final != nullptr) args->push_back(*final);
    return Status::Ok();
  }

  Status EvalFunction(const Value& dot, const IdentifierNode& id, const CommandNode* cmd,
                      const Value* final, Value* out) {
    const FunctionDef& fn = *id.fn;
    const size_t nargs = (cmd ? cmd->args.size() - 1 : 0) + (final ? 1 : 0);
    if (fn.max_args < 0) {
      if (static_cast<int>(nargs) < fn.min_args) {
        return Error(&id, "wrong number of args for " + id.name + ": want at least " +
                              std::to_string(fn.min_args) + " got " + std::to_string(nargs));
      }
    } else if (static_cast<int>(nargs) < fn.min_args || static_cast<int>(nargs) > fn.max_args) {
      return Error(&id, "wrong number of args for " + id.name + ": want " +
                            std::to_string(fn.max_args) + " got " + std::to_string(nargs));
    }
    if (fn.special != FunctionDef::Special::kNone) {
      // and/or: evaluate lazily, return the first deciding operand.
      const bool is_or = fn.special == FunctionDef::Special::kOr;
      Value v;
      if (cmd != nullptr) {
        for (size_t i = 1; i < cmd->args.size(); ++i) {
          Status st = EvalArg(dot, *cmd->args[i], &v);
          if (!st.ok()) return st;
          if (v.Truth() == is_or) {
            *out = std::move(v);
            return Status::Ok();
          }
        }
      }
      if (final != nullptr) v = *final;
      *out = std::move(v);
      return Status::Ok();
    }
    std::vector<Value> args;
    Status st = EvalArgs(dot, cmd, final, &args);
    if (!st.ok()) return st;
    const Node* at = cmd != nullptr ? static_cast<const Node*>(cmd) : &id;
    const size_t cap = opts_.max_output_bytes;
    if (cap > 0) {
      size_t total = 0;
      for (const Value& a : args) {
        total += ValueBytes(a, cap);
        if (total > cap) {
          return OverBudget(at, "arguments of " + id.name + " are longer than the output budget of " +
                                    std::to_string(cap) + " bytes");
        }
      }
    }
    Result<Value> r = fn.fn(env_, args);
    if (!r.ok()) {
      return Error(at, "error calling " + id.name + ": " + r.status().message());
    }
    if (cap > 0 && ValueBytes(*r, cap) > cap) {
      return OverBudget(at, "result of " + id.name + " is longer than the output budget of " +
                                std::to_string(cap) + " bytes");
    }
    *out = std::move(r).value();
    return Status::Ok();
  }

  // Evaluates ident[start..] as a chain of fields/methods on `recv`; the last one receives the
  // command's arguments (if `cmd` is not null) and the piped value.
  Status EvalFieldChain(const Value& dot, Value recv, const Node& node,
                        const std::vector<std::string>& ident, size_t start, const CommandNode* cmd,
                        const Value* final, Value* out) {
    for (size_t i = start; i + 1 < ident.size(); ++i) {
      Value next;
      Status st = EvalField(dot, ident[i], node, nullptr, nullptr, recv, &next);
      if (!st.ok()) return st;
      recv = std::move(next);
    }
    return EvalField(dot, ident.back(), node, cmd, final, recv, out);
  }

  Status EvalField(const Value& dot, const std::string& name, const Node& node,
                   const CommandNode* cmd, const Value* final, const Value& recv, Value* out) {
    if (recv.is_nil()) {
      if (opts_.missing_key == MissingKey::kError) {
        return Error(&node, "nil data; no entry for key " + GoQuote(name));
      }
      *out = Value();
      return Status::Ok();
    }
    const bool has_args = (cmd != nullptr && cmd->args.size() > 1) || final != nullptr;
    if (const TypeInfo* type = MethodsFor(recv); type != nullptr) {
      if (const MethodInfo* m = type->FindMethod(name); m != nullptr) {
        std::vector<Value> args;
        Status st = EvalArgs(dot, cmd, final, &args);
        if (!st.ok()) return st;
        if (static_cast<int>(args.size()) != m->num_args) {
          return Error(&node, "wrong number of args for " + name + ": want " +
                                  std::to_string(m->num_args) + " got " +
                                  std::to_string(args.size()));
        }
        Result<Value> r = m->fn(recv, args);
        if (!r.ok()) {
          return Error(cmd != nullptr ? static_cast<const Node*>(cmd) : &node,
                       "error calling " + name + ": " + r.status().message());
        }
        *out = std::move(r).value();
        return Status::Ok();
      }
    }
    switch (recv.kind()) {
      case Value::Kind::kStruct: {
        if (const Value* f = recv.FindField(name); f != nullptr) {
          if (has_args)
            return Error(&node, name + " has arguments but cannot be invoked as function");
          *out = *f;
          return Status::Ok();
        }
        break;
      }
      case Value::Kind::kMap: {
        if (has_args) return Error(&node, name + " is not a method but has arguments");
        const Map& m = recv.as_map();
        auto it = m.find(name);
        if (it != m.end()) {
          *out = it->second;
          return Status::Ok();
        }
        switch (opts_.missing_key) {
          case MissingKey::kDefault:
            *out = Value();
            break;
          case MissingKey::kZero:
            *out = recv.type() != nullptr && recv.type()->string_elems ? Value("") : Value();
            break;
          case MissingKey::kError:
            return Error(&node, "map has no entry for key " + GoQuote(name));
        }
        return Status::Ok();
      }
      default:
        break;
    }
    return Error(&node,
                 "can't evaluate field " + name + " in type " + std::string(recv.TypeName()));
  }

  const internal::SetImpl& set_;
  const TreeMap* local_;
  const ExecOptions& opts_;
  ExecEnv env_;  // opts_.env with the output budget for functions
  std::string& out_;
  std::optional<internal::HtmlContextEscaper> html_;  // with escape_html: the HTML context
  int64_t steps_ = 0;
  bool over_budget_ = false;
  std::vector<Var> vars_;
  std::string tmpl_name_;
  int depth_ = 0;
  int error_count_ = 0;
  Status first_error_;
};

ExecResult RunTree(const internal::SetImpl& set, const TreeMap* local, const Tree& tree,
                   const Value& data, const ExecOptions& options) {
  ExecResult r;
  Executor ex(set, local, options, &r.output);
  Status st = ex.Run(tree, data);
  if (!st.ok()) {
    r.status = st;
    r.error_count = 1;
  } else if (ex.error_count() > 0) {
    r.status = ex.first_error();
    r.error_count = ex.error_count();
  }
  return r;
}

const FuncMap& FuncsFor(Dialect d) {
  return d == Dialect::kPrometheus ? PrometheusFuncs() : AlertmanagerFuncs();
}

bool IsEmptyTree(const Tree& t) {
  for (const auto& n : t.root->nodes) {
    if (n->type != NodeType::kText) return false;
    for (char c : static_cast<const internal::TextNode&>(*n).text) {
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    }
  }
  return true;
}

}  // namespace

TemplateSet::TemplateSet(Dialect dialect) : impl_(std::make_shared<internal::SetImpl>()) {
  impl_->dialect = dialect;
  impl_->funcs = &FuncsFor(dialect);
}
TemplateSet::~TemplateSet() = default;
TemplateSet::TemplateSet(TemplateSet&&) noexcept = default;
TemplateSet& TemplateSet::operator=(TemplateSet&&) noexcept = default;

Dialect TemplateSet::dialect() const { return impl_->dialect; }
const FuncMap& TemplateSet::funcs() const { return *impl_->funcs; }

Status TemplateSet::AddDefaults() { return Parse("default.tmpl", DefaultTemplatesText()); }

Status TemplateSet::Parse(std::string_view source_name, std::string_view text) {
  auto trees = internal::Parse(source_name, text, *impl_->funcs, nullptr);
  if (!trees.ok()) return trees.status();
  if (impl_.use_count() > 1) {
    // Compiled texts share the current templates; copy before changing (trees are shared).
    impl_ = std::make_shared<internal::SetImpl>(*impl_);
  }
  for (auto& t : *trees) {
    auto it = impl_->templates.find(t->name);
    if (it != impl_->templates.end() && IsEmptyTree(*t)) continue;
    std::string name = t->name;
    impl_->templates[name] = std::shared_ptr<const Tree>(std::move(t));
  }
  return Status::Ok();
}

Status TemplateSet::ParseFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("template file " + path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string base = path.substr(path.find_last_of('/') + 1);
  return Parse(base, ss.str());
}

Status TemplateSet::ParseGlob(const std::string& pattern) {
  glob_t g{};
  int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
  if (rc == GLOB_NOMATCH) {
    globfree(&g);
    return Status::Ok();
  }
  if (rc != 0) {
    globfree(&g);
    return Status::InvalidArgument("template glob " + pattern + ": invalid pattern");
  }
  std::vector<std::string> files(g.gl_pathv, g.gl_pathv + g.gl_pathc);
  globfree(&g);
  for (const auto& f : files) {
    Status st = ParseFile(f);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

bool TemplateSet::Has(std::string_view name) const {
  return impl_->templates.find(name) != impl_->templates.end();
}

std::vector<std::string> TemplateSet::Names() const {
  std::vector<std::string> out;
  for (const auto& [n, t] : impl_->templates) out.push_back(n);
  return out;
}

ExecResult TemplateSet::Execute(std::string_view name, const Value& data,
                                const ExecOptions& options) const {
  auto it = impl_->templates.find(name);
  if (it == impl_->templates.end()) {
    ExecResult r;
    r.status = Status::NotFound("template: no template " + GoQuote(name));
    r.error_count = 1;
    return r;
  }
  return RunTree(*impl_, nullptr, *it->second, data, options);
}

Result<CompiledText> TemplateSet::Compile(std::string_view name, std::string_view text) const {
  auto trees = internal::Parse(name, text, *impl_->funcs, nullptr);
  if (!trees.ok()) return trees.status();
  auto impl = std::make_shared<CompiledText::Impl>();
  impl->set = impl_;
  impl->name = std::string(name);
  auto& list = *trees;
  impl->main = std::shared_ptr<const Tree>(std::move(list[0]));
  for (size_t i = 1; i < list.size(); ++i) {
    std::string n = list[i]->name;
    impl->local[n] = std::shared_ptr<const Tree>(std::move(list[i]));
  }
  CompiledText c;
  c.impl_ = std::move(impl);
  return c;
}

ExecResult TemplateSet::ExecuteText(std::string_view text, const Value& data,
                                    const ExecOptions& options) const {
  auto c = Compile("text", text);
  if (!c.ok()) {
    ExecResult r;
    r.status = c.status();
    r.error_count = 1;
    return r;
  }
  return c->Execute(data, options);
}

ExecResult CompiledText::Execute(const Value& data, const ExecOptions& options) const {
  return RunTree(*impl_->set, impl_->local.empty() ? nullptr : &impl_->local, *impl_->main, data,
                 options);
}

const std::string& CompiledText::name() const { return impl_->name; }

void AppendHtmlEscaped(std::string& out, std::string_view s) {
  // Byte by byte: every escaped character is ASCII, and an ASCII byte never occurs inside a
  // UTF-8 sequence, so this matches Go's rune loop (which lets invalid bytes through).
  size_t written = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    std::string_view repl;
    switch (s[i]) {
      case '\0':
        repl = "\xEF\xBF\xBD";
        break;
      case '"':
        repl = "&#34;";
        break;
      case '&':
        repl = "&amp;";
        break;
      case '\'':
        repl = "&#39;";
        break;
      case '+':
        repl = "&#43;";
        break;
      case '<':
        repl = "&lt;";
        break;
      case '>':
        repl = "&gt;";
        break;
      default:
        continue;
    }
    out.append(s.substr(written, i - written));
    out.append(repl);
    written = i + 1;
  }
  out.append(s.substr(written));
}

std::string HtmlEscapeText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendHtmlEscaped(out, s);
  return out;
}

Status ValidateTemplate(Dialect dialect, std::string_view name, std::string_view text) {
  auto trees = internal::Parse(name, text, FuncsFor(dialect), nullptr);
  return trees.ok() ? Status::Ok() : trees.status();
}

}  // namespace alertd::templating
