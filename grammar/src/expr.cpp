#include "actsearch/grammar/expr.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace actsearch {

int Expr::beta_count() const noexcept {
    int count = 0;
    for (const Node& n : nodes)
        if (n.op == Op::Beta) count = std::max(count, n.index + 1);
    return count;
}

std::vector<double> Expr::beta_initial_values() const {
    std::vector<double> values(static_cast<std::size_t>(beta_count()), kBetaDefaultInitial);
    std::vector<bool> seen(values.size(), false);
    for (const Node& n : nodes) {
        if (n.op != Op::Beta || seen[n.index]) continue;
        seen[n.index] = true;
        values[n.index] = n.value;
    }
    return values;
}

bool Expr::fix_lengths() {
    // Postfix is a stack machine: each node pops its children's subtree sizes and pushes its own.
    std::vector<std::size_t> sizes;
    sizes.reserve(nodes.size());
    for (Node& n : nodes) {
        if (static_cast<int>(n.op) >= kOpCount || n.arity != op_info(n.op).arity) return false;
        if (sizes.size() < n.arity) return false;
        std::size_t length = 1;
        for (int k = 0; k < n.arity; ++k) {
            length += sizes.back();
            sizes.pop_back();
        }
        if (length > std::numeric_limits<std::uint16_t>::max()) return false;
        n.length = static_cast<std::uint16_t>(length);
        sizes.push_back(length);
    }
    return sizes.size() == 1;
}

namespace {

Node leaf(Op op, int index = 0, double value = 0.0) {
    Node n;
    n.op = op;
    n.arity = 0;
    n.index = static_cast<std::uint8_t>(index);
    n.length = 1;
    n.value = value;
    return n;
}

// Subtree lengths saturate at the uint16 limit; the parser rejects such inputs before building them.
std::uint16_t clamp_length(std::size_t length) {
    return static_cast<std::uint16_t>(
        std::min<std::size_t>(length, std::numeric_limits<std::uint16_t>::max()));
}

}  // namespace

Expr make_leaf_x(int index) { return Expr{{leaf(Op::X, index)}}; }

Expr make_const(double v) { return Expr{{leaf(Op::Const, 0, v)}}; }

Expr make_beta(int index, double initial) { return Expr{{leaf(Op::Beta, index, initial)}}; }

Expr make_unary(Op op, Expr a, double value) {
    Node n;
    n.op = op;
    n.arity = 1;
    n.length = clamp_length(a.size() + 1);
    n.value = value;
    a.nodes.push_back(n);
    return a;
}

Expr make_binary(Op op, Expr a, Expr b) {
    Node n;
    n.op = op;
    n.arity = 2;
    n.length = clamp_length(a.size() + b.size() + 1);
    a.nodes.insert(a.nodes.end(), b.nodes.begin(), b.nodes.end());
    a.nodes.push_back(n);
    return a;
}

Expr substitute(const Expr& tmpl, const std::vector<Expr>& args) {
    Expr out;
    out.nodes.reserve(tmpl.size());
    for (const Node& n : tmpl.nodes) {
        if (n.op == Op::X && n.index < args.size()) {
            const auto& arg = args[n.index].nodes;
            out.nodes.insert(out.nodes.end(), arg.begin(), arg.end());
        } else {
            out.nodes.push_back(n);
        }
    }
    // Ancestors of a substituted leaf grow; children-before-parent order is unchanged.
    out.fix_lengths();
    return out;
}

Expr split_betas(const Expr& e) {
    Expr out = e;
    int next = 0;
    for (Node& n : out.nodes)
        if (n.op == Op::Beta) n.index = static_cast<std::uint8_t>(std::min(next++, 255));
    return out;
}

}  // namespace actsearch
