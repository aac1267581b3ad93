#include "actsearch/grammar/ops.hpp"

#include <array>
#include <utility>

namespace actsearch {
namespace {

constexpr std::array<OpInfo, kOpCount> kOps{{
#define ACTSEARCH_OP_INFO(Enum, name, symbol, arity, commutative, aquasurf, reads, cost, torch, latex, latex_power) \
    {Op::Enum, name, symbol, arity, commutative, aquasurf, OpReads::reads, cost, torch, latex, latex_power},
    ACTSEARCH_OP_TABLE(ACTSEARCH_OP_INFO)
#undef ACTSEARCH_OP_INFO
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
