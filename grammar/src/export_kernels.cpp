// The exported C++'s per-element math compiled as a user compiles an exported header: the templates of
// primitive_math.inc over float with the C library's elementary functions (not the evaluator's
// vectorised approximations), in plain loops at -O2 with no vectorisation (grammar/CMakeLists.txt sets
// both for this file, whatever the build type; g++ 12 -O2 -march=native vectorises none of the exported
// functions' loops). cost::calibrate times them for the inference cost of an exported activation.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "actsearch/grammar/export.hpp"
#include "actsearch/grammar/ops.hpp"

namespace actsearch {
namespace {

namespace exported {
#include "primitive_math.inc"
}  // namespace exported

template <class Math, int Arity>
void kernel(const float* a, const float* b, float* y, std::size_t n, float parameter) {
    for (std::size_t i = 0; i < n; ++i) {
        if constexpr (Arity == 2)
            y[i] = Math::value(a[i], b[i]);
        else
            y[i] = Math::value(a[i], parameter);
    }
}

}  // namespace

ExportedKernel exported_kernel(Op op) noexcept {
    switch (op) {
#define ACTSEARCH_OP_KERNEL(Enum, name, symbol, arity, ...) \
    case Op::Enum: return &kernel<exported::Enum, arity>;
        ACTSEARCH_OP_TABLE(ACTSEARCH_OP_KERNEL)
#undef ACTSEARCH_OP_KERNEL
    case Op::Count_: break;
    }
    return nullptr;
}

}  // namespace actsearch
