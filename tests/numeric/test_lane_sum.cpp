// The fixed-order float sums against values written down from the two functions they replaced (main
// 33e11f0: run_sum in grammar/src/program.cpp, gradient_norm in src/engine/src/trainer.cpp). The inputs
// make the order matter (4096^2 = 2^24 absorbs a following 1 in float) while every square is exact, so
// the values do not depend on whether the compiler fuses multiply and add.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "actsearch/numeric/lane_sum.hpp"

namespace actsearch::numeric {
namespace {

std::vector<float> order_sensitive(std::size_t n) {
    std::vector<float> v;
    for (std::size_t i = 0; i < n; ++i) v.push_back(i % 7 == 0 ? 4096.0f : 1.0f + 0.5f * float(i % 3));
    return v;
}

TEST(LaneSum, SumsAreThoseOfBefore) {
    const std::vector<float> v = order_sensitive(16 * 5 + 7);   // five whole blocks and a tail
    EXPECT_EQ(lane_sum(v.data(), v.size()), 0x1.a0dfp+15);
    EXPECT_EQ(lane_sum_of_squares(v.data(), v.size()), 0x1.a000164p+27);
    EXPECT_EQ(std::sqrt(lane_sum_of_squares(v.data(), v.size())), 0x1.cd82c09da7f86p+13);   // the trainer's gradient norm
    std::vector<float> w;
    for (int i = 0; i < 16 * 3 + 5; ++i)
        w.push_back(float(i + 1) / 3.0f * (i % 2 ? -1.0f : 1.0f) + 1e7f * float(i % 16 == 3));
    EXPECT_EQ(lane_sum(w.data(), w.size()), 0x1.312d04aaaabp+25);
}

TEST(LaneSum, TheOrderIsFixedNotNaive) {
    // In order, float would lose every 1 after a 2^24; the lanes keep them apart.
    std::vector<float> v(32, 1.0f);
    v[0] = 16777216.0f;   // 2^24
    EXPECT_EQ(lane_sum(v.data(), v.size()), 16777216.0 + 31.0 - 1.0);   // lane 0 loses its one 1, no other
    EXPECT_EQ(lane_sum(v.data(), 0), 0.0);
    EXPECT_EQ(lane_sum(v.data() + 1, 5), 5.0);                            // a tail only, summed in double
}

}  // namespace
}  // namespace actsearch::numeric
