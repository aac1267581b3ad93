// An expression is a flat postfix array of nodes: children come before their parent, a subtree is a
// contiguous slice ending at its root, and the root is the last node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "actsearch/grammar/ops.hpp"

namespace actsearch {

struct Node {
    Op op = Op::X;
    std::uint8_t arity = 0;
    std::uint8_t index = 0;      // Op::X: argument index (x/x1 = 0, x2 = 1); Op::Beta: beta number (0 = beta)
    std::uint16_t length = 1;    // nodes in the subtree rooted here, this one included
    double value = 0.0;          // Op::Const: the literal; Op::Pow: the exponent

    friend bool operator==(const Node&, const Node&) = default;
};

struct Expr {
    std::vector<Node> nodes;  // postfix; root = nodes.back()

    bool empty() const noexcept { return nodes.empty(); }
    std::size_t size() const noexcept { return nodes.size(); }
    // Number of distinct beta parameters: 1 + the largest Beta index, 0 when none.
    int beta_count() const noexcept;
    // Recomputes Node::length from arities; returns false if the array is not a single well-formed tree.
    bool fix_lengths();

    friend bool operator==(const Expr&, const Expr&) = default;
};

// Builders used by the parser, the space enumerator and tests.
Expr make_leaf_x(int index = 0);
Expr make_const(double v);
Expr make_beta(int index = 0);
Expr make_unary(Op op, Expr a, double value = 0.0);
Expr make_binary(Op op, Expr a, Expr b);

// Replaces every Op::X leaf with index i by args[i] (space templates: u(x), b(x1, x2)).
Expr substitute(const Expr& tmpl, const std::vector<Expr>& args);

// Renumbers betas so that each Beta leaf is its own parameter, numbered in postfix order (0, 1, ...).
// Used when composing space templates: every use of beta in a generated candidate is independent.
Expr split_betas(const Expr& e);

}  // namespace actsearch
