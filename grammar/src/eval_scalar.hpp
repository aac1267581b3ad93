// Double-precision derivatives of every primitive: the reference the fingerprint's reverse pass uses and
// the semantics the float evaluator and the C++ exporter reproduce. Declared publicly in ops.hpp
// (scalar_partials); kept under detail:: for the library's own callers.
#pragma once

#include "actsearch/grammar/ops.hpp"

namespace actsearch::detail {

using actsearch::ScalarPartials;
using actsearch::scalar_partials;

}  // namespace actsearch::detail
