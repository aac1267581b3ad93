// The one table of primitives. Parser, printer, canonicaliser, evaluator, exporter and database all
// key on `Op`; adding a primitive means adding it here, in ops.cpp's table, and in the evaluator.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace actsearch {

enum class Op : std::uint8_t {
    // Leaves.
    X,      // the pre-activation input (in a space template: argument `index`, x1 = 0, x2 = 1)
    Const,  // a number literal, in Node::value
    Beta,   // a trainable per-channel parameter, Node::index 0 = `beta`, 1 = `beta2`, ...

    // Unary.
    Neg, Abs, Square, Cube, Sqrt, LogAbs, Exp, Sin, Cos, Sinh, Cosh, Tanh, Asinh, Atan, Sinc,
    Relu, MinZero, Sigmoid, Softplus, Gaussian /* exp(-x^2) */, Erf, Erfc,
    Relu6, HardSigmoid /* relu6(x+3)/6 */, HardSwish /* x*relu6(x+3)/6 */,
    KerasHardSigmoid /* clip(0.2x+0.5, 0, 1), as Keras defines hard_sigmoid */,
    LeakyRelu /* slope 0.01 */, Elu, Selu, Gelu /* erf form */, Swish /* x*sigmoid(x) */, Mish,
    Softsign, LogSigmoid, Expm1, Reciprocal, Log /* log(x), NaN for x<0 */,
    Pow, // x^p, p = Node::value (a literal exponent)

    // Binary.
    Add, Sub, Mul, Div, Max, Min,

    Count_
};

inline constexpr int kOpCount = static_cast<int>(Op::Count_);

struct OpInfo {
    Op op;
    std::string_view name;    // canonical infix function name ("sigmoid"); operators use their symbol
    std::string_view symbol;  // "+", "-", "*", "/" for infix operators, "" otherwise
    std::uint8_t arity;       // 0, 1 or 2
    bool commutative;
};

// Information about an op; total over every Op value except Count_.
const OpInfo& op_info(Op op) noexcept;

// All ops, in enum order.
std::span<const OpInfo> all_ops() noexcept;

// Function name -> op, for infix function calls ("relu", "tanh", "max", ...), including aliases the
// users type ("silu" for swish, "hardswish", "abs"...). nullopt when unknown.
std::optional<Op> op_by_name(std::string_view name) noexcept;

// Scalar reference semantics in double precision, shared by constant folding, the exporter's tests
// and the evaluator's tests. For Pow, `b` carries the exponent. Unary ops ignore `b`.
double apply_scalar(Op op, double a, double b = 0.0) noexcept;

// Numerical constants, documented in grammar/NUMERICS.md.
inline constexpr float kLogAbsEps = 1e-6f;   // log_abs(x) = log(|x| + eps)
inline constexpr float kLeakySlope = 0.01f;
inline constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
inline constexpr double kSeluScale = 1.0507009873554804934193349852946;

}  // namespace actsearch
