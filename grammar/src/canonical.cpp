// Canonical form and structural hash.
//
// canonicalize() rebuilds the expression bottom-up in an arena of hash-consed-style nodes: every node is
// simplified once its children are canonical, rewrites return existing children by id (no copying of
// subtrees), and the result is emitted once at the end. Everything is a loop, so the depth of the tree
// costs nothing on the call stack.
//
// Rewrites (each exact in IEEE arithmetic unless marked *):
//   constant folding  a subtree without x or beta becomes its value (apply_scalar), unless the value is
//                     not finite: log(0), 1/0 stay as written so the candidate is still seen to fail
//   a + 0, 0 + a -> a        a - 0 -> a        0 - a -> -a        --a -> a
//   a * 1, a / 1 -> a        a * -1, a / -1 -> -a
//   (-a) * b, a * (-b), (-a) / b, a / (-b) -> -(a * b), -(a / b)
//   a + (-b) -> a - b        a - (-b) -> a + b      (also with negative constants: a + -2 -> a - 2)
//   a - a -> 0 *             a * 0, 0 * a -> 0 *    (* symbolic algebra: wrong for a = inf or NaN, and
//                                                    only applied when `a` depends on x or beta)
//   max(a, a), min(a, a) -> a
//   a^1 -> a, a^0 -> 1, a^2 -> square, a^3 -> cube
//   f(-a) -> f(a) for the even f: abs, square, cosh, cos, gaussian, sinc, a^p with even integer p
// then the operands of +, *, max and min are ordered (see `before`), and betas are renumbered in order
// of first appearance.
//
// Betas are variables: nothing folds them, whatever their initial value. Each keeps its initial value
// (Node::value) through renumbering; two betas with different initial values are different parameters.
// All nodes of one beta number are given the value of its first node (the parser already makes them
// agree), and -0 becomes 0. `beta(1)` and `beta` are one Expr, so they canonicalise identically, and a
// beta at the default 1 hashes exactly as before initial values existed (node_key leaves it out), so
// stored hashes of older databases stay valid.
#include <algorithm>
#include <bit>
#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "actsearch/grammar/print.hpp"
#include "actsearch/numeric/rng.hpp"

namespace actsearch {
namespace {

// SplitMix64's step as a hash: a fixed, platform-independent 64-bit mix (the hash is stored in databases).
constexpr std::uint64_t mix(std::uint64_t z) noexcept { return numeric::mix64(z + numeric::kGoldenGamma); }

bool has_value(Op op) noexcept { return op == Op::Const || op == Op::Pow || op == Op::Beta; }
bool has_index(Op op) noexcept { return op == Op::X || op == Op::Beta; }

bool is_default_initial(double value) noexcept {
    return std::bit_cast<std::uint64_t>(value) == std::bit_cast<std::uint64_t>(kBetaDefaultInitial);
}

// Hash of one node's own fields; fields an op does not use are left out so they cannot matter. A beta's
// initial value enters only when it is not the default 1: hashes from before initial values existed
// (every beta at 1) are unchanged.
std::uint64_t node_key(Op op, std::uint8_t arity, std::uint8_t index, double value, bool with_beta_index) {
    std::uint64_t fields = static_cast<std::uint64_t>(op) | (static_cast<std::uint64_t>(arity) << 8);
    if (op == Op::X || (op == Op::Beta && with_beta_index)) fields |= static_cast<std::uint64_t>(index) << 16;
    std::uint64_t h = mix(fields);
    if (op == Op::Beta ? !is_default_initial(value) : has_value(op)) h = mix(h ^ std::bit_cast<std::uint64_t>(value));
    return h;
}

std::uint64_t combine(std::uint64_t parent, std::uint64_t child, int position) noexcept {
    return mix(parent ^ (child + 0x632BE59BD9B4E019ull * static_cast<std::uint64_t>(position + 1)));
}

using Id = std::uint32_t;

struct ArenaNode {
    Op op;
    std::uint8_t arity;
    std::uint8_t index;
    double value;
    Id child[2];
    std::uint32_t size;   // nodes in the subtree
    std::uint64_t hash;   // structural hash (as structural_hash computes it)
    std::uint64_t shape;  // the same with beta numbers left out: what operand ordering may look at
    bool has_var;         // depends on x or a beta
};

class Canonicalizer {
public:
    Expr run(const Expr& e) {
        std::vector<Id> stack;
        stack.reserve(e.size());
        const std::vector<double> initial = e.beta_initial_values();
        for (const Node& n : e.nodes) {
            if (n.arity > stack.size() || n.arity != op_info(n.op).arity) return e;  // malformed: leave it
            if (n.arity == 0) {
                const double value = n.op == Op::Beta ? initial[n.index] + 0.0 : n.value;
                stack.push_back(make(n.op, n.index, value, {}));
            } else if (n.arity == 1) {
                stack.back() = unary(n.op, n.value, stack.back());
            } else {
                const Id b = stack.back();
                stack.pop_back();
                stack.back() = binary(n.op, stack.back(), b);
            }
        }
        if (stack.size() != 1) return e;
        return emit(stack.back());
    }

private:
    std::vector<ArenaNode> arena_;

    const ArenaNode& at(Id id) const { return arena_[id]; }

    Id make(Op op, std::uint8_t index, double value, std::initializer_list<Id> children) {
        ArenaNode n{};
        n.op = op;
        n.arity = static_cast<std::uint8_t>(children.size());
        n.index = has_index(op) ? index : 0;
        n.value = has_value(op) ? value : 0.0;
        n.size = 1;
        n.hash = node_key(op, n.arity, n.index, n.value, true);
        n.shape = node_key(op, n.arity, n.index, n.value, false);
        n.has_var = op == Op::X || op == Op::Beta;
        int k = 0;
        for (Id c : children) {
            n.child[k] = c;
            n.size += arena_[c].size;
            n.hash = combine(n.hash, arena_[c].hash, k);
            n.shape = combine(n.shape, arena_[c].shape, k);
            n.has_var = n.has_var || arena_[c].has_var;
            ++k;
        }
        arena_.push_back(n);
        return static_cast<Id>(arena_.size() - 1);
    }

    Id constant(double v) { return make(Op::Const, 0, v, {}); }

    bool is_const(Id id) const { return at(id).op == Op::Const; }
    bool is_const(Id id, double v) const { return is_const(id) && at(id).value == v; }
    bool is_negative_const(Id id) const { return is_const(id) && at(id).value < 0.0; }
    bool is_neg(Id id) const { return at(id).op == Op::Neg; }
    Id operand(Id id) const { return at(id).child[0]; }

    // Structural equality: hashes first, then a full walk (hashes can collide).
    bool equal(Id a, Id b) const {
        std::vector<std::pair<Id, Id>> pending{{a, b}};
        while (!pending.empty()) {
            const auto [x, y] = pending.back();
            pending.pop_back();
            const ArenaNode& p = at(x);
            const ArenaNode& q = at(y);
            if (p.hash != q.hash || p.size != q.size || p.op != q.op || p.arity != q.arity || p.index != q.index ||
                std::bit_cast<std::uint64_t>(p.value) != std::bit_cast<std::uint64_t>(q.value))
                return false;
            for (int k = 0; k < p.arity; ++k) pending.emplace_back(p.child[k], q.child[k]);
        }
        return true;
    }

    // Operand order of a commutative op: in products coefficients come first (2*x, beta*x,
    // x*sigmoid(x)); in sums, max and min, x first and constants last (x + 1, max(x, 0)). Then smaller
    // subtrees first, then by op, by value (a literal, an exponent, a beta's initial value), and by
    // shape hash. Beta numbers are ignored so that
    // renumbering the betas afterwards cannot change the order.
    int leaf_rank(Op parent, Op op) const {
        const bool leaf = op == Op::X || op == Op::Beta || op == Op::Const;
        if (parent == Op::Mul) return op == Op::Const ? 0 : op == Op::Beta ? 1 : op == Op::X ? 2 : 3;
        if (!leaf) return 1;
        return op == Op::X ? 0 : op == Op::Beta ? 2 : 3;
    }

    bool before(Op parent, Id a, Id b) const {
        const ArenaNode& p = at(a);
        const ArenaNode& q = at(b);
        if (auto c = leaf_rank(parent, p.op) <=> leaf_rank(parent, q.op); c != 0) return c < 0;
        if (p.size != q.size) return p.size < q.size;
        if (p.op != q.op) return p.op < q.op;
        if (p.op == Op::X && p.index != q.index) return p.index < q.index;
        if (auto c = std::strong_order(p.value, q.value); c != 0) return c < 0;
        return p.shape < q.shape;
    }

    Id commutative(Op op, Id a, Id b) {
        if (before(op, b, a)) std::swap(a, b);
        return make(op, 0, 0.0, {a, b});
    }

    static bool is_even_function(Op op, double exponent) {
        switch (op) {
            case Op::Abs:
            case Op::Square:
            case Op::Cosh:
            case Op::Cos:
            case Op::Gaussian:
            case Op::Sinc: return true;
            case Op::Pow: return std::fmod(exponent, 2.0) == 0.0;
            default: return false;
        }
    }

    Id unary(Op op, double value, Id a) {
        if (is_const(a)) {
            const double folded = apply_scalar(op, at(a).value, value);
            if (std::isfinite(folded)) return constant(folded);
        }
        if (op == Op::Neg && is_neg(a)) return operand(a);
        if (op == Op::Pow) {
            if (value == 1.0) return a;
            if (value == 0.0) return constant(1.0);  // pow(a, 0) is 1 for every a, NaN included
            if (value == 2.0) return unary(Op::Square, 0.0, a);
            if (value == 3.0) return unary(Op::Cube, 0.0, a);
        }
        if (is_neg(a) && is_even_function(op, value)) return unary(op, value, operand(a));
        return make(op, 0, value, {a});
    }

    Id binary(Op op, Id a, Id b) {
        if (is_const(a) && is_const(b)) {
            const double folded = apply_scalar(op, at(a).value, at(b).value);
            if (std::isfinite(folded)) return constant(folded);
        }
        switch (op) {
            case Op::Add:
                if (is_const(b, 0.0)) return a;
                if (is_const(a, 0.0)) return b;
                if (is_neg(b)) return binary(Op::Sub, a, operand(b));
                if (is_neg(a)) return binary(Op::Sub, b, operand(a));
                if (is_negative_const(b)) return binary(Op::Sub, a, constant(-at(b).value));
                if (is_negative_const(a)) return binary(Op::Sub, b, constant(-at(a).value));
                return commutative(op, a, b);
            case Op::Sub:
                if (is_const(b, 0.0)) return a;
                if (is_const(a, 0.0)) return unary(Op::Neg, 0.0, b);
                if (at(a).has_var && equal(a, b)) return constant(0.0);
                if (is_neg(b)) return binary(Op::Add, a, operand(b));
                if (is_negative_const(b)) return binary(Op::Add, a, constant(-at(b).value));
                return make(op, 0, 0.0, {a, b});
            case Op::Mul:
                if ((is_const(b, 0.0) && at(a).has_var) || (is_const(a, 0.0) && at(b).has_var)) return constant(0.0);
                if (is_const(b, 1.0)) return a;
                if (is_const(a, 1.0)) return b;
                if (is_const(b, -1.0)) return unary(Op::Neg, 0.0, a);
                if (is_const(a, -1.0)) return unary(Op::Neg, 0.0, b);
                if (is_neg(a)) return unary(Op::Neg, 0.0, binary(op, operand(a), b));
                if (is_neg(b)) return unary(Op::Neg, 0.0, binary(op, a, operand(b)));
                return commutative(op, a, b);
            case Op::Div:
                if (is_const(b, 1.0)) return a;
                if (is_const(b, -1.0)) return unary(Op::Neg, 0.0, a);
                if (is_neg(a)) return unary(Op::Neg, 0.0, binary(op, operand(a), b));
                if (is_neg(b)) return unary(Op::Neg, 0.0, binary(op, a, operand(b)));
                return make(op, 0, 0.0, {a, b});
            case Op::Max:
            case Op::Min:
                if (equal(a, b)) return a;
                return commutative(op, a, b);
            default: return make(op, 0, 0.0, {a, b});
        }
    }

    // Postfix emission of the tree under `root`, then betas renumbered in order of first appearance.
    Expr emit(Id root) const {
        Expr out;
        out.nodes.reserve(at(root).size);
        std::vector<std::pair<Id, int>> pending{{root, 0}};  // (node, children already emitted)
        while (!pending.empty()) {
            auto& [id, done] = pending.back();
            const ArenaNode& n = at(id);
            if (done < n.arity) {
                const Id child = n.child[done++];
                pending.emplace_back(child, 0);
                continue;
            }
            Node node;
            node.op = n.op;
            node.arity = n.arity;
            node.index = n.index;
            node.value = n.value;
            out.nodes.push_back(node);
            pending.pop_back();
        }
        constexpr int kUnassigned = -1;
        std::vector<int> renumbered(std::numeric_limits<std::uint8_t>::max() + 1, kUnassigned);
        int next = 0;
        for (Node& node : out.nodes) {
            if (node.op != Op::Beta) continue;
            if (renumbered[node.index] == kUnassigned) renumbered[node.index] = next++;
            node.index = static_cast<std::uint8_t>(renumbered[node.index]);
        }
        out.fix_lengths();
        return out;
    }
};

}  // namespace

Expr canonicalize(const Expr& e) {
    if (e.empty()) return e;
    return Canonicalizer{}.run(e);
}

std::uint64_t structural_hash(const Expr& e) {
    // Merkle-style over the postfix array: a node's hash covers its own fields and its children's hashes
    // in order, so equal subtrees hash equally wherever they occur.
    std::vector<std::uint64_t> stack;
    stack.reserve(e.size());
    for (const Node& n : e.nodes) {
        std::uint64_t h = node_key(n.op, n.arity, has_index(n.op) ? n.index : 0, n.value, true);
        if (n.arity > stack.size()) return 0;
        const std::size_t first = stack.size() - n.arity;
        for (std::size_t k = 0; k < n.arity; ++k) h = combine(h, stack[first + k], static_cast<int>(k));
        stack.resize(first);
        stack.push_back(h);
    }
    return stack.size() == 1 ? stack.back() : 0;
}

}  // namespace actsearch
