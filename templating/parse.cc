// Lexer and recursive-descent parser for Go's text/template language. The structure mirrors
// Go's text/template/parse (lex.go, parse.go) so that the accepted language, the node shapes
// and the error messages agree with what Prometheus and Alertmanager users see.
#include "templating/parse.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>

#include "core/labels.h"
#include "core/utf8.h"
#include "templating/functions.h"

namespace alertd::templating::internal {
namespace {

enum class Tok {
  kError,
  kEOF,
  kText,
  kLeftDelim,
  kRightDelim,
  kSpace,
  kField,
  kVariable,
  kIdentifier,
  kBool,
  kNil,
  kDot,
  kNumber,
  kCharConstant,
  kString,
  kRawString,
  kLeftParen,
  kRightParen,
  kPipe,
  kDeclare,
  kAssign,
  kChar,
  // Keywords.
  kBlock,
  kBreak,
  kContinue,
  kDefine,
  kElse,
  kEnd,
  kIf,
  kRange,
  kTemplate,
  kWith,
};

struct Token {
  Tok type;
  int pos;
  std::string val;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAlnum(unsigned char c) {
  // Go accepts Unicode letters and digits; bytes >= 0x80 are treated as letters here, which
  // accepts every UTF-8 letter (and, unlike Go, other non-ASCII symbols).
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c >= 0x80;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

const std::map<std::string_view, Tok>& Keywords() {
  static const auto* k = new std::map<std::string_view, Tok>{{"block", Tok::kBlock},
                                                             {"break", Tok::kBreak},
                                                             {"continue", Tok::kContinue},
                                                             {"define", Tok::kDefine},
                                                             {"else", Tok::kElse},
                                                             {"end", Tok::kEnd},
                                                             {"if", Tok::kIf},
                                                             {"range", Tok::kRange},
                                                             {"nil", Tok::kNil},
                                                             {"template", Tok::kTemplate},
                                                             {"with", Tok::kWith}};
  return *k;
}

// Produces the whole token stream up front; a lexical error ends the stream with kError.
class Lexer {
 public:
  explicit Lexer(std::string_view in) : in_(in) {}

  std::vector<Token> Run() {
    while (LexText()) {
      if (!LexAction()) break;
    }
    return std::move(toks_);
  }

 private:
  void Emit(Tok t, size_t start, size_t end) {
    toks_.push_back(Token{t, static_cast<int>(start), std::string(in_.substr(start, end - start))});
  }
  bool Error(std::string msg, size_t at) {
    toks_.push_back(Token{Tok::kError, static_cast<int>(at), std::move(msg)});
    return false;
  }
  bool StartsWith(size_t p, std::string_view s) const { return in_.substr(p).starts_with(s); }
  bool HasLeftTrim(size_t p) const {
    return p + 1 < in_.size() && in_[p] == '-' && IsSpace(in_[p + 1]);
  }
  bool HasRightTrim(size_t p) const {
    return p + 1 < in_.size() && IsSpace(in_[p]) && in_[p + 1] == '-';
  }

  // Text up to the next "{{". Returns false at EOF.
  bool LexText() {
    size_t start = pos_;
    size_t d = in_.find("{{", pos_);
    if (d == std::string_view::npos) {
      if (start < in_.size()) Emit(Tok::kText, start, in_.size());
      toks_.push_back(Token{Tok::kEOF, static_cast<int>(in_.size()), ""});
      return false;
    }
    size_t text_end = d;
    bool trim = HasLeftTrim(d + 2);
    if (trim) {
      while (text_end > start && IsSpace(in_[text_end - 1])) --text_end;
    }
    if (text_end > start) Emit(Tok::kText, start, text_end);
    pos_ = d;
    return true;
  }

  // Called at "{{"; lexes up to and including the closing delimiter.
  bool LexAction() {
    const size_t delim_pos = pos_;
    size_t after = pos_ + 2;
    if (HasLeftTrim(after)) after += 2;
    if (StartsWith(after, "/*")) {
      size_t end = in_.find("*/", after + 2);
      if (end == std::string_view::npos) return Error("unclosed comment", after);
      size_t p = end + 2;
      bool trim = false;
      if (HasRightTrim(p) && StartsWith(p + 2, "}}")) {
        trim = true;
        p += 2;
      }
      if (!StartsWith(p, "}}")) return Error("comment ends before closing delimiter", p);
      pos_ = p + 2;
      if (trim) SkipSpaceAfterTrim();
      return true;
    }
    Emit(Tok::kLeftDelim, delim_pos, delim_pos + 2);
    pos_ = after;
    int paren_depth = 0;
    while (true) {
      // Right delimiter, possibly with a trim marker.
      bool trim = HasRightTrim(pos_) && StartsWith(pos_ + 2, "}}");
      if (trim || StartsWith(pos_, "}}")) {
        if (paren_depth > 0) return Error("unclosed left paren", pos_);
        size_t d = trim ? pos_ + 2 : pos_;
        Emit(Tok::kRightDelim, d, d + 2);
        pos_ = d + 2;
        if (trim) SkipSpaceAfterTrim();
        return true;
      }
      if (pos_ >= in_.size()) return Error("unclosed action", pos_);
      const char c = in_[pos_];
      const size_t start = pos_;
      if (IsSpace(c)) {
        size_t p = pos_;
        while (p < in_.size() && IsSpace(in_[p])) ++p;
        // A " -}}" ends the run of spaces: its space belongs to the delimiter.
        if (p < in_.size() && in_[p] == '-' && StartsWith(p + 1, "}}")) {
          --p;
          if (p == pos_) continue;  // the right-delimiter branch takes it
        }
        Emit(Tok::kSpace, start, p);
        pos_ = p;
        continue;
      }
      switch (c) {
        case '=':
          Emit(Tok::kAssign, start, ++pos_);
          continue;
        case ':':
          if (!StartsWith(pos_ + 1, "=")) return Error("expected :=", pos_);
          pos_ += 2;
          Emit(Tok::kDeclare, start, pos_);
          continue;
        case '|':
          Emit(Tok::kPipe, start, ++pos_);
          continue;
        case '"': {
          size_t p = pos_ + 1;
          while (true) {
            if (p >= in_.size() || in_[p] == '\n')
              return Error("unterminated quoted string", start);
            if (in_[p] == '\\') {
              p += 2;
              continue;
            }
            if (in_[p] == '"') break;
            ++p;
          }
          pos_ = p + 1;
          Emit(Tok::kString, start, pos_);
          continue;
        }
        case '`': {
          size_t p = in_.find('`', pos_ + 1);
          if (p == std::string_view::npos) return Error("unterminated raw quoted string", start);
          pos_ = p + 1;
          Emit(Tok::kRawString, start, pos_);
          continue;
        }
        case '\'': {
          size_t p = pos_ + 1;
          while (true) {
            if (p >= in_.size() || in_[p] == '\n') {
              return Error("unterminated character constant", start);
            }
            if (in_[p] == '\\') {
              p += 2;
              continue;
            }
            if (in_[p] == '\'') break;
            ++p;
          }
          pos_ = p + 1;
          Emit(Tok::kCharConstant, start, pos_);
          continue;
        }
        case '$': {
          size_t p = pos_ + 1;
          while (p < in_.size() && IsAlnum(static_cast<unsigned char>(in_[p]))) ++p;
          pos_ = p;
          if (!AtTerminator()) return BadChar(pos_);
          Emit(Tok::kVariable, start, pos_);
          continue;
        }
        case '.': {
          if (pos_ + 1 < in_.size() && IsDigit(in_[pos_ + 1])) {
            if (!LexNumber()) return false;
            continue;
          }
          size_t p = pos_ + 1;
          while (p < in_.size() && IsAlnum(static_cast<unsigned char>(in_[p]))) ++p;
          pos_ = p;
          if (p == start + 1) {
            Emit(Tok::kDot, start, pos_);
            continue;
          }
          if (!AtTerminator()) return BadChar(pos_);
          Emit(Tok::kField, start, pos_);
          continue;
        }
        case '(':
          ++paren_depth;
          Emit(Tok::kLeftParen, start, ++pos_);
          continue;
        case ')':
          if (--paren_depth < 0) return Error("unexpected right paren", pos_);
          Emit(Tok::kRightParen, start, ++pos_);
          continue;
        default:
          break;
      }
      if (c == '+' || c == '-' || IsDigit(c)) {
        if (!LexNumber()) return false;
        continue;
      }
      if (IsAlnum(static_cast<unsigned char>(c))) {
        size_t p = pos_;
        while (p < in_.size() && IsAlnum(static_cast<unsigned char>(in_[p]))) ++p;
        pos_ = p;
        if (!AtTerminator()) return BadChar(pos_);
        std::string_view word = in_.substr(start, p - start);
        auto kw = Keywords().find(word);
        if (kw != Keywords().end()) {
          Emit(kw->second, start, p);
        } else if (word == "true" || word == "false") {
          Emit(Tok::kBool, start, p);
        } else {
          Emit(Tok::kIdentifier, start, p);
        }
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x80 && c >= 0x20 && c < 0x7f) {
        Emit(Tok::kChar, start, ++pos_);
        continue;
      }
      char buf[64];
      std::snprintf(buf, sizeof(buf), "unrecognized character in action: U+%04X",
                    static_cast<unsigned char>(c));
      return Error(buf, pos_);
    }
  }

  bool BadChar(size_t p) {
    char buf[64];
    unsigned char c = static_cast<unsigned char>(in_[p]);
    if (c >= 0x20 && c < 0x7f) {
      std::snprintf(buf, sizeof(buf), "bad character U+%04X '%c'", c, c);
    } else {
      std::snprintf(buf, sizeof(buf), "bad character U+%04X", c);
    }
    return Error(buf, p);
  }

  bool AtTerminator() const {
    if (pos_ >= in_.size()) return true;
    char c = in_[pos_];
    if (IsSpace(c) || c == '.' || c == ',' || c == '|' || c == ':' || c == ')' || c == '(') {
      return true;
    }
    return StartsWith(pos_, "}}");
  }

  bool LexNumber() {
    const size_t start = pos_;
    size_t p = pos_;
    auto accept = [&](std::string_view set) {
      if (p < in_.size() && set.find(in_[p]) != std::string_view::npos) {
        ++p;
        return true;
      }
      return false;
    };
    auto accept_run = [&](std::string_view set) {
      while (p < in_.size() && set.find(in_[p]) != std::string_view::npos) ++p;
    };
    accept("+-");
    std::string_view digits = "0123456789_";
    if (accept("0")) {
      if (accept("xX")) {
        digits = "0123456789abcdefABCDEF_";
      } else if (accept("oO")) {
        digits = "01234567_";
      } else if (accept("bB")) {
        digits = "01_";
      }
    }
    accept_run(digits);
    if (accept(".")) accept_run(digits);
    if (digits.size() == 11 && accept("eE")) {
      accept("+-");
      accept_run("0123456789_");
    }
    if (digits.size() == 23 && accept("pP")) {
      accept("+-");
      accept_run("0123456789_");
    }
    accept("i");
    if (p < in_.size() && IsAlnum(static_cast<unsigned char>(in_[p]))) {
      ++p;
      return Error("bad number syntax: " + GoQuote(in_.substr(start, p - start)), start);
    }
    pos_ = p;
    Emit(Tok::kNumber, start, p);
    return true;
  }

  void SkipSpaceAfterTrim() {
    while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::vector<Token> toks_;
};

// ---- literals ----

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// strconv.Unquote for "..." and '...' bodies (quote is the delimiter). Returns false on a bad
// escape ("invalid syntax").
bool UnquoteBody(std::string_view s, char quote, std::string* out) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == quote) return false;
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++i >= s.size()) return false;
    char e = s[i];
    switch (e) {
      case 'a':
        out->push_back('\a');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'v':
        out->push_back('\v');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case '\'':
      case '"':
        if (e != quote) return false;
        out->push_back(e);
        break;
      case 'x':
      case 'u':
      case 'U': {
        int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + n >= s.size() + 0 && i + n > s.size() - 1 + 1) return false;
        uint32_t v = 0;
        for (int k = 1; k <= n; ++k) {
          if (i + k >= s.size()) return false;
          int h = HexVal(s[i + k]);
          if (h < 0) return false;
          v = v * 16 + static_cast<uint32_t>(h);
        }
        i += n;
        if (e == 'x') {
          out->push_back(static_cast<char>(v));
        } else {
          if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
          AppendUtf8(out, v);
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          if (i + 2 >= s.size()) return false;
          uint32_t v = 0;
          for (int k = 0; k < 3; ++k) {
            char d = s[i + k];
            if (d < '0' || d > '7') return false;
            v = v * 8 + static_cast<uint32_t>(d - '0');
          }
          if (v > 255) return false;
          out->push_back(static_cast<char>(v));
          i += 2;
          break;
        }
        return false;
    }
  }
  return true;
}

// Decodes one UTF-8 rune from s; returns its code point (0xFFFD if invalid) and length.
uint32_t DecodeRune(std::string_view s, size_t* len) {
  unsigned char c = static_cast<unsigned char>(s[0]);
  if (c < 0x80) {
    *len = 1;
    return c;
  }
  int n = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || s.size() < static_cast<size_t>(n)) {
    *len = 1;
    return 0xFFFD;
  }
  uint32_t r = c & (0x7F >> n);
  for (int i = 1; i < n; ++i) {
    unsigned char cc = static_cast<unsigned char>(s[i]);
    if ((cc & 0xC0) != 0x80) {
      *len = 1;
      return 0xFFFD;
    }
    r = (r << 6) | (cc & 0x3F);
  }
  *len = static_cast<size_t>(n);
  return r;
}

// ---- parser ----

struct ParseFailure {
  int pos;
  std::string message;
};

class Parser {
 public:
  Parser(std::string_view name, std::shared_ptr<const std::string> text, const FuncMap& funcs)
      : name_(name), text_(std::move(text)), funcs_(funcs) {}

  bool Run(std::vector<std::unique_ptr<Tree>>* trees, ParseFailure* fail) {
    toks_ = Lexer(*text_).Run();
    auto main = NewTree(name_);
    cur_ = main.get();
    main->root = std::make_unique<ListNode>(0, cur_);
    trees_.push_back(std::move(main));
    if (!ParseTop()) {
      *fail = fail_;
      return false;
    }
    *trees = std::move(trees_);
    return true;
  }

 private:
  std::unique_ptr<Tree> NewTree(std::string_view name) {
    auto t = std::make_unique<Tree>();
    t->name = std::string(name);
    t->parse_name = name_;
    t->text = text_;
    return t;
  }

  // Token access (Go's next/peek/backup over a fixed stream).
  const Token& Next() {
    const Token& t = toks_[std::min(idx_, toks_.size() - 1)];
    if (idx_ < toks_.size()) ++idx_;
    last_ = &t;
    return t;
  }
  const Token& Peek() const { return toks_[std::min(idx_, toks_.size() - 1)]; }
  void Backup(size_t n = 1) { idx_ -= n; }
  const Token& NextNonSpace() {
    const Token* t = &Next();
    while (t->type == Tok::kSpace) t = &Next();
    return *t;
  }
  const Token& PeekNonSpace() {
    size_t save = idx_;
    const Token& t = NextNonSpace();
    idx_ = save;
    return t;
  }

  bool Fail(std::string msg, int pos = -1) {
    if (!failed_) {
      failed_ = true;
      fail_.pos = pos >= 0 ? pos : (last_ ? last_->pos : 0);
      fail_.message = std::move(msg);
    }
    return false;
  }

  static std::string TokenString(const Token& t) {
    switch (t.type) {
      case Tok::kEOF:
        return "EOF";
      case Tok::kError:
        return t.val;
      case Tok::kBlock:
      case Tok::kBreak:
      case Tok::kContinue:
      case Tok::kDefine:
      case Tok::kElse:
      case Tok::kEnd:
      case Tok::kIf:
      case Tok::kRange:
      case Tok::kTemplate:
      case Tok::kWith:
      case Tok::kNil:
        return "<" + t.val + ">";
      default:
        break;
    }
    if (t.val.size() > 10) return GoQuote(t.val.substr(0, 10)) + "...";
    return GoQuote(t.val);
  }

  bool Unexpected(const Token& t, std::string_view context) {
    if (t.type == Tok::kError) return Fail(t.val, t.pos);
    return Fail("unexpected " + TokenString(t) + " in " + std::string(context), t.pos);
  }

  bool Expect(Tok type, std::string_view context, const Token** out = nullptr) {
    const Token& t = NextNonSpace();
    if (t.type != type) return Unexpected(t, context);
    if (out) *out = &t;
    return true;
  }

  bool ParseTop() {
    while (Peek().type != Tok::kEOF) {
      if (Peek().type == Tok::kLeftDelim) {
        size_t save = idx_;
        Next();
        if (NextNonSpace().type == Tok::kDefine) {
          if (!ParseDefinition()) return false;
          continue;
        }
        idx_ = save;
      }
      NodePtr n;
      int end_kind = 0;
      if (!TextOrAction(&n, &end_kind)) return false;
      if (end_kind != 0) {
        return Fail(std::string("unexpected ") + (end_kind == 1 ? "{{end}}" : "{{else}}"),
                    end_pos_);
      }
      trees_[0]->root->nodes.push_back(std::move(n));
    }
    if (Peek().type == Tok::kEOF && !toks_.empty()) return true;
    return true;
  }

  bool ParseDefinition() {
    const Token& name_tok = NextNonSpace();
    if (name_tok.type != Tok::kString && name_tok.type != Tok::kRawString) {
      return Unexpected(name_tok, "define clause");
    }
    std::string name;
    if (!UnquoteToken(name_tok, &name)) return false;
    if (!Expect(Tok::kRightDelim, "define clause")) return false;
    Tree* saved = cur_;
    auto tree = NewTree(name);
    cur_ = tree.get();
    auto saved_vars = std::move(vars_);
    vars_ = {"$"};
    int end_kind = 0;
    if (!ItemList(&tree->root, &end_kind)) return false;
    if (end_kind != 1) return Fail("unexpected {{else}} in define clause", end_pos_);
    vars_ = std::move(saved_vars);
    cur_ = saved;
    return AddTree(std::move(tree));
  }

  bool AddTree(std::unique_ptr<Tree> tree) {
    for (auto& t : trees_) {
      if (t->name == tree->name && &t != &trees_[0]) {
        if (IsEmptyList(*t->root)) {
          t = std::move(tree);
          return true;
        }
        if (!IsEmptyList(*tree->root)) {
          return Fail("template: multiple definition of template " + GoQuote(tree->name));
        }
        return true;
      }
    }
    trees_.push_back(std::move(tree));
    return true;
  }

  static bool IsEmptyList(const ListNode& l) {
    for (const auto& n : l.nodes) {
      if (n->type != NodeType::kText) return false;
      const auto& s = static_cast<const TextNode&>(*n).text;
      if (!std::all_of(s.begin(), s.end(), IsSpace)) return false;
    }
    return true;
  }

  // end_kind: 0 normal node, 1 {{end}}, 2 {{else}}.
  bool ItemList(std::unique_ptr<ListNode>* list, int* end_kind) {
    *list = std::make_unique<ListNode>(PeekNonSpace().pos, cur_);
    while (PeekNonSpace().type != Tok::kEOF) {
      NodePtr n;
      int kind = 0;
      if (!TextOrAction(&n, &kind)) return false;
      if (kind != 0) {
        *end_kind = kind;
        return true;
      }
      (*list)->nodes.push_back(std::move(n));
    }
    if (Peek().type == Tok::kError) return Unexpected(Peek(), "input");
    return Fail("unexpected EOF", Peek().pos);
  }

  bool TextOrAction(NodePtr* out, int* end_kind) {
    const Token& t = NextNonSpace();
    switch (t.type) {
      case Tok::kText:
        *out = std::make_unique<TextNode>(t.pos, cur_, t.val);
        return true;
      case Tok::kLeftDelim:
        return Action(out, end_kind);
      default:
        return Unexpected(t, "input");
    }
  }

  bool Action(NodePtr* out, int* end_kind) {
    const Token& t = NextNonSpace();
    switch (t.type) {
      case Tok::kBlock:
        return BlockControl(out);
      case Tok::kBreak:
      case Tok::kContinue: {
        const bool brk = t.type == Tok::kBreak;
        const int pos = t.pos;
        const Token& n = NextNonSpace();
        if (n.type != Tok::kRightDelim) return Unexpected(n, brk ? "{{break}}" : "{{continue}}");
        if (range_depth_ == 0) {
          return Fail(brk ? "{{break}} outside {{range}}" : "{{continue}} outside {{range}}", pos);
        }
        *out = std::make_unique<Node>(brk ? NodeType::kBreak : NodeType::kContinue, pos, cur_);
        return true;
      }
      case Tok::kElse: {
        end_pos_ = t.pos;
        const Token& p = PeekNonSpace();
        if (p.type != Tok::kIf && p.type != Tok::kWith) {
          if (!Expect(Tok::kRightDelim, "else")) return false;
        }
        *end_kind = 2;
        return true;
      }
      case Tok::kEnd:
        end_pos_ = t.pos;
        if (!Expect(Tok::kRightDelim, "end")) return false;
        *end_kind = 1;
        return true;
      case Tok::kIf:
        return Control(NodeType::kIf, "if", out);
      case Tok::kRange:
        return Control(NodeType::kRange, "range", out);
      case Tok::kWith:
        return Control(NodeType::kWith, "with", out);
      case Tok::kTemplate:
        return TemplateControl(out);
      default:
        break;
    }
    Backup();
    const int pos = PeekNonSpace().pos;
    auto action = std::make_unique<ActionNode>(pos, cur_);
    if (!Pipeline("command", Tok::kRightDelim, &action->pipe)) return false;
    *out = std::move(action);
    return true;
  }

  bool Control(NodeType type, std::string_view context, NodePtr* out) {
    const size_t vars_mark = vars_.size();
    auto node = std::make_unique<BranchNode>(type, 0, cur_);
    if (!Pipeline(context, Tok::kRightDelim, &node->pipe)) return false;
    node->pos = node->pipe->pos;
    if (type == NodeType::kRange) ++range_depth_;
    int end_kind = 0;
    if (!ItemList(&node->list, &end_kind)) return false;
    if (type == NodeType::kRange) --range_depth_;
    if (end_kind == 2) {
      const int else_pos = end_pos_;
      if (type == NodeType::kIf && PeekNonSpace().type == Tok::kIf) {
        NextNonSpace();
        node->else_list = std::make_unique<ListNode>(else_pos, cur_);
        NodePtr inner;
        if (!Control(NodeType::kIf, "if", &inner)) return false;
        node->else_list->nodes.push_back(std::move(inner));
      } else if (type == NodeType::kWith && PeekNonSpace().type == Tok::kWith) {
        NextNonSpace();
        node->else_list = std::make_unique<ListNode>(else_pos, cur_);
        NodePtr inner;
        if (!Control(NodeType::kWith, "with", &inner)) return false;
        node->else_list->nodes.push_back(std::move(inner));
      } else {
        int k = 0;
        if (!ItemList(&node->else_list, &k)) return false;
        if (k != 1) return Fail("expected end; found {{else}}", end_pos_);
      }
    }
    vars_.resize(vars_mark);
    *out = std::move(node);
    return true;
  }

  bool TemplateName(const Token& t, std::string_view context, std::string* name) {
    if (t.type != Tok::kString && t.type != Tok::kRawString) return Unexpected(t, context);
    return UnquoteToken(t, name);
  }

  bool TemplateControl(NodePtr* out) {
    const Token& t = NextNonSpace();
    auto node = std::make_unique<TemplateNode>(t.pos, cur_);
    if (!TemplateName(t, "template clause", &node->name)) return false;
    if (NextNonSpace().type != Tok::kRightDelim) {
      Backup();
      if (!Pipeline("template clause", Tok::kRightDelim, &node->pipe)) return false;
    }
    *out = std::move(node);
    return true;
  }

  bool BlockControl(NodePtr* out) {
    const Token& t = NextNonSpace();
    auto node = std::make_unique<TemplateNode>(t.pos, cur_);
    if (!TemplateName(t, "block clause", &node->name)) return false;
    if (!Pipeline("block clause", Tok::kRightDelim, &node->pipe)) return false;
    Tree* saved = cur_;
    auto tree = NewTree(node->name);
    cur_ = tree.get();
    auto saved_vars = std::move(vars_);
    const int saved_depth = range_depth_;
    vars_ = {"$"};
    range_depth_ = 0;
    int end_kind = 0;
    if (!ItemList(&tree->root, &end_kind)) return false;
    if (end_kind != 1) return Fail("unexpected {{else}} in block clause", end_pos_);
    vars_ = std::move(saved_vars);
    range_depth_ = saved_depth;
    cur_ = saved;
    if (!AddTree(std::move(tree))) return false;
    *out = std::move(node);
    return true;
  }

  bool Pipeline(std::string_view context, Tok end, std::unique_ptr<PipeNode>* out) {
    auto pipe = std::make_unique<PipeNode>(PeekNonSpace().pos, cur_);
    // Declarations: `$x :=`, `$x =`, and in range `$i, $v :=`.
    while (PeekNonSpace().type == Tok::kVariable) {
      const size_t save = idx_;
      const Token& v = NextNonSpace();
      const Token& after_var = Peek();
      const Token& next = PeekNonSpace();
      if (next.type == Tok::kAssign || next.type == Tok::kDeclare) {
        pipe->is_assign = next.type == Tok::kAssign;
        NextNonSpace();
        pipe->decl.push_back(NewVariable(v.pos, v.val));
        vars_.push_back(v.val);
        break;
      }
      if (next.type == Tok::kChar && next.val == ",") {
        NextNonSpace();
        pipe->decl.push_back(NewVariable(v.pos, v.val));
        vars_.push_back(v.val);
        if (context == "range" && pipe->decl.size() < 2) {
          Tok p = PeekNonSpace().type;
          if (p == Tok::kVariable || p == Tok::kRightDelim || p == Tok::kRightParen) continue;
          return Fail("range can only initialize variables");
        }
        return Fail("too many declarations in " + std::string(context));
      }
      (void)after_var;
      idx_ = save;
      break;
    }
    while (true) {
      const Token& t = NextNonSpace();
      if (t.type == end) {
        if (pipe->cmds.empty()) return Fail("missing value for " + std::string(context), t.pos);
        for (size_t i = 1; i < pipe->cmds.size(); ++i) {
          NodeType first = pipe->cmds[i]->args[0]->type;
          if (first == NodeType::kBool || first == NodeType::kDot || first == NodeType::kNil ||
              first == NodeType::kNumber || first == NodeType::kString) {
            return Fail("non executable command in pipeline stage " + std::to_string(i + 1),
                        pipe->cmds[i]->pos);
          }
        }
        *out = std::move(pipe);
        return true;
      }
      switch (t.type) {
        case Tok::kBool:
        case Tok::kCharConstant:
        case Tok::kDot:
        case Tok::kField:
        case Tok::kIdentifier:
        case Tok::kNumber:
        case Tok::kNil:
        case Tok::kRawString:
        case Tok::kString:
        case Tok::kVariable:
        case Tok::kLeftParen: {
          Backup();
          std::unique_ptr<CommandNode> cmd;
          if (!Command(&cmd)) return false;
          pipe->cmds.push_back(std::move(cmd));
          break;
        }
        default:
          return Unexpected(t, context);
      }
    }
  }

  bool Command(std::unique_ptr<CommandNode>* out) {
    auto cmd = std::make_unique<CommandNode>(PeekNonSpace().pos, cur_);
    while (true) {
      PeekNonSpace();
      NodePtr operand;
      if (!Operand(&operand)) return false;
      if (operand) cmd->args.push_back(std::move(operand));
      const Token& t = Next();
      if (t.type == Tok::kSpace) continue;
      if (t.type == Tok::kRightDelim || t.type == Tok::kRightParen) {
        Backup();
      } else if (t.type != Tok::kPipe) {
        return Unexpected(t, "operand");
      }
      break;
    }
    if (cmd->args.empty()) return Fail("empty command");
    *out = std::move(cmd);
    return true;
  }

  std::unique_ptr<VariableNode> NewVariable(int pos, std::string_view ident) {
    auto v = std::make_unique<VariableNode>(pos, cur_);
    size_t start = 0;
    // "$x.A.B" -> ["$x", "A", "B"].
    while (true) {
      size_t dot = ident.find('.', start);
      v->ident.emplace_back(ident.substr(start, dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    return v;
  }

  bool Operand(NodePtr* out) {
    NodePtr node;
    if (!Term(&node)) return false;
    if (!node) return true;
    if (Peek().type == Tok::kField) {
      const int chain_pos = Peek().pos;
      std::vector<std::string> fields;
      while (Peek().type == Tok::kField) fields.push_back(Next().val.substr(1));
      switch (node->type) {
        case NodeType::kField: {
          auto* f = static_cast<FieldNode*>(node.get());
          f->pos = chain_pos;
          for (auto& s : fields) f->ident.push_back(std::move(s));
          break;
        }
        case NodeType::kVariable: {
          auto* v = static_cast<VariableNode*>(node.get());
          v->pos = chain_pos;
          for (auto& s : fields) v->ident.push_back(std::move(s));
          break;
        }
        case NodeType::kBool:
        case NodeType::kString:
        case NodeType::kNumber:
        case NodeType::kNil:
        case NodeType::kDot:
          return Fail("unexpected . after term " + GoQuote(NodeString(*node)), chain_pos);
        default: {
          auto chain = std::make_unique<ChainNode>(chain_pos, cur_);
          chain->node = std::move(node);
          chain->field = std::move(fields);
          node = std::move(chain);
        }
      }
    }
    *out = std::move(node);
    return true;
  }

  bool Term(NodePtr* out) {
    const Token& t = NextNonSpace();
    switch (t.type) {
      case Tok::kIdentifier: {
        const FunctionDef* fn = funcs_.Find(t.val);
        if (fn == nullptr) return Fail("function " + GoQuote(t.val) + " not defined", t.pos);
        auto id = std::make_unique<IdentifierNode>(t.pos, cur_);
        id->name = t.val;
        id->fn = fn;
        *out = std::move(id);
        return true;
      }
      case Tok::kDot:
        *out = std::make_unique<Node>(NodeType::kDot, t.pos, cur_);
        return true;
      case Tok::kNil:
        *out = std::make_unique<Node>(NodeType::kNil, t.pos, cur_);
        return true;
      case Tok::kVariable: {
        if (std::find(vars_.begin(), vars_.end(), t.val) == vars_.end()) {
          return Fail("undefined variable " + GoQuote(t.val), t.pos);
        }
        *out = NewVariable(t.pos, t.val);
        return true;
      }
      case Tok::kField: {
        auto f = std::make_unique<FieldNode>(t.pos, cur_);
        f->ident.push_back(t.val.substr(1));
        *out = std::move(f);
        return true;
      }
      case Tok::kBool:
        *out = std::make_unique<BoolNode>(t.pos, cur_, t.val == "true");
        return true;
      case Tok::kNumber:
      case Tok::kCharConstant:
        return Number(t, out);
      case Tok::kLeftParen: {
        std::unique_ptr<PipeNode> pipe;
        if (!Pipeline("parenthesized pipeline", Tok::kRightParen, &pipe)) return false;
        *out = std::move(pipe);
        return true;
      }
      case Tok::kString:
      case Tok::kRawString: {
        auto s = std::make_unique<StringNode>(t.pos, cur_);
        s->quoted = t.val;
        std::string v;
        if (!UnquoteToken(t, &v)) return false;
        s->value = Value(std::move(v));
        *out = std::move(s);
        return true;
      }
      default:
        Backup();
        return true;
    }
  }

  bool UnquoteToken(const Token& t, std::string* out) {
    if (t.type == Tok::kRawString) {
      std::string_view body = std::string_view(t.val).substr(1, t.val.size() - 2);
      out->clear();
      for (char c : body) {
        if (c != '\r') out->push_back(c);  // Go drops carriage returns in raw strings
      }
      return true;
    }
    std::string_view body = std::string_view(t.val).substr(1, t.val.size() - 2);
    out->clear();
    if (!UnquoteBody(body, '"', out)) return Fail("invalid syntax", t.pos);
    return true;
  }

  bool Number(const Token& t, NodePtr* out) {
    auto n = std::make_unique<NumberNode>(t.pos, cur_);
    n->text = t.val;
    if (t.type == Tok::kCharConstant) {
      std::string body;
      std::string_view b = std::string_view(t.val).substr(1, t.val.size() - 2);
      if (!UnquoteBody(b, '\'', &body) || body.empty()) {
        return Fail("malformed character constant: " + t.val, t.pos);
      }
      size_t len = 0;
      uint32_t r = DecodeRune(body, &len);
      if (len != body.size()) return Fail("malformed character constant: " + t.val, t.pos);
      n->value = Value(static_cast<int64_t>(r));
      *out = std::move(n);
      return true;
    }
    std::string s;
    for (char c : t.val) {
      if (c != '_') s.push_back(c);
    }
    if (!s.empty() && s.back() == 'i') return Fail("complex numbers are not supported", t.pos);
    const bool has_float_chars = s.find_first_of(".eEpP") != std::string::npos &&
                                 !(s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
                                   s.find_first_of(".pP") == std::string::npos);
    if (!has_float_chars) {
      // Integer: decimal, 0x, 0o, 0b, or a leading-0 octal.
      std::string digits = s;
      bool neg = false;
      if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
        neg = digits[0] == '-';
        digits.erase(0, 1);
      }
      int base = 10;
      if (digits.size() > 1 && digits[0] == '0') {
        char p = digits[1];
        if (p == 'x' || p == 'X') {
          base = 16;
          digits.erase(0, 2);
        } else if (p == 'o' || p == 'O') {
          base = 8;
          digits.erase(0, 2);
        } else if (p == 'b' || p == 'B') {
          base = 2;
          digits.erase(0, 2);
        } else {
          base = 8;
          digits.erase(0, 1);
        }
      }
      errno = 0;
      char* end = nullptr;
      unsigned long long u = std::strtoull(digits.c_str(), &end, base);
      if (digits.empty() || *end != '\0') {
        return Fail("illegal number syntax: " + GoQuote(t.val), t.pos);
      }
      if (errno == ERANGE || u > (neg ? 9223372036854775808ULL : 9223372036854775807ULL)) {
        return Fail(t.val + " overflows int", t.pos);
      }
      n->value = Value(neg ? static_cast<int64_t>(0 - u) : static_cast<int64_t>(u));
      *out = std::move(n);
      return true;
    }
    errno = 0;
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (*end != '\0' || s.empty() || (errno == ERANGE && std::isinf(d))) {
      return Fail("illegal number syntax: " + GoQuote(t.val), t.pos);
    }
    n->value = Value(d);
    *out = std::move(n);
    return true;
  }

  std::string name_;
  std::shared_ptr<const std::string> text_;
  const FuncMap& funcs_;
  std::vector<Token> toks_;
  size_t idx_ = 0;
  const Token* last_ = nullptr;
  Tree* cur_ = nullptr;
  std::vector<std::unique_ptr<Tree>> trees_;
  std::vector<std::string> vars_{"$"};
  int range_depth_ = 0;
  int end_pos_ = 0;
  bool failed_ = false;
  ParseFailure fail_;
};

void LineCol(const std::string& text, int pos, int* line, int* col0) {
  pos = std::clamp(pos, 0, static_cast<int>(text.size()));
  std::string_view before(text.data(), static_cast<size_t>(pos));
  *line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
  size_t nl = before.rfind('\n');
  *col0 = nl == std::string_view::npos ? pos : pos - static_cast<int>(nl) - 1;
}

void AppendNode(std::string& out, const Node& n);

void AppendPipe(std::string& out, const PipeNode& p) {
  if (!p.decl.empty()) {
    for (size_t i = 0; i < p.decl.size(); ++i) {
      if (i) out += ", ";
      AppendNode(out, *p.decl[i]);
    }
    out += p.is_assign ? " = " : " := ";
  }
  for (size_t i = 0; i < p.cmds.size(); ++i) {
    if (i) out += " | ";
    AppendNode(out, *p.cmds[i]);
  }
}

void AppendList(std::string& out, const ListNode& l) {
  for (const auto& n : l.nodes) AppendNode(out, *n);
}

void AppendNode(std::string& out, const Node& n) {
  switch (n.type) {
    case NodeType::kList:
      AppendList(out, static_cast<const ListNode&>(n));
      return;
    case NodeType::kText:
      out += static_cast<const TextNode&>(n).text;
      return;
    case NodeType::kComment:
      return;
    case NodeType::kAction:
      out += "{{";
      AppendPipe(out, *static_cast<const ActionNode&>(n).pipe);
      out += "}}";
      return;
    case NodeType::kIf:
    case NodeType::kRange:
    case NodeType::kWith: {
      const auto& b = static_cast<const BranchNode&>(n);
      out += n.type == NodeType::kIf      ? "{{if "
             : n.type == NodeType::kRange ? "{{range "
                                          : "{{with ";
      AppendPipe(out, *b.pipe);
      out += "}}";
      AppendList(out, *b.list);
      if (b.else_list) {
        out += "{{else}}";
        AppendList(out, *b.else_list);
      }
      out += "{{end}}";
      return;
    }
    case NodeType::kTemplate: {
      const auto& t = static_cast<const TemplateNode&>(n);
      out += "{{template " + GoQuote(t.name);
      if (t.pipe) {
        out += " ";
        AppendPipe(out, *t.pipe);
      }
      out += "}}";
      return;
    }
    case NodeType::kBreak:
      out += "{{break}}";
      return;
    case NodeType::kContinue:
      out += "{{continue}}";
      return;
    case NodeType::kPipe:
      AppendPipe(out, static_cast<const PipeNode&>(n));
      return;
    case NodeType::kCommand: {
      const auto& c = static_cast<const CommandNode&>(n);
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (i) out += " ";
        if (c.args[i]->type == NodeType::kPipe) {
          out += "(";
          AppendNode(out, *c.args[i]);
          out += ")";
        } else {
          AppendNode(out, *c.args[i]);
        }
      }
      return;
    }
    case NodeType::kField:
      for (const auto& f : static_cast<const FieldNode&>(n).ident) out += "." + f;
      return;
    case NodeType::kVariable: {
      const auto& v = static_cast<const VariableNode&>(n);
      for (size_t i = 0; i < v.ident.size(); ++i) {
        if (i) out += ".";
        out += v.ident[i];
      }
      return;
    }
    case NodeType::kChain: {
      const auto& c = static_cast<const ChainNode&>(n);
      if (c.node->type == NodeType::kPipe) {
        out += "(";
        AppendNode(out, *c.node);
        out += ")";
      } else {
        AppendNode(out, *c.node);
      }
      for (const auto& f : c.field) out += "." + f;
      return;
    }
    case NodeType::kIdentifier:
      out += static_cast<const IdentifierNode&>(n).name;
      return;
    case NodeType::kDot:
      out += ".";
      return;
    case NodeType::kNil:
      out += "nil";
      return;
    case NodeType::kBool:
      out += static_cast<const BoolNode&>(n).value ? "true" : "false";
      return;
    case NodeType::kNumber:
      out += static_cast<const NumberNode&>(n).text;
      return;
    case NodeType::kString:
      out += static_cast<const StringNode&>(n).quoted;
      return;
  }
}

}  // namespace

std::string ParseError::ToString() const {
  return "template: " + template_name + ":" + std::to_string(line) + ":" + std::to_string(column) +
         ": " + message;
}

Result<std::vector<std::unique_ptr<Tree>>> Parse(std::string_view name, std::string_view text,
                                                 const FuncMap& funcs, ParseError* error) {
  auto owned = std::make_shared<const std::string>(text);
  Parser p(name, owned, funcs);
  std::vector<std::unique_ptr<Tree>> trees;
  ParseFailure fail;
  if (!p.Run(&trees, &fail)) {
    ParseError e;
    e.template_name = std::string(name);
    int col0 = 0;
    LineCol(*owned, fail.pos, &e.line, &col0);
    e.column = col0 + 1;
    e.message = fail.message;
    if (error) *error = e;
    return Status::InvalidArgument(e.ToString());
  }
  return trees;
}

std::string NodeString(const Node& n) {
  std::string out;
  AppendNode(out, n);
  return out;
}

void ErrorContext(const Node& n, std::string* location, std::string* context) {
  int line = 1;
  int col = 0;
  const Tree* tree = n.tree;
  if (tree != nullptr && tree->text) LineCol(*tree->text, n.pos, &line, &col);
  *location = (tree ? tree->parse_name : std::string()) + ":" + std::to_string(line) + ":" +
              std::to_string(col);
  // Go's ErrorContext as built into Prometheus 2.42 and Alertmanager 0.25 prints the whole
  // node (later Go releases cut it to 20 bytes).
  *context = NodeString(n);
}

}  // namespace alertd::templating::internal
