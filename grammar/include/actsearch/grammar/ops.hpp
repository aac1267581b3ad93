// The one table of primitives. Parser, printer, canonicaliser, evaluator, exporter and database all
// key on `Op`. Adding a primitive means one row in ACTSEARCH_OP_TABLE below plus its math (one struct
// in grammar/src/primitive_math.inc); everything else (enum, names, evaluators, exporters) follows.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace actsearch {

// THE table of primitives: one row each, in enum order (the enum is generated from it; append new
// rows at the end, since op codes enter structural hashes that databases store). Columns:
//   Enum         Op::Enum, and the math struct grammar/src/primitive_math.inc defines under that name
//                (value and adjoint propagation as one template: scalar evaluator, block kernels and the
//                exported C++ header all use it);
//   name         canonical infix function name; operators use their symbol too (below);
//   symbol       "+", "-", "*", "/" for infix operators, "^" for pow, "" otherwise;
//   arity, commutative;
//   aquasurf     the name in AQuaSurF's operator dictionaries ("" when it has none);
//   reads        what the gradient reads besides the adjoint: OpReads::Operands (a, b), ::Output (y),
//                ::Both or ::None (the backward pass skips recomputing values nobody reads);
//   cost         relative evaluation cost (forward + backward), relu = 1. PLACEHOLDER estimates from the
//                number of elementary operations (a transcendental counts ~4-8), to be calibrated by
//                measurement (issue 11); nothing depends on them yet;
//   torch        PyTorch spelling, fmt format: {0} = a, {1} = b, {2} = the literal exponent (pow);
//   latex        LaTeX spelling, fmt format: {0} = a, {1} = b, {2} = a in parentheses unless an atom,
//                {3} = the exponent; "" = \operatorname{name}(a). Infix operators are typeset by the
//                exporter (precedence rules);
//   latex_power  the LaTeX result binds like a power (x^{2}, e^{x}): parenthesised as a base.
// Semantics (NaN, inf, kinks) are documented in grammar/NUMERICS.md.
#define ACTSEARCH_OP_TABLE(P)                                                                                        \
    /* Leaves: the pre-activation input (in a space template argument `index`, x1 = 0, x2 = 1), a number     */   \
    /* literal (Node::value), a trainable per-channel parameter (Node::index 0 = beta, 1 = beta2, ...;       */   \
    /* Node::value its initial value, 1 unless written as beta(0.25)).                                       */   \
    P(X, "x", "", 0, false, "", None, 0.0f, "x", "x", false)                                                         \
    P(Const, "const", "", 0, false, "", None, 0.0f, "", "", false)                                                   \
    P(Beta, "beta", "", 0, false, "", None, 0.0f, "beta", "\\beta", false)                                           \
    /* Unary. */                                                                                                    \
    P(Neg, "neg", "-", 1, false, "negative", None, 0.5f, "(-{0})", "", false)                                        \
    P(Abs, "abs", "", 1, false, "abs", Operands, 1.0f, "torch.abs({0})", "\\left|{0}\\right|", false)                 \
    P(Square, "square", "", 1, false, "square", Operands, 1.0f, "torch.square({0})", "{2}^{{2}}", true)              \
    P(Cube, "cube", "", 1, false, "", Operands, 1.0f, "torch.pow({0}, 3)", "{2}^{{3}}", true)                        \
    P(Sqrt, "sqrt", "", 1, false, "", Output, 2.0f, "torch.sqrt({0})", "\\sqrt{{{0}}}", false)                       \
    P(LogAbs, "log_abs", "", 1, false, "", Operands, 5.0f, "torch.log(torch.abs({0}) + 1e-6)",                       \
      "\\log\\left(\\left|{0}\\right| + 10^{{-6}}\\right)", false)                                                   \
    P(Exp, "exp", "", 1, false, "exp", Output, 4.0f, "torch.exp({0})", "e^{{{0}}}", true)                            \
    P(Sin, "sin", "", 1, false, "", Operands, 8.0f, "torch.sin({0})", "\\sin\\left({0}\\right)", false)              \
    P(Cos, "cos", "", 1, false, "", Operands, 8.0f, "torch.cos({0})", "\\cos\\left({0}\\right)", false)              \
    P(Sinh, "sinh", "", 1, false, "sinh", Operands, 8.0f, "torch.sinh({0})", "\\sinh\\left({0}\\right)", false)      \
    P(Cosh, "cosh", "", 1, false, "cosh", Operands, 8.0f, "torch.cosh({0})", "\\cosh\\left({0}\\right)", false)      \
    P(Tanh, "tanh", "", 1, false, "tanh", Output, 5.0f, "torch.tanh({0})", "\\tanh\\left({0}\\right)", false)        \
    P(Asinh, "asinh", "", 1, false, "arcsinh", Operands, 8.0f, "torch.asinh({0})", "", false)                        \
    P(Atan, "atan", "", 1, false, "arctan", Operands, 8.0f, "torch.atan({0})", "\\arctan\\left({0}\\right)", false)  \
    P(Sinc, "sinc", "", 1, false, "", Operands, 10.0f, "torch.sinc({0} / math.pi)", "", false)                       \
    P(Relu, "relu", "", 1, false, "relu", Operands, 1.0f, "F.relu({0})", "", false)                                  \
    P(MinZero, "min0", "", 1, false, "", Operands, 1.0f, "(-F.relu(-{0}))", "\\min\\left({0}, 0\\right)", false)     \
    P(Sigmoid, "sigmoid", "", 1, false, "sigmoid", Output, 5.0f, "torch.sigmoid({0})", "\\sigma\\left({0}\\right)",  \
      false)                                                                                                         \
    P(Softplus, "softplus", "", 1, false, "softplus", Operands, 10.0f, "F.softplus({0})", "", false)                 \
    P(Gaussian, "gaussian", "", 1, false, "", Both, 5.0f, "torch.exp(-torch.square({0}))", "e^{{-{2}^{{2}}}}", true) \
    P(Erf, "erf", "", 1, false, "erf", Operands, 8.0f, "torch.erf({0})", "", false)                                  \
    P(Erfc, "erfc", "", 1, false, "erfc", Operands, 8.0f, "torch.erfc({0})", "", false)                              \
    P(Relu6, "relu6", "", 1, false, "", Operands, 1.0f, "F.relu6({0})", "", false)                                   \
    /* relu6(x + 3) / 6 */                                                                                          \
    P(HardSigmoid, "hard_sigmoid", "", 1, false, "", Operands, 1.5f, "F.hardsigmoid({0})", "", false)                \
    /* x relu6(x + 3) / 6 */                                                                                        \
    P(HardSwish, "hard_swish", "", 1, false, "", Operands, 2.0f, "F.hardswish({0})", "", false)                      \
    /* clip(0.2x + 0.5, 0, 1), as Keras (and AQuaSurF's hard_sigmoid) define it */                                  \
    P(KerasHardSigmoid, "keras_hard_sigmoid", "", 1, false, "hard_sigmoid", Operands, 1.5f,                          \
      "torch.clamp(0.2 * {0} + 0.5, 0.0, 1.0)", "", false)                                                           \
    /* slope 0.01 */                                                                                                \
    P(LeakyRelu, "leaky_relu", "", 1, false, "", Operands, 1.0f, "F.leaky_relu({0}, 0.01)", "", false)               \
    P(Elu, "elu", "", 1, false, "elu", Operands, 6.0f, "F.elu({0})", "", false)                                      \
    P(Selu, "selu", "", 1, false, "selu", Operands, 6.0f, "F.selu({0})", "", false)                                  \
    /* erf form */                                                                                                  \
    P(Gelu, "gelu", "", 1, false, "", Operands, 12.0f, "F.gelu({0})", "", false)                                     \
    /* x sigmoid(x) */                                                                                              \
    P(Swish, "swish", "", 1, false, "swish", Both, 6.0f, "F.silu({0})", "", false)                                   \
    P(Mish, "mish", "", 1, false, "", Operands, 16.0f, "F.mish({0})", "", false)                                     \
    P(Softsign, "softsign", "", 1, false, "softsign", Operands, 2.0f, "F.softsign({0})", "", false)                  \
    P(LogSigmoid, "log_sigmoid", "", 1, false, "log_sigmoid", Operands, 10.0f, "F.logsigmoid({0})", "", false)       \
    P(Expm1, "expm1", "", 1, false, "expm1", Operands, 5.0f, "torch.expm1({0})", "", false)                          \
    P(Reciprocal, "reciprocal", "", 1, false, "reciprocal", Operands, 2.0f, "torch.reciprocal({0})",                 \
      "\\frac{{1}}{{{0}}}", false)                                                                                   \
    /* log(x): NaN for x < 0 */                                                                                     \
    P(Log, "log", "", 1, false, "", Operands, 5.0f, "torch.log({0})", "\\log\\left({0}\\right)", false)              \
    /* x^p, p = Node::value (a literal exponent) */                                                                 \
    P(Pow, "pow", "^", 1, false, "", Operands, 4.0f, "torch.pow({0}, {2})", "{2}^{{{3}}}", true)                    \
    /* Binary. */                                                                                                   \
    P(Add, "add", "+", 2, true, "add", None, 0.5f, "({0} + {1})", "", false)                                         \
    P(Sub, "sub", "-", 2, false, "sub", None, 0.5f, "({0} - {1})", "", false)                                        \
    P(Mul, "mul", "*", 2, true, "mul", Operands, 1.0f, "({0} * {1})", "", false)                                     \
    P(Div, "div", "/", 2, false, "div", Operands, 2.0f, "({0} / {1})", "\\frac{{{0}}}{{{1}}}", false)                \
    P(Max, "max", "", 2, true, "max", Operands, 1.0f, "torch.maximum({0}, {1})", "\\max\\left({0}, {1}\\right)",     \
      false)                                                                                                         \
    P(Min, "min", "", 2, true, "min", Operands, 1.0f, "torch.minimum({0}, {1})", "\\min\\left({0}, {1}\\right)",     \
      false)                                                                                                         \
    /* Added after the binary ops: op codes are stored, new rows go last. clamp(x, -1, 1) */                        \
    P(HardTanh, "hard_tanh", "", 1, false, "", Operands, 1.0f, "F.hardtanh({0})", "", false)

enum class Op : std::uint8_t {
#define ACTSEARCH_OP_ENUM(Enum, ...) Enum,
    ACTSEARCH_OP_TABLE(ACTSEARCH_OP_ENUM)
#undef ACTSEARCH_OP_ENUM
    Count_
};

inline constexpr int kOpCount = static_cast<int>(Op::Count_);

// What an op's gradient reads besides the adjoint (see the table's `reads` column).
enum class OpReads : std::uint8_t { None, Operands, Output, Both };

struct OpInfo {
    Op op;
    std::string_view name;    // canonical infix function name ("sigmoid"); operators use their symbol
    std::string_view symbol;  // "+", "-", "*", "/" for infix operators, "" otherwise
    std::uint8_t arity;       // 0, 1 or 2
    bool commutative;
    std::string_view aquasurf;  // name in AQuaSurF's dictionaries, "" when none
    OpReads reads;              // what the gradient reads besides the adjoint
    float cost;                 // relative cost, relu = 1 (placeholder estimates, see the table)
    std::string_view torch;     // PyTorch spelling (fmt format, see the table)
    std::string_view latex;     // LaTeX spelling (fmt format, see the table); "" = \operatorname
    bool latex_power;           // the LaTeX spelling binds like a power
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

// Partial derivatives of apply_scalar(op, a, b) with respect to a and b (the fingerprint's reverse pass
// and the reference of the evaluators' gradients). For unary ops (and Pow, whose exponent is a
// literal) d_b is 0. Leaves are identities: d_a = 1. Conventions at kinks: grammar/NUMERICS.md.
struct ScalarPartials {
    double d_a = 0.0;
    double d_b = 0.0;
};
ScalarPartials scalar_partials(Op op, double a, double b = 0.0) noexcept;

// Numerical constants, documented in grammar/NUMERICS.md.
inline constexpr float kLogAbsEps = 1e-6f;   // log_abs(x) = log(|x| + eps)
inline constexpr float kLeakySlope = 0.01f;
inline constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
inline constexpr double kSeluScale = 1.0507009873554804934193349852946;

}  // namespace actsearch
