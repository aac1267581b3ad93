// Test helpers for the tests that link the grammar: expressions and programs written as text.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/program.hpp"

namespace actsearch::test {

// The expression a test writes as text. A text that does not parse is a mistake in the test: it throws
// with the parser's message, which fails the test.
inline Expr parsed(std::string_view text) {
    ParseResult r = parse(text);
    if (!r.ok())
        throw std::runtime_error("test expression '" + std::string(text) + "' does not parse: " + r.error().message);
    return r.expr();
}

// Its compiled program (the activation as a network runs it).
inline Program compiled(std::string_view text) { return Program(parsed(text)); }

}  // namespace actsearch::test
