// to_infix: the postfix array is printed with a stack of (text, precedence) pieces, so printing is one
// loop whatever the depth of the tree, and a child is parenthesised only when the parser would
// otherwise read it differently.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "actsearch/grammar/print.hpp"

namespace actsearch {
namespace {

// Binding strength of what a piece's text is, loosest first (a function call or a name is an atom).
enum Precedence : int { kSum = 1, kProduct = 2, kUnary = 3, kPower = 4, kAtom = 5 };

struct Piece {
    std::string text;
    int precedence;
};

// Shortest text that reads back to the same double. Non-finite constants (only programs build them;
// the parser rejects such literals) print as inf/nan and do not read back.
Piece number(double v) {
    if (std::isnan(v)) return {"nan", kAtom};
    if (std::isinf(v)) return {v < 0 ? "-inf" : "inf", v < 0 ? kUnary : kAtom};
    std::string text = fmt::format("{}", v);
    // A negative literal reads as unary minus applied to a number: it binds like unary minus.
    return {std::move(text), std::signbit(v) ? kUnary : kAtom};
}

std::string parenthesised(Piece piece, int at_least) {
    if (piece.precedence >= at_least) return std::move(piece.text);
    std::string text;
    text.reserve(piece.text.size() + 2);
    text += '(';
    text += piece.text;
    text += ')';
    return text;
}

}  // namespace

std::string to_infix(const Expr& e) {
    if (e.empty()) return {};
    // Binary templates name their first argument x1 (x2 is the second); elsewhere it is plain x.
    const bool two_arguments =
        std::any_of(e.nodes.begin(), e.nodes.end(), [](const Node& n) { return n.op == Op::X && n.index > 0; });

    std::vector<Piece> stack;
    for (const Node& n : e.nodes) {
        const OpInfo& info = op_info(n.op);
        if (n.arity > stack.size()) return "<malformed expression>";
        switch (n.op) {
            case Op::X:
                stack.push_back({n.index == 0 && !two_arguments ? std::string("x") : fmt::format("x{}", n.index + 1),
                                 kAtom});
                continue;
            case Op::Const: stack.push_back(number(n.value)); continue;
            case Op::Beta: {
                // The initial value when it is not the default: beta(0.25); `beta` alone starts at 1.
                std::string name = n.index == 0 ? std::string("beta") : fmt::format("beta{}", n.index + 1);
                if (std::bit_cast<std::uint64_t>(n.value) != std::bit_cast<std::uint64_t>(kBetaDefaultInitial))
                    name = fmt::format("{}({})", name, number(n.value).text);
                stack.push_back({std::move(name), kAtom});
                continue;
            }
            default: break;
        }
        if (n.arity == 1) {
            Piece& operand = stack.back();
            switch (n.op) {
                case Op::Neg: {
                    std::string text = parenthesised(std::move(operand), kUnary);
                    text.insert(text.begin(), '-');
                    operand = {std::move(text), kUnary};
                    break;
                }
                case Op::Square:
                case Op::Cube:
                case Op::Pow: {
                    // x^a^b reads as x^(a^b): a power as base needs parentheses, as does a negative one.
                    const std::string exponent = n.op == Op::Square ? "2"
                                                 : n.op == Op::Cube ? "3"
                                                                    : number(n.value).text;
                    operand.text = parenthesised(std::move(operand), kAtom) + "^" + exponent;
                    operand.precedence = kPower;
                    break;
                }
                default:
                    operand.text = fmt::format("{}({})", info.name, operand.text);
                    operand.precedence = kAtom;
                    break;
            }
            continue;
        }
        Piece right = std::move(stack.back());
        stack.pop_back();
        Piece& left = stack.back();
        if (info.symbol.empty()) {  // max, min
            left.text = fmt::format("{}({}, {})", info.name, left.text, right.text);
            left.precedence = kAtom;
            continue;
        }
        // Left-associative: the right operand must bind strictly tighter than the operator.
        const bool sum = n.op == Op::Add || n.op == Op::Sub;
        const int own = sum ? kSum : kProduct;
        std::string text = parenthesised(std::move(left), own);
        text += sum ? fmt::format(" {} ", info.symbol) : std::string(info.symbol);
        text += parenthesised(std::move(right), own + 1);
        left = {std::move(text), own};
    }
    if (stack.size() != 1) return "<malformed expression>";
    return std::move(stack.back().text);
}

std::string canonical_string(const Expr& e) { return to_infix(canonicalize(e)); }

}  // namespace actsearch
