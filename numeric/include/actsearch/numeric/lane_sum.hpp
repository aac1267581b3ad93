// Sums of float arrays in a fixed order: 16 independent float partial sums over whole blocks of 16
// (the compiler vectorises them without reassociating), combined in double in lane order, then the
// tail added in double. The order depends only on n, so a result is the same whatever the thread count
// or what ran before; and it is the same function wherever such a sum is needed (the evaluator's
// per-channel reductions, the trainer's gradient norm).
#pragma once

#include <cstddef>

namespace actsearch::numeric {

inline constexpr std::size_t kSumLanes = 16;

// The sum of term(v[i]) over [0, n). `term` is called with a float inside the blocks and with a double
// for the tail, so a generic lambda computes the tail's terms in double.
template <typename Term>
double lane_sum(const float* v, std::size_t n, Term term) noexcept {
    float lanes[kSumLanes] = {};
    std::size_t i = 0;
    for (; i + kSumLanes <= n; i += kSumLanes)
        for (std::size_t j = 0; j < kSumLanes; ++j) lanes[j] += term(v[i + j]);
    double total = 0.0;
    for (float l : lanes) total += l;
    for (; i < n; ++i) total += term(double(v[i]));
    return total;
}

// The sum of v[0, n).
inline double lane_sum(const float* v, std::size_t n) noexcept {
    return lane_sum(v, n, [](auto x) { return x; });
}

// The sum of squares of v[0, n) (a squared L2 norm).
inline double lane_sum_of_squares(const float* v, std::size_t n) noexcept {
    return lane_sum(v, n, [](auto x) { return x * x; });
}

}  // namespace actsearch::numeric
