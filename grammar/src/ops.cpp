#include "actsearch/grammar/ops.hpp"

#include <array>
#include <utility>

namespace actsearch {
namespace {

constexpr std::array<OpInfo, kOpCount> kOps{{
    {Op::X, "x", "", 0, false},
    {Op::Const, "const", "", 0, false},
    {Op::Beta, "beta", "", 0, false},
    {Op::Neg, "neg", "-", 1, false},
    {Op::Abs, "abs", "", 1, false},
    {Op::Square, "square", "", 1, false},
    {Op::Cube, "cube", "", 1, false},
    {Op::Sqrt, "sqrt", "", 1, false},
    {Op::LogAbs, "log_abs", "", 1, false},
    {Op::Exp, "exp", "", 1, false},
    {Op::Sin, "sin", "", 1, false},
    {Op::Cos, "cos", "", 1, false},
    {Op::Sinh, "sinh", "", 1, false},
    {Op::Cosh, "cosh", "", 1, false},
    {Op::Tanh, "tanh", "", 1, false},
    {Op::Asinh, "asinh", "", 1, false},
    {Op::Atan, "atan", "", 1, false},
    {Op::Sinc, "sinc", "", 1, false},
    {Op::Relu, "relu", "", 1, false},
    {Op::MinZero, "min0", "", 1, false},
    {Op::Sigmoid, "sigmoid", "", 1, false},
    {Op::Softplus, "softplus", "", 1, false},
    {Op::Gaussian, "gaussian", "", 1, false},
    {Op::Erf, "erf", "", 1, false},
    {Op::Erfc, "erfc", "", 1, false},
    {Op::Relu6, "relu6", "", 1, false},
    {Op::HardSigmoid, "hard_sigmoid", "", 1, false},
    {Op::HardSwish, "hard_swish", "", 1, false},
    {Op::KerasHardSigmoid, "keras_hard_sigmoid", "", 1, false},
    {Op::LeakyRelu, "leaky_relu", "", 1, false},
    {Op::Elu, "elu", "", 1, false},
    {Op::Selu, "selu", "", 1, false},
    {Op::Gelu, "gelu", "", 1, false},
    {Op::Swish, "swish", "", 1, false},
    {Op::Mish, "mish", "", 1, false},
    {Op::Softsign, "softsign", "", 1, false},
    {Op::LogSigmoid, "log_sigmoid", "", 1, false},
    {Op::Expm1, "expm1", "", 1, false},
    {Op::Reciprocal, "reciprocal", "", 1, false},
    {Op::Log, "log", "", 1, false},
    {Op::Pow, "pow", "^", 1, false},
    {Op::Add, "add", "+", 2, true},
    {Op::Sub, "sub", "-", 2, false},
    {Op::Mul, "mul", "*", 2, true},
    {Op::Div, "div", "/", 2, false},
    {Op::Max, "max", "", 2, true},
    {Op::Min, "min", "", 2, true},
}};

constexpr bool table_in_enum_order() {
    for (int i = 0; i < kOpCount; ++i)
        if (static_cast<int>(kOps[i].op) != i) return false;
    return true;
}
static_assert(table_in_enum_order(), "kOps must list every Op in enum order");

// Names users type besides the canonical ones.
constexpr std::array<std::pair<std::string_view, Op>, 16> kAliases{{
    {"silu", Op::Swish},
    {"hardswish", Op::HardSwish},
    {"hsigmoid", Op::HardSigmoid},
    {"hardsigmoid", Op::HardSigmoid},
    {"hswish", Op::HardSwish},
    {"arcsinh", Op::Asinh},
    {"arctan", Op::Atan},
    {"negative", Op::Neg},
    {"multiply", Op::Mul},
    {"maximum", Op::Max},
    {"minimum", Op::Min},
    {"exp_neg_sq", Op::Gaussian},
    {"leakyrelu", Op::LeakyRelu},   // PyTorch's spelling (LeakyReLU, default slope 0.01 as here)
    {"logsigmoid", Op::LogSigmoid},  // PyTorch's spelling
    {"hard_silu", Op::HardSwish},    // Keras 3's name for hard swish
    {"ln", Op::Log},
}};

}  // namespace

const OpInfo& op_info(Op op) noexcept { return kOps[static_cast<std::size_t>(op)]; }

std::span<const OpInfo> all_ops() noexcept { return kOps; }

std::optional<Op> op_by_name(std::string_view name) noexcept {
    for (const auto& info : kOps)
        if (info.arity > 0 && info.name == name) return info.op;
    for (const auto& [alias, op] : kAliases)
        if (alias == name) return op;
    return std::nullopt;
}

}  // namespace actsearch
