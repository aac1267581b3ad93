// The parser's whole public face: Spirit X3 stays in grammar/src.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "actsearch/grammar/expr.hpp"

namespace actsearch {

enum class Notation { Infix, AquaSurf };

struct ParseError {
    std::string message;   // one line, no trailing newline: "expected ')'", "unknown function 'sigmod'"
    std::size_t position;  // byte offset into the input where the problem was found
    // "error: <message> at column N\n  <input excerpt>\n  <caret>": for the CLI's stderr (multi-line).
    std::string pretty(std::string_view input) const;
};

struct ParseResult {
    std::variant<Expr, ParseError> value;
    bool ok() const noexcept { return value.index() == 0; }
    const Expr& expr() const { return std::get<Expr>(value); }
    const ParseError& error() const { return std::get<ParseError>(value); }
};

// Infix: numbers, x, beta, beta2.., + - * / ^, unary minus, parentheses, name(a) and name(a, b).
// In space templates, x1 and x2 name arguments 0 and 1 (`x` is argument 0). A trainable parameter may
// carry its initial value, `beta(0.25)`, `beta3(-1)` (a number literal, finite in float); written at
// one use it holds for all uses of that parameter, two different values are an error, and a parameter
// whose value is written nowhere starts at 1 (`beta(1)` and `beta` are the same Expr).
// Never throws, never recurses without bound: nesting deeper than kMaxDepth is an error.
ParseResult parse(std::string_view input, Notation notation = Notation::Infix);

inline constexpr std::size_t kMaxInputBytes = 64 * 1024;
inline constexpr int kMaxDepth = 256;

}  // namespace actsearch
