// The PromQL lexer (internal to the parser; exposed for tests). It reproduces Prometheus
// 2.42's promql/parser/lex.go token for token, including where and with which message it
// fails, because the parser's error positions depend on it.
//
// Written by hand rather than with a regex or a generator: PromQL's lexing is modal (inside
// braces keywords are plain identifiers; after `[` a duration is expected; parentheses and
// brackets are counted), and no C++ library lexes PromQL.
//
// A Lexer is used by one thread; it only reads the input it was given, which must outlive it.
#pragma once

#include <string>
#include <string_view>

namespace alertd::promql {

enum class TokenType {
  kError,  // `text` holds the message
  kEof,
  kComment,
  kIdentifier,
  kMetricIdentifier,  // an identifier with a colon
  kNumber,
  kString,
  kDuration,
  kLeftParen, kRightParen, kLeftBrace, kRightBrace, kLeftBracket, kRightBracket,
  kComma, kEql, kColon, kAt,
  // Operators.
  kAdd, kSub, kMul, kDiv, kMod, kPow, kEqlc, kNeq, kLte, kLss, kGte, kGtr,
  kEqlRegex, kNeqRegex, kLand, kLor, kLunless, kAtan2,
  // Aggregators.
  kAvg, kBottomk, kCount, kCountValues, kGroup, kMax, kMin, kQuantile, kStddev, kStdvar,
  kSum, kTopk,
  // Keywords.
  kBool, kBy, kGroupLeft, kGroupRight, kIgnoring, kOffset, kOn, kWithout,
  // @ modifier preprocessors.
  kStart, kEnd,
};

bool IsAggregatorToken(TokenType t);
bool IsKeywordToken(TokenType t);
bool IsOperatorToken(TokenType t);

struct Token {
  TokenType type = TokenType::kEof;
  int pos = 0;            // byte offset of the first byte
  std::string_view text;  // the source text (for kError: empty, see Lexer::error())
  int end() const { return pos + static_cast<int>(text.size()); }
};

// How Prometheus names a token in "unexpected ..." messages: `<op:+>`, `<aggr:sum>`, `<by>`,
// `identifier "foo"`, `number "1"`, `","`, `end of input`.
std::string DescribeToken(const Token& t);

class Lexer {
 public:
  explicit Lexer(std::string_view input) : input_(input) {}

  // The next token; after kError or kEof, kEof forever.
  Token Next();

  // The message of the last kError token.
  const std::string& error() const { return error_; }

 private:
  enum class State { kStatements, kInsideBraces, kDone };


  int NextRune();  // -1 at end; a bad UTF-8 byte reads as U+FFFD with width 1
  int Peek();
  void Backup() { pos_ -= width_; }
  bool Accept(std::string_view valid);
  void AcceptRun(std::string_view valid);
  Token Emit(TokenType t);
  Token Errorf(std::string msg);

  Token LexStatements();
  Token LexInsideBraces();
  Token LexString();
  Token LexRawString();
  Token LexEscape();  // returns a kEof token with pos -1 when the escape is fine
  Token LexLineComment();
  Token LexDuration();
  Token LexNumberOrDuration();
  Token LexKeywordOrIdentifier();
  Token LexIdentifier();
  bool ScanNumber();
  bool AcceptRemainingDuration();
  void SkipSpaces();

  std::string_view input_;
  State state_ = State::kStatements;
  int pos_ = 0;
  int start_ = 0;
  int width_ = 0;
  int paren_depth_ = 0;
  bool bracket_open_ = false;
  bool got_colon_ = false;
  bool pending_duration_ = false;  // a `[` was just emitted: a duration must follow
  int string_open_ = 0;
  std::string error_;
};

// Go's strconv.QuoteRune (`'a'`, `'\n'`, `'�'` for -1) and fmt's %#U (`U+0041 'A'`).
std::string GoQuoteRune(int r);
std::string GoRuneU(int r);

}  // namespace alertd::promql
