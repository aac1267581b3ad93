// Test helpers for the tests that link the grammar: expressions and programs written as text.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "actsearch/grammar/ops.hpp"
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

// f(x) in double precision by apply_scalar over the postfix array, with the given betas: the oracle the
// exporters and the evaluator are compared with.
inline double scalar_value(const Expr& e, double x, const std::vector<double>& beta) {
    std::vector<double> stack;
    for (const Node& n : e.nodes) {
        if (n.arity == 0) {
            stack.push_back(n.op == Op::X ? x : n.op == Op::Beta ? beta.at(n.index) : n.value);
        } else if (n.arity == 1) {
            stack.back() = apply_scalar(n.op, stack.back(), n.value);
        } else {
            const double b = stack.back();
            stack.pop_back();
            stack.back() = apply_scalar(n.op, stack.back(), b);
        }
    }
    return stack.back();
}

}  // namespace actsearch::test
