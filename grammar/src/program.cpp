// The compiled evaluator. An Expr is folded (constant subtrees evaluated once with apply_scalar) and
// compiled into two flat instruction lists over "slots" (pointers to blocks of kBlock floats):
//   forward:  one instruction per op node; temporaries share a few registers;
//   backward: the same ops writing every value to its own register (the block's tape), then one
//             gradient instruction per op node in reverse order, propagating adjoints to the children.
// Both run over the tensor block by block: one switch per instruction per block, each case a tight
// loop over the block that g++ vectorises (the float maths is in eval_math.hpp).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "actsearch/grammar/program.hpp"
#include "actsearch/numeric/lane_sum.hpp"
#include "primitive_math.hpp"

namespace actsearch {
namespace {

// Floats per block: 1 KiB per register, so a program with a dozen live registers stays in L1.
constexpr std::size_t kBlock = 256;

// Fixed slot numbers; the rest are laid out by the compiler (see Layout).
constexpr std::uint16_t kSlotX = 0;    // the input block, read in place
constexpr std::uint16_t kSlotOut = 1;  // forward: the output block y; backward: the incoming dy
constexpr std::uint16_t kSlotDx = 2;   // backward: the dx block, written in place
constexpr std::uint16_t kFirstFreeSlot = 3;

enum class Kind : std::uint8_t {
    Compute,     // dst = op(a[, b])
    Copy,        // dst = a (the whole expression is a leaf)
    Gradient,    // ga (, gb) = adjoint g pushed through op at (a, b, y)
    Accumulate,  // dst += a (a leaf used more than once)
    Zero,        // dst = 0 (dx of an expression without x)
};

struct Instr {
    Kind kind = Kind::Compute;
    Op op = Op::X;
    std::uint16_t dst = 0;  // Compute/Copy/Accumulate/Zero: the written slot; Gradient: adjoint of a
    std::uint16_t dst_b = 0;  // Gradient, binary ops: adjoint of b
    std::uint16_t a = 0;
    std::uint16_t b = 0;
    std::uint16_t y = 0;     // Gradient: this node's value
    std::uint16_t g = 0;     // Gradient: this node's adjoint
    float param = 0.0f;      // Pow: the exponent
};

// ---- Block kernels -------------------------------------------------------------------------------

inline bool is_integer_exponent(float p) noexcept { return p == std::nearbyint(p) && std::abs(p) <= 64.0f; }

// out = a^p. Integer p by repeated squaring, one vectorised pass per bit: exact sign handling, no libm.
void pow_block(float* out, const float* a, std::size_t n, float p) {
    if (!is_integer_exponent(p)) {
        for (std::size_t i = 0; i < n; ++i) out[i] = std::pow(a[i], p);
        return;
    }
    const int e = static_cast<int>(p);
    unsigned bits = static_cast<unsigned>(e < 0 ? -e : e);
    float square[kBlock];
    std::copy_n(a, n, square);
    std::fill_n(out, n, 1.0f);
    while (bits != 0) {
        if (bits & 1u)
            for (std::size_t i = 0; i < n; ++i) out[i] *= square[i];
        bits >>= 1;
        if (bits != 0)
            for (std::size_t i = 0; i < n; ++i) square[i] *= square[i];
    }
    if (e < 0)
        for (std::size_t i = 0; i < n; ++i) out[i] = 1.0f / out[i];
}

// out = M::value(a, b) over a block. Unary ops read their literal parameter instead of b.
template <Op O, class M, int Arity>
void compute_block(float* out, const float* a, const float* b, float param, std::size_t n) {
    if constexpr (Arity == 0) {
        std::copy_n(a, n, out);
    } else if constexpr (O == Op::Pow) {
        pow_block(out, a, n, param);
    } else if constexpr (Arity == 2) {
        for (std::size_t i = 0; i < n; ++i) out[i] = M::value(a[i], b[i]);
    } else {
        for (std::size_t i = 0; i < n; ++i) out[i] = M::value(a[i], param);
    }
}

// ga (and gb) = the adjoint g pushed through M at (a, b) with output y, over a block.
template <Op O, class M, int Arity>
void gradient_block(float* ga, float* gb, const float* g, const float* a, const float* b,
                    const float* y, float param, std::size_t n) {
    if constexpr (Arity == 0) {
        return;  // leaves: the compiler routes their adjoints, no instruction
    } else if constexpr (O == Op::Pow) {  // a^(p-1) by the same exact kernel as the value
        if (param == 0.0f) {
            std::fill_n(ga, n, 0.0f);
            return;
        }
        pow_block(ga, a, n, param - 1.0f);
        for (std::size_t i = 0; i < n; ++i) ga[i] = g[i] * (param * ga[i]);
    } else if constexpr (Arity == 2) {
        for (std::size_t i = 0; i < n; ++i) ga[i] = M::grad_a(g[i], a[i], b[i], y[i]);
        for (std::size_t i = 0; i < n; ++i) gb[i] = M::grad_b(g[i], a[i], b[i], y[i]);
    } else {
        for (std::size_t i = 0; i < n; ++i) ga[i] = M::grad_a(g[i], a[i], param, y[i]);
    }
}

// One dispatch per instruction per block; each case is one of the loops above, instantiated with the
// primitive's math (primitive_math.inc) over float.
void compute(const Instr& in, float* const* slot, std::size_t n) {
    float* out = slot[in.dst];
    const float* a = slot[in.a];
    const float* b = slot[in.b];
    switch (in.op) {
#define ACTSEARCH_OP_COMPUTE(Enum, name, symbol, arity, ...) \
    case Op::Enum: compute_block<Op::Enum, detail::primitive::Enum, arity>(out, a, b, in.param, n); return;
        ACTSEARCH_OP_TABLE(ACTSEARCH_OP_COMPUTE)
#undef ACTSEARCH_OP_COMPUTE
        case Op::Count_: break;
    }
}

// Adjoint propagation for one op node: ga (and gb) from g. Conventions at kinks: grammar/NUMERICS.md.
void gradient(const Instr& in, float* const* slot, std::size_t n) {
    float* ga = slot[in.dst];
    float* gb = slot[in.dst_b];
    const float* g = slot[in.g];
    const float* a = slot[in.a];
    const float* b = slot[in.b];
    const float* y = slot[in.y];
    switch (in.op) {
        case Op::Count_: return;
#define ACTSEARCH_OP_GRADIENT(Enum, name, symbol, arity, ...) \
    case Op::Enum: gradient_block<Op::Enum, detail::primitive::Enum, arity>(ga, gb, g, a, b, y, in.param, n); return;
        ACTSEARCH_OP_TABLE(ACTSEARCH_OP_GRADIENT)
#undef ACTSEARCH_OP_GRADIENT
    }
}

void execute(std::span<const Instr> code, float* const* slot, std::size_t n) {
    for (const Instr& in : code) {
        switch (in.kind) {
            case Kind::Compute: compute(in, slot, n); break;
            case Kind::Copy: std::copy_n(slot[in.a], n, slot[in.dst]); break;
            case Kind::Gradient: gradient(in, slot, n); break;
            case Kind::Accumulate: {
                float* dst = slot[in.dst];
                const float* src = slot[in.a];
                for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
                break;
            }
            case Kind::Zero: std::fill_n(slot[in.dst], n, 0.0f); break;
        }
    }
}

// ---- Per-channel parameters ----------------------------------------------------------------------

// Position of flat element `start` in the (outer, channels, inner) layout.
struct ChannelCursor {
    std::size_t channel;
    std::size_t offset_in_run;  // elements already taken from the current run of `inner`
};

ChannelCursor cursor_at(std::size_t start, const ActShape& shape) {
    return {(start / shape.inner) % shape.channels, start % shape.inner};
}

// reg[i] = value of the channel of element start + i.
void fill_per_channel(float* reg, const float* per_channel, std::size_t start, std::size_t n,
                      const ActShape& shape) {
    auto [c, offset] = cursor_at(start, shape);
    std::size_t i = 0;
    if (shape.inner == 1) {  // channels are contiguous: copy runs of the parameter vector
        while (i < n) {
            const std::size_t len = std::min(n - i, shape.channels - c);
            std::copy_n(per_channel + c, len, reg + i);
            i += len;
            c = 0;
        }
        return;
    }
    while (i < n) {
        const std::size_t len = std::min(n - i, shape.inner - offset);
        std::fill_n(reg + i, len, per_channel[c]);
        i += len;
        offset = 0;
        c = c + 1 == shape.channels ? 0 : c + 1;
    }
}

// acc[c] += sum of contrib over the elements of the block that belong to channel c.
void reduce_per_channel(double* acc, const float* contrib, std::size_t start, std::size_t n,
                        const ActShape& shape) {
    auto [c, offset] = cursor_at(start, shape);
    std::size_t i = 0;
    if (shape.inner == 1) {
        while (i < n) {
            const std::size_t len = std::min(n - i, shape.channels - c);
            for (std::size_t j = 0; j < len; ++j) acc[c + j] += contrib[i + j];
            i += len;
            c = 0;
        }
        return;
    }
    while (i < n) {
        const std::size_t len = std::min(n - i, shape.inner - offset);
        acc[c] += numeric::lane_sum(contrib + i, len);
        i += len;
        offset = 0;
        c = c + 1 == shape.channels ? 0 : c + 1;
    }
}

// ---- Compilation ---------------------------------------------------------------------------------

// The expression after constant folding, as a tree over indices (children before parents).
struct FoldedNode {
    Op op = Op::X;
    int a = -1;
    int b = -1;
    int beta = 0;          // Op::Beta
    double value = 0.0;    // Op::Const
    float param = 0.0f;    // Op::Pow
};

std::vector<FoldedNode> fold(const Expr& e) {
    if (e.empty()) throw std::invalid_argument("Program: empty expression");
    std::vector<FoldedNode> nodes;
    std::vector<int> stack;
    nodes.reserve(e.size());
    for (const Node& node : e.nodes) {
        if (static_cast<int>(node.op) >= kOpCount)
            throw std::invalid_argument(fmt::format("Program: invalid op code {}", static_cast<int>(node.op)));
        const OpInfo& info = op_info(node.op);
        if (node.arity != info.arity)
            throw std::invalid_argument(fmt::format("Program: node '{}' has arity {}, expected {}", info.name,
                                                    node.arity, info.arity));
        if (stack.size() < info.arity)
            throw std::invalid_argument(fmt::format("Program: '{}' is missing an operand", info.name));
        FoldedNode folded{.op = node.op};
        switch (info.arity) {
            case 0:
                if (node.op == Op::X && node.index != 0)
                    throw std::invalid_argument(fmt::format(
                        "Program: argument x{} in a candidate (only x is an input)", node.index + 1));
                folded.beta = node.index;
                folded.value = node.value;
                break;
            case 1: {
                folded.a = stack.back();
                stack.pop_back();
                folded.param = static_cast<float>(node.value);
                const FoldedNode& child = nodes[folded.a];
                if (child.op == Op::Const) folded = {.op = Op::Const, .value = apply_scalar(node.op, child.value, node.value)};
                break;
            }
            default: {
                folded.b = stack.back();
                stack.pop_back();
                folded.a = stack.back();
                stack.pop_back();
                const FoldedNode& lhs = nodes[folded.a];
                const FoldedNode& rhs = nodes[folded.b];
                if (lhs.op == Op::Const && rhs.op == Op::Const)
                    folded = {.op = Op::Const, .value = apply_scalar(node.op, lhs.value, rhs.value)};
                break;
            }
        }
        stack.push_back(static_cast<int>(nodes.size()));
        nodes.push_back(folded);
    }
    if (stack.size() != 1)
        throw std::invalid_argument(fmt::format("Program: expression has {} roots, expected 1", stack.size()));
    return nodes;
}

bool is_leaf(Op op) { return op == Op::X || op == Op::Const || op == Op::Beta; }

// What gradient() reads besides the adjoint (the table's `reads` column): lets the backward pass skip
// recomputing values nobody reads (relu(x) and hard_swish(x) need no forward pass at all).
bool gradient_reads_output(Op op) {
    const OpReads r = op_info(op).reads;
    return r == OpReads::Output || r == OpReads::Both;
}
bool gradient_reads_operands(Op op) {
    const OpReads r = op_info(op).reads;
    return r == OpReads::Operands || r == OpReads::Both;
}

// Slot numbering shared by both instruction lists:
//   [0, 3) fixed, [3, 3+B) beta values, [3+B, 3+2B) beta gradient contributions,
//   then constants (Impl-owned broadcast blocks), then scratch registers.
struct Layout {
    int betas = 0;
    int constants = 0;
    std::uint16_t beta_slot(int k) const { return static_cast<std::uint16_t>(kFirstFreeSlot + k); }
    std::uint16_t dbeta_slot(int k) const { return static_cast<std::uint16_t>(kFirstFreeSlot + betas + k); }
    std::uint16_t const_slot(int i) const { return static_cast<std::uint16_t>(kFirstFreeSlot + 2 * betas + i); }
    std::uint16_t first_register() const { return static_cast<std::uint16_t>(kFirstFreeSlot + 2 * betas + constants); }
};

// Hands out scratch registers; freed ones are reused first.
class RegisterPool {
public:
    explicit RegisterPool(std::uint16_t first) : next_(first) {}
    std::uint16_t take() {
        if (!free_.empty()) {
            const std::uint16_t r = free_.back();
            free_.pop_back();
            return r;
        }
        if (next_ == 0xffff) throw std::invalid_argument("Program: expression too large");
        return next_++;
    }
    void give_back(std::uint16_t r) { free_.push_back(r); }
    std::uint16_t end() const { return next_; }

private:
    std::uint16_t next_;
    std::vector<std::uint16_t> free_;
};

}  // namespace

struct Program::Impl {
    int beta_count = 0;
    std::vector<float> beta_initial;   // per beta number
    std::vector<Instr> forward_code;
    std::vector<Instr> backward_code;
    std::uint16_t forward_slots = 0;   // total slots used by forward_code
    std::uint16_t backward_slots = 0;
    Layout layout;
    std::vector<bool> beta_used;       // beta k appears in the folded expression
    std::vector<float> constants;      // layout.constants blocks of kBlock copies

    explicit Impl(const Expr& e);
    void run_forward(const float* x, float* y, const float* beta, ActShape shape) const;
    void run_backward(const float* x, const float* dy, float* dx, const float* beta, float* dbeta,
                      ActShape shape) const;
};

Program::Impl::Impl(const Expr& e) {
    const std::vector<FoldedNode> nodes = fold(e);
    const int root = static_cast<int>(nodes.size()) - 1;

    // Nodes reachable from the root (folding leaves the children of folded nodes behind).
    std::vector<bool> live(nodes.size(), false);
    live[root] = true;
    for (int i = root; i >= 0; --i) {
        if (!live[i]) continue;
        if (nodes[i].a >= 0) live[nodes[i].a] = true;
        if (nodes[i].b >= 0) live[nodes[i].b] = true;
    }

    // beta_count follows the unfolded expression (the caller's parameter layout), beta_used the folded.
    beta_count = e.beta_count();
    for (double v : e.beta_initial_values()) beta_initial.push_back(static_cast<float>(v));
    beta_used.assign(beta_count, false);
    std::vector<float> constant_values;
    std::vector<std::uint16_t> leaf_slot(nodes.size(), 0);
    layout.betas = beta_count;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (!live[i]) continue;
        if (nodes[i].op == Op::Beta) beta_used[nodes[i].beta] = true;
        if (nodes[i].op == Op::Const) {
            const float v = static_cast<float>(nodes[i].value);
            auto it = std::find_if(constant_values.begin(), constant_values.end(),
                                   [&](float c) { return std::memcmp(&c, &v, sizeof v) == 0; });
            leaf_slot[i] = static_cast<std::uint16_t>(it - constant_values.begin());
            if (it == constant_values.end()) constant_values.push_back(v);
        }
    }
    layout.constants = static_cast<int>(constant_values.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (!live[i]) continue;
        switch (nodes[i].op) {
            case Op::X: leaf_slot[i] = kSlotX; break;
            case Op::Beta: leaf_slot[i] = layout.beta_slot(nodes[i].beta); break;
            case Op::Const: leaf_slot[i] = layout.const_slot(leaf_slot[i]); break;
            default: break;
        }
    }
    constants.resize(constant_values.size() * kBlock);
    for (std::size_t c = 0; c < constant_values.size(); ++c)
        std::fill_n(constants.begin() + static_cast<std::ptrdiff_t>(c * kBlock), kBlock, constant_values[c]);

    auto make_compute = [&](int i, std::uint16_t dst, const std::vector<std::uint16_t>& value_slot) {
        const FoldedNode& node = nodes[i];
        Instr in{.kind = Kind::Compute, .op = node.op, .dst = dst, .param = node.param};
        in.a = value_slot[node.a];
        in.b = node.b >= 0 ? value_slot[node.b] : in.a;
        return in;
    };

    // Forward: an op node's register is taken before its operands' are released, so no instruction
    // writes the register it reads (aliasing would keep g++ from vectorising the loop).
    {
        RegisterPool pool(layout.first_register());
        std::vector<std::uint16_t> value_slot = leaf_slot;
        if (is_leaf(nodes[root].op)) {
            forward_code.push_back({.kind = Kind::Copy, .dst = kSlotOut, .a = leaf_slot[root]});
        } else {
            for (int i = 0; i <= root; ++i) {
                if (!live[i] || is_leaf(nodes[i].op)) continue;
                const std::uint16_t dst = i == root ? kSlotOut : pool.take();
                forward_code.push_back(make_compute(i, dst, value_slot));
                value_slot[i] = dst;
                for (int child : {nodes[i].a, nodes[i].b})
                    if (child >= 0 && !is_leaf(nodes[child].op)) pool.give_back(value_slot[child]);
            }
        }
        forward_slots = pool.end();
    }

    // Backward: every op node's value gets its own register (the tape), then adjoints flow from the
    // root (whose adjoint is dy) to the leaves. A leaf's first contribution is written straight into
    // dx / its beta's contribution block, later ones are accumulated.
    {
        // An op node's value goes on the tape when its own gradient, its parent's gradient or its
        // parent's recomputation reads it. Parents come after children, so one downward sweep decides.
        std::vector<bool> on_tape(nodes.size(), false);
        for (int i = root; i >= 0; --i) {
            if (!live[i] || is_leaf(nodes[i].op)) continue;
            on_tape[i] = on_tape[i] || gradient_reads_output(nodes[i].op);
            const bool operands_read = on_tape[i] || gradient_reads_operands(nodes[i].op);
            for (int child : {nodes[i].a, nodes[i].b})
                if (child >= 0) on_tape[child] = on_tape[child] || operands_read;
        }
        RegisterPool pool(layout.first_register());
        std::vector<std::uint16_t> value_slot = leaf_slot;
        const std::uint16_t unread_value = pool.take();  // stands for values nobody reads
        for (int i = 0; i <= root; ++i) {
            if (!live[i] || is_leaf(nodes[i].op)) continue;
            if (!on_tape[i]) {
                value_slot[i] = unread_value;
                continue;
            }
            value_slot[i] = pool.take();
            backward_code.push_back(make_compute(i, value_slot[i], value_slot));
        }
        const std::uint16_t sink = pool.take();  // adjoints of constants land here and are dropped
        std::vector<std::uint16_t> adjoint(nodes.size(), 0);
        bool dx_written = false;
        std::vector<bool> dbeta_written(beta_count, false);
        std::vector<Instr> accumulations;

        auto adjoint_slot_for = [&](int child) -> std::uint16_t {
            const FoldedNode& c = nodes[child];
            auto first_or_accumulate = [&](bool& written, std::uint16_t target) -> std::uint16_t {
                if (!written) {
                    written = true;
                    return target;
                }
                const std::uint16_t tmp = pool.take();
                accumulations.push_back({.kind = Kind::Accumulate, .dst = target, .a = tmp});
                return tmp;
            };
            switch (c.op) {
                case Op::Const: return sink;
                case Op::X: return first_or_accumulate(dx_written, kSlotDx);
                case Op::Beta: {
                    bool written = dbeta_written[c.beta];
                    const std::uint16_t slot = first_or_accumulate(written, layout.dbeta_slot(c.beta));
                    dbeta_written[c.beta] = written;
                    return slot;
                }
                default: return adjoint[child] = pool.take();
            }
        };

        if (is_leaf(nodes[root].op)) {
            if (nodes[root].op == Op::X) {
                backward_code.push_back({.kind = Kind::Copy, .dst = kSlotDx, .a = kSlotOut});
                dx_written = true;
            } else if (nodes[root].op == Op::Beta) {
                backward_code.push_back({.kind = Kind::Copy, .dst = layout.dbeta_slot(nodes[root].beta), .a = kSlotOut});
            }
        } else {
            adjoint[root] = kSlotOut;
            for (int i = root; i >= 0; --i) {
                if (!live[i] || is_leaf(nodes[i].op)) continue;
                const FoldedNode& node = nodes[i];
                Instr in{.kind = Kind::Gradient, .op = node.op, .param = node.param};
                in.a = value_slot[node.a];
                in.b = node.b >= 0 ? value_slot[node.b] : in.a;
                in.y = value_slot[i];
                in.g = adjoint[i];
                accumulations.clear();
                in.dst = adjoint_slot_for(node.a);
                in.dst_b = node.b >= 0 ? adjoint_slot_for(node.b) : sink;
                backward_code.push_back(in);
                for (const Instr& acc : accumulations) {
                    backward_code.push_back(acc);
                    pool.give_back(acc.a);
                }
                if (i != root) pool.give_back(adjoint[i]);
            }
        }
        if (!dx_written) backward_code.insert(backward_code.begin(), Instr{.kind = Kind::Zero, .dst = kSlotDx});
        backward_slots = pool.end();
    }
}

namespace {

// Per-thread scratch: registers and the slot table. Grows to the largest program seen on the thread,
// then calls allocate nothing.
struct Scratch {
    std::vector<float> registers;
    std::vector<float*> slots;
    std::vector<double> dbeta_sums;
};

Scratch& thread_scratch() {
    thread_local Scratch scratch;
    return scratch;
}

void check_beta(const float* beta, int beta_count) {
    if (beta_count > 0 && beta == nullptr)
        throw std::invalid_argument(fmt::format("Program: expression has {} beta parameter(s) but beta is null", beta_count));
}

}  // namespace

void Program::Impl::run_forward(const float* x, float* y, const float* beta, ActShape shape) const {
    check_beta(beta, beta_count);
    const std::size_t total = shape.size();
    if (total == 0) return;
    Scratch& s = thread_scratch();
    const std::size_t first_register = layout.first_register();
    s.slots.assign(forward_slots, nullptr);
    s.registers.resize(std::max<std::size_t>(s.registers.size(), (forward_slots + beta_count) * kBlock));
    for (int k = 0; k < beta_count; ++k) s.slots[layout.beta_slot(k)] = s.registers.data() + k * kBlock;
    for (int c = 0; c < layout.constants; ++c)
        s.slots[layout.const_slot(c)] = const_cast<float*>(constants.data() + c * kBlock);
    for (std::size_t r = first_register; r < forward_slots; ++r)
        s.slots[r] = s.registers.data() + (beta_count + r - first_register) * kBlock;

    for (std::size_t start = 0; start < total; start += kBlock) {
        const std::size_t n = std::min(kBlock, total - start);
        s.slots[kSlotX] = const_cast<float*>(x + start);
        s.slots[kSlotOut] = y + start;
        for (int k = 0; k < beta_count; ++k)
            if (beta_used[k]) fill_per_channel(s.slots[layout.beta_slot(k)], beta + k * shape.channels, start, n, shape);
        execute(forward_code, s.slots.data(), n);
    }
}

void Program::Impl::run_backward(const float* x, const float* dy, float* dx, const float* beta, float* dbeta,
                                 ActShape shape) const {
    check_beta(beta, beta_count);
    const std::size_t total = shape.size();
    if (total == 0) return;
    Scratch& s = thread_scratch();
    const std::size_t first_register = layout.first_register();
    const std::size_t beta_blocks = 2 * static_cast<std::size_t>(beta_count);
    s.slots.assign(backward_slots, nullptr);
    s.registers.resize(std::max<std::size_t>(s.registers.size(), (backward_slots + beta_blocks) * kBlock));
    for (int k = 0; k < beta_count; ++k) {
        s.slots[layout.beta_slot(k)] = s.registers.data() + k * kBlock;
        s.slots[layout.dbeta_slot(k)] = s.registers.data() + (beta_count + k) * kBlock;
    }
    for (int c = 0; c < layout.constants; ++c)
        s.slots[layout.const_slot(c)] = const_cast<float*>(constants.data() + c * kBlock);
    for (std::size_t r = first_register; r < backward_slots; ++r)
        s.slots[r] = s.registers.data() + (beta_blocks + r - first_register) * kBlock;
    const bool want_dbeta = dbeta != nullptr && beta_count > 0;
    if (want_dbeta) s.dbeta_sums.assign(static_cast<std::size_t>(beta_count) * shape.channels, 0.0);

    for (std::size_t start = 0; start < total; start += kBlock) {
        const std::size_t n = std::min(kBlock, total - start);
        s.slots[kSlotX] = const_cast<float*>(x + start);
        s.slots[kSlotOut] = const_cast<float*>(dy + start);
        s.slots[kSlotDx] = dx + start;
        for (int k = 0; k < beta_count; ++k)
            if (beta_used[k]) fill_per_channel(s.slots[layout.beta_slot(k)], beta + k * shape.channels, start, n, shape);
        execute(backward_code, s.slots.data(), n);
        if (!want_dbeta) continue;
        for (int k = 0; k < beta_count; ++k)
            if (beta_used[k])
                reduce_per_channel(s.dbeta_sums.data() + k * shape.channels, s.slots[layout.dbeta_slot(k)], start, n, shape);
    }
    if (want_dbeta)
        for (std::size_t j = 0; j < s.dbeta_sums.size(); ++j) dbeta[j] += static_cast<float>(s.dbeta_sums[j]);
}

Program::Program(const Expr& e) : impl_(std::make_unique<Impl>(e)) {}
Program::~Program() = default;
Program::Program(const Program& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
Program& Program::operator=(const Program& other) {
    if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
    return *this;
}
Program::Program(Program&&) noexcept = default;
Program& Program::operator=(Program&&) noexcept = default;

int Program::beta_count() const noexcept { return impl_->beta_count; }

const std::vector<float>& Program::beta_initial_values() const noexcept { return impl_->beta_initial; }

void Program::forward(const float* x, float* y, const float* beta, ActShape shape) const {
    impl_->run_forward(x, y, beta, shape);
}

void Program::backward(const float* x, const float* dy, float* dx, const float* beta, float* dbeta,
                       ActShape shape) const {
    impl_->run_backward(x, dy, dx, beta, dbeta, shape);
}

void Program::eval(const float* x, float* y, std::size_t n, const float* beta) const {
    impl_->run_forward(x, y, beta, ActShape{.outer = 1, .channels = 1, .inner = n});
}

}  // namespace actsearch
