// An expression is a flat postfix array of nodes: children come before their parent, a subtree is a
// contiguous slice ending at its root, and the root is the last node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "actsearch/grammar/ops.hpp"

namespace actsearch {

// What `beta` alone starts at: a trainable parameter initialised to 1 (as in the Swish paper).
inline constexpr double kBetaDefaultInitial = 1.0;

struct Node {
    Op op = Op::X;
    std::uint8_t arity = 0;
    std::uint8_t index = 0;      // Op::X: argument index (x/x1 = 0, x2 = 1); Op::Beta: beta number (0 = beta)
    std::uint16_t length = 1;    // nodes in the subtree rooted here, this one included
    // Op::Const: the literal; Op::Pow: the exponent; Op::Beta: the parameter's initial value (1 unless
    // written, `beta(0.25)`; every node of one beta number carries the same value, see beta_initial_values)
    double value = 0.0;

    friend bool operator==(const Node&, const Node&) = default;
};

struct Expr {
    std::vector<Node> nodes;  // postfix; root = nodes.back()

    bool empty() const noexcept { return nodes.empty(); }
    std::size_t size() const noexcept { return nodes.size(); }
    // Number of distinct beta parameters: 1 + the largest Beta index, 0 when none.
    int beta_count() const noexcept;
    // Initial value of each beta number 0 .. beta_count() - 1: the value of its first node in postfix
    // order (the parser makes all of a parameter's nodes agree), 1 for a number that does not occur.
    std::vector<double> beta_initial_values() const;
    // Recomputes Node::length from arities; returns false if the array is not a single well-formed tree.
    bool fix_lengths();

    friend bool operator==(const Expr&, const Expr&) = default;
};

// Builders used by the parser, the space enumerator and tests.
Expr make_leaf_x(int index = 0);
Expr make_const(double v);
Expr make_beta(int index = 0, double initial = kBetaDefaultInitial);
Expr make_unary(Op op, Expr a, double value = 0.0);
Expr make_binary(Op op, Expr a, Expr b);

// Replaces every Op::X leaf with index i by args[i] (space templates: u(x), b(x1, x2)).
Expr substitute(const Expr& tmpl, const std::vector<Expr>& args);

// Renumbers betas so that each Beta leaf is its own parameter, numbered in postfix order (0, 1, ...),
// each keeping its initial value. Used when composing space templates: every use of beta in a
// generated candidate is independent.
Expr split_betas(const Expr& e);

}  // namespace actsearch
