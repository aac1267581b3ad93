// Eigen GEMM with the depth cut into L1-friendly chunks. Every engine GEMM whose depth can exceed a
// few hundred (dense layers on images, im2col convolutions with many channels) should go through
// chunked_gemm(): see kMaxGemmDepth for why.
#pragma once

#include <algorithm>

#include <Eigen/Core>

namespace actsearch::engine {

// Products are split along their depth into pieces of at most this many. Eigen 3.4's AVX-512 blocking
// multiplies the L1 size by 4 before choosing kc, so for depths ~300..900 it keeps one kc block whose
// 48 x kc LHS panel overflows L1: measured on Zen 5, a 128x784 by 784x128 product ran at 13 GFLOP/s,
// and at 133 GFLOP/s as four depth-196 products. Depth chunks depend only on the depth, never on the
// thread count, so they do not affect determinism.
constexpr Eigen::Index kMaxGemmDepth = 256;

// dst = lhs * rhs (accumulate = false) or dst += lhs * rhs, the depth cut into equal chunks.
template <class Dst, class Lhs, class Rhs>
void chunked_gemm(Dst&& dst, const Lhs& lhs, const Rhs& rhs, bool accumulate) {
    const Eigen::Index depth = lhs.cols();
    if (depth <= kMaxGemmDepth) {
        if (accumulate) dst.noalias() += lhs * rhs;
        else dst.noalias() = lhs * rhs;
        return;
    }
    const Eigen::Index chunks = (depth + kMaxGemmDepth - 1) / kMaxGemmDepth;
    const Eigen::Index chunk = ((depth + chunks - 1) / chunks + 7) / 8 * 8;
    if (!accumulate) dst.setZero();
    for (Eigen::Index k0 = 0; k0 < depth; k0 += chunk) {
        const Eigen::Index k = std::min(chunk, depth - k0);
        dst.noalias() += lhs.middleCols(k0, k) * rhs.middleRows(k0, k);
    }
}

}  // namespace actsearch::engine
