// Double-precision derivatives of every primitive: the reference the fingerprint's reverse pass uses and
// the semantics the float evaluator and the C++ exporter reproduce. Conventions at kinks are those of
// grammar/NUMERICS.md (PyTorch's where it has one).
#pragma once

#include "actsearch/grammar/ops.hpp"

namespace actsearch::detail {

// Partial derivatives of apply_scalar(op, a, b) with respect to a and b. For unary ops (and Pow, whose
// exponent is a literal) d_b is 0. Leaves are identities: d_a = 1.
struct ScalarPartials {
    double d_a = 0.0;
    double d_b = 0.0;
};

ScalarPartials scalar_partials(Op op, double a, double b = 0.0) noexcept;

}  // namespace actsearch::detail
