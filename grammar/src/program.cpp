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
#include "eval_math.hpp"

namespace actsearch {
namespace {

using detail::erf_f;
using detail::erfc_f;
using detail::exp_f;
using detail::expm1_f;
using detail::log1p_nonneg_f;
using detail::log_f;
using detail::log_sigmoid_f;
using detail::sigmoid_f;
using detail::softplus_f;
using detail::tanh_f;

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

template <class F>
inline void map1(float* out, const float* a, std::size_t n, F f) {
    for (std::size_t i = 0; i < n; ++i) out[i] = f(a[i]);
}
template <class F>
inline void map2(float* out, const float* a, const float* b, std::size_t n, F f) {
    for (std::size_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
}
// out = g * f(a, y): the chain rule for a unary op whose derivative is written with its input a and
// its output y.
template <class F>
inline void chain1(float* out, const float* g, const float* a, const float* y, std::size_t n, F f) {
    for (std::size_t i = 0; i < n; ++i) out[i] = g[i] * f(a[i], y[i]);
}

// Multiplying by 1/6 instead of dividing: within 1 ulp of the division, and a vector divide costs as
// much as the rest of hard_swish together.
constexpr float kSixth = 1.0f / 6.0f;

inline float relu6_f(float v) noexcept {
    const float lo = v < 0.0f ? 0.0f : v;  // NaN passes through both selects
    return lo > 6.0f ? 6.0f : lo;
}

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

inline float sinc_f(float v) noexcept {
    if (std::abs(v) < 1e-4f) return 1.0f - v * v / 6.0f;
    return std::sin(v) / v;
}

void compute(const Instr& in, float* const* slot, std::size_t n) {
    float* out = slot[in.dst];
    const float* a = slot[in.a];
    const float* b = slot[in.b];
    switch (in.op) {
        case Op::X:
        case Op::Const:
        case Op::Beta: std::copy_n(a, n, out); return;
        case Op::Neg: map1(out, a, n, [](float v) { return -v; }); return;
        case Op::Abs: map1(out, a, n, [](float v) { return std::abs(v); }); return;
        case Op::Square: map1(out, a, n, [](float v) { return v * v; }); return;
        case Op::Cube: map1(out, a, n, [](float v) { return v * v * v; }); return;
        case Op::Sqrt: map1(out, a, n, [](float v) { return std::sqrt(v); }); return;
        case Op::LogAbs: map1(out, a, n, [](float v) { return log_f(std::abs(v) + kLogAbsEps); }); return;
        case Op::Exp: map1(out, a, n, exp_f); return;
        case Op::Sin: map1(out, a, n, [](float v) { return std::sin(v); }); return;
        case Op::Cos: map1(out, a, n, [](float v) { return std::cos(v); }); return;
        case Op::Sinh: map1(out, a, n, [](float v) { return std::sinh(v); }); return;
        case Op::Cosh: map1(out, a, n, [](float v) { return std::cosh(v); }); return;
        case Op::Tanh: map1(out, a, n, tanh_f); return;
        case Op::Asinh: map1(out, a, n, [](float v) { return std::asinh(v); }); return;
        case Op::Atan: map1(out, a, n, [](float v) { return std::atan(v); }); return;
        case Op::Sinc: map1(out, a, n, sinc_f); return;
        case Op::Relu: map1(out, a, n, [](float v) { return v < 0.0f ? 0.0f : v; }); return;
        case Op::MinZero: map1(out, a, n, [](float v) { return v > 0.0f ? 0.0f : v; }); return;
        case Op::Sigmoid: map1(out, a, n, sigmoid_f); return;
        case Op::Softplus: map1(out, a, n, softplus_f); return;
        case Op::Gaussian: map1(out, a, n, [](float v) { return exp_f(-v * v); }); return;
        case Op::Erf: map1(out, a, n, erf_f); return;
        case Op::Erfc: map1(out, a, n, erfc_f); return;
        case Op::Relu6: map1(out, a, n, relu6_f); return;
        case Op::HardSigmoid: map1(out, a, n, [](float v) { return relu6_f(v + 3.0f) * kSixth; }); return;
        case Op::HardSwish: map1(out, a, n, [](float v) { return v * relu6_f(v + 3.0f) * kSixth; }); return;
        case Op::KerasHardSigmoid:
            map1(out, a, n, [](float v) {
                const float t = 0.2f * v + 0.5f;
                const float lo = t < 0.0f ? 0.0f : t;
                return lo > 1.0f ? 1.0f : lo;
            });
            return;
        case Op::LeakyRelu: map1(out, a, n, [](float v) { return v > 0.0f ? v : kLeakySlope * v; }); return;
        case Op::Elu: map1(out, a, n, [](float v) { return v > 0.0f ? v : expm1_f(v); }); return;
        case Op::Selu:
            map1(out, a, n, [](float v) {
                constexpr float scale = static_cast<float>(kSeluScale);
                constexpr float scale_alpha = static_cast<float>(kSeluScale * kSeluAlpha);
                return v > 0.0f ? scale * v : scale_alpha * expm1_f(v);
            });
            return;
        case Op::Gelu:
            map1(out, a, n, [](float v) { return 0.5f * v * erfc_f(-v * (std::numbers::sqrt2_v<float> / 2)); });
            return;
        case Op::Swish: map1(out, a, n, [](float v) { return v * sigmoid_f(v); }); return;
        case Op::Mish: map1(out, a, n, [](float v) { return v * tanh_f(softplus_f(v)); }); return;
        case Op::Softsign: map1(out, a, n, [](float v) { return v / (1.0f + std::abs(v)); }); return;
        case Op::LogSigmoid: map1(out, a, n, log_sigmoid_f); return;
        case Op::Expm1: map1(out, a, n, expm1_f); return;
        case Op::Reciprocal: map1(out, a, n, [](float v) { return 1.0f / v; }); return;
        case Op::Log: map1(out, a, n, log_f); return;
        case Op::Pow: pow_block(out, a, n, in.param); return;
        case Op::Add: map2(out, a, b, n, [](float u, float v) { return u + v; }); return;
        case Op::Sub: map2(out, a, b, n, [](float u, float v) { return u - v; }); return;
        case Op::Mul: map2(out, a, b, n, [](float u, float v) { return u * v; }); return;
        case Op::Div: map2(out, a, b, n, [](float u, float v) { return u / v; }); return;
        // NaN in either operand propagates (a NaN `u` fails `u < v`; a NaN `v` fails `u >= v`).
        case Op::Max: map2(out, a, b, n, [](float u, float v) { return (u >= v || u != u) ? u : v; }); return;
        case Op::Min: map2(out, a, b, n, [](float u, float v) { return (u <= v || u != u) ? u : v; }); return;
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
        case Op::X:
        case Op::Const:
        case Op::Beta:
        case Op::Count_: return;
        case Op::Neg: map1(ga, g, n, [](float v) { return -v; }); return;
        case Op::Abs:
            chain1(ga, g, a, y, n, [](float u, float) { return u > 0.0f ? 1.0f : (u < 0.0f ? -1.0f : 0.0f); });
            return;
        case Op::Square: chain1(ga, g, a, y, n, [](float u, float) { return 2.0f * u; }); return;
        case Op::Cube: chain1(ga, g, a, y, n, [](float u, float) { return 3.0f * u * u; }); return;
        case Op::Sqrt: chain1(ga, g, a, y, n, [](float, float r) { return 0.5f / r; }); return;
        case Op::LogAbs:
            chain1(ga, g, a, y, n, [](float u, float) {
                const float s = u > 0.0f ? 1.0f : (u < 0.0f ? -1.0f : 0.0f);
                return s / (std::abs(u) + kLogAbsEps);
            });
            return;
        case Op::Exp: chain1(ga, g, a, y, n, [](float, float r) { return r; }); return;
        case Op::Sin: chain1(ga, g, a, y, n, [](float u, float) { return std::cos(u); }); return;
        case Op::Cos: chain1(ga, g, a, y, n, [](float u, float) { return -std::sin(u); }); return;
        case Op::Sinh: chain1(ga, g, a, y, n, [](float u, float) { return std::cosh(u); }); return;
        case Op::Cosh: chain1(ga, g, a, y, n, [](float u, float) { return std::sinh(u); }); return;
        case Op::Tanh: chain1(ga, g, a, y, n, [](float, float r) { return 1.0f - r * r; }); return;
        case Op::Asinh: chain1(ga, g, a, y, n, [](float u, float) { return 1.0f / std::sqrt(1.0f + u * u); }); return;
        case Op::Atan: chain1(ga, g, a, y, n, [](float u, float) { return 1.0f / (1.0f + u * u); }); return;
        case Op::Sinc:
            chain1(ga, g, a, y, n, [](float u, float) {
                if (std::abs(u) < 1e-4f) return -u / 3.0f;
                return (u * std::cos(u) - std::sin(u)) / (u * u);
            });
            return;
        case Op::Relu:
            for (std::size_t i = 0; i < n; ++i) ga[i] = a[i] > 0.0f ? g[i] : 0.0f;
            return;
        case Op::MinZero:
            for (std::size_t i = 0; i < n; ++i) ga[i] = a[i] < 0.0f ? g[i] : 0.0f;
            return;
        case Op::Sigmoid: chain1(ga, g, a, y, n, [](float, float r) { return r * (1.0f - r); }); return;
        case Op::Softplus: chain1(ga, g, a, y, n, [](float u, float) { return sigmoid_f(u); }); return;
        case Op::Gaussian: chain1(ga, g, a, y, n, [](float u, float r) { return -2.0f * u * r; }); return;
        case Op::Erf:
            chain1(ga, g, a, y, n, [](float u, float) { return std::numbers::inv_sqrtpi_v<float> * 2.0f * exp_f(-u * u); });
            return;
        case Op::Erfc:
            chain1(ga, g, a, y, n, [](float u, float) { return -std::numbers::inv_sqrtpi_v<float> * 2.0f * exp_f(-u * u); });
            return;
        case Op::Relu6:
            for (std::size_t i = 0; i < n; ++i) ga[i] = (a[i] > 0.0f && a[i] < 6.0f) ? g[i] : 0.0f;
            return;
        case Op::HardSigmoid:
            for (std::size_t i = 0; i < n; ++i) ga[i] = (a[i] > -3.0f && a[i] < 3.0f) ? g[i] * kSixth : 0.0f;
            return;
        case Op::HardSwish:
            for (std::size_t i = 0; i < n; ++i) {
                const float u = a[i];
                const float inside = g[i] * (2.0f * u + 3.0f) * kSixth;
                ga[i] = u <= -3.0f ? 0.0f : (u < 3.0f ? inside : g[i]);
            }
            return;
        case Op::KerasHardSigmoid:
            for (std::size_t i = 0; i < n; ++i) ga[i] = (a[i] > -2.5f && a[i] < 2.5f) ? 0.2f * g[i] : 0.0f;
            return;
        case Op::LeakyRelu:
            for (std::size_t i = 0; i < n; ++i) ga[i] = a[i] > 0.0f ? g[i] : kLeakySlope * g[i];
            return;
        case Op::Elu: chain1(ga, g, a, y, n, [](float u, float r) { return u > 0.0f ? 1.0f : r + 1.0f; }); return;
        case Op::Selu:
            chain1(ga, g, a, y, n, [](float u, float r) {
                constexpr float scale = static_cast<float>(kSeluScale);
                constexpr float scale_alpha = static_cast<float>(kSeluScale * kSeluAlpha);
                return u > 0.0f ? scale : r + scale_alpha;
            });
            return;
        case Op::Gelu:
            chain1(ga, g, a, y, n, [](float u, float) {
                const float cdf = 0.5f * erfc_f(-u * (std::numbers::sqrt2_v<float> / 2));
                const float pdf = exp_f(-0.5f * u * u) * (std::numbers::inv_sqrtpi_v<float> / std::numbers::sqrt2_v<float>);
                return cdf + u * pdf;
            });
            return;
        case Op::Swish:
            chain1(ga, g, a, y, n, [](float u, float r) {
                const float s = sigmoid_f(u);
                return s + r * (1.0f - s);
            });
            return;
        case Op::Mish:
            chain1(ga, g, a, y, n, [](float u, float) {
                const float t = tanh_f(softplus_f(u));
                return t + u * (1.0f - t * t) * sigmoid_f(u);
            });
            return;
        case Op::Softsign:
            chain1(ga, g, a, y, n, [](float u, float) {
                const float d = 1.0f + std::abs(u);
                return 1.0f / (d * d);
            });
            return;
        case Op::LogSigmoid: chain1(ga, g, a, y, n, [](float u, float) { return sigmoid_f(-u); }); return;
        case Op::Expm1: chain1(ga, g, a, y, n, [](float, float r) { return r + 1.0f; }); return;
        case Op::Reciprocal: chain1(ga, g, a, y, n, [](float, float r) { return -r * r; }); return;
        case Op::Log: chain1(ga, g, a, y, n, [](float u, float) { return 1.0f / u; }); return;
        case Op::Pow: {
            const float p = in.param;
            if (p == 0.0f) {
                std::fill_n(ga, n, 0.0f);
                return;
            }
            pow_block(ga, a, n, p - 1.0f);
            for (std::size_t i = 0; i < n; ++i) ga[i] = g[i] * (p * ga[i]);
            return;
        }
        case Op::Add:
            std::copy_n(g, n, ga);
            std::copy_n(g, n, gb);
            return;
        case Op::Sub:
            std::copy_n(g, n, ga);
            map1(gb, g, n, [](float v) { return -v; });
            return;
        case Op::Mul:
            map2(ga, g, b, n, [](float u, float v) { return u * v; });
            map2(gb, g, a, n, [](float u, float v) { return u * v; });
            return;
        case Op::Div:
            map2(ga, g, b, n, [](float u, float v) { return u / v; });
            for (std::size_t i = 0; i < n; ++i) gb[i] = -g[i] * y[i] / b[i];
            return;
        case Op::Max:  // ties: the whole gradient to the first operand
            for (std::size_t i = 0; i < n; ++i) {
                const bool first = a[i] >= b[i];
                ga[i] = first ? g[i] : 0.0f;
                gb[i] = first ? 0.0f : g[i];
            }
            return;
        case Op::Min:
            for (std::size_t i = 0; i < n; ++i) {
                const bool first = a[i] <= b[i];
                ga[i] = first ? g[i] : 0.0f;
                gb[i] = first ? 0.0f : g[i];
            }
            return;
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

// Sum of v[0, n) with 16 independent partial sums (vectorisable without reassociating: the order is
// fixed, so the result is deterministic), combined in double.
double run_sum(const float* v, std::size_t n) {
    constexpr std::size_t kLanes = 16;
    float partial[kLanes] = {};
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (std::size_t j = 0; j < kLanes; ++j) partial[j] += v[i + j];
    double total = 0.0;
    for (std::size_t j = 0; j < kLanes; ++j) total += partial[j];
    for (; i < n; ++i) total += v[i];
    return total;
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
        acc[c] += run_sum(contrib + i, len);
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

// What gradient() reads besides the adjoint: lets the backward pass skip recomputing values nobody
// reads (relu(x) and hard_swish(x) need no forward pass at all, x * sigmoid(x) only the sigmoid).
bool gradient_reads_output(Op op) {
    switch (op) {
        case Op::Sqrt: case Op::Exp: case Op::Tanh: case Op::Sigmoid: case Op::Gaussian: case Op::Elu:
        case Op::Selu: case Op::Swish: case Op::Expm1: case Op::Reciprocal: case Op::Div: return true;
        default: return false;
    }
}
bool gradient_reads_operands(Op op) {
    switch (op) {
        case Op::Neg: case Op::Add: case Op::Sub: case Op::Sqrt: case Op::Exp: case Op::Tanh: case Op::Sigmoid:
        case Op::Expm1: case Op::Reciprocal: return false;
        default: return true;
    }
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
