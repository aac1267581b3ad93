// Reference semantics of every primitive in double precision (grammar/NUMERICS.md is the prose form):
// the templates of primitive_math.inc instantiated with double and std:: elementary functions.
// Used by constant folding, the fingerprint, and as the oracle of the evaluator and exporter tests.
#include <limits>

#include "actsearch/grammar/ops.hpp"
#include "eval_scalar.hpp"
#include "primitive_math.hpp"

namespace actsearch {

double apply_scalar(Op op, double a, double b) noexcept {
    switch (op) {
#define ACTSEARCH_OP_VALUE(Enum, ...) \
    case Op::Enum: return detail::primitive::Enum::value(a, b);
        ACTSEARCH_OP_TABLE(ACTSEARCH_OP_VALUE)
#undef ACTSEARCH_OP_VALUE
        case Op::Count_: break;
    }
    return std::numeric_limits<double>::quiet_NaN();
}

ScalarPartials scalar_partials(Op op, double a, double b) noexcept {
    switch (op) {
#define ACTSEARCH_OP_PARTIALS(Enum, ...)                                  \
    case Op::Enum: {                                                      \
        using M = detail::primitive::Enum;                                \
        const double y = M::value(a, b);                                  \
        return {M::grad_a(1.0, a, b, y), M::grad_b(1.0, a, b, y)};        \
    }
        ACTSEARCH_OP_TABLE(ACTSEARCH_OP_PARTIALS)
#undef ACTSEARCH_OP_PARTIALS
        case Op::Count_: break;
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return {nan, nan};
}

}  // namespace actsearch
