// Intervals and tests of means against values computed by hand: tables of Student's t, and Welch's test
// with df = 2, whose distribution has the closed form P(|T| >= t) = 1 - t / sqrt(t^2 + 2).
#include <gtest/gtest.h>

#include <cmath>

#include "actsearch/stats/means.hpp"

using namespace actsearch::stats;

TEST(Means, StudentTQuantilesForTwoThreeFiveAndTenSeeds) {
    // t(0.975, n - 1) for n = 2, 3, 5, 10: the factor of a 95% interval.
    EXPECT_NEAR(t_critical(1), 12.706204736, 1e-8);
    EXPECT_NEAR(t_critical(2), 4.302652730, 1e-8);
    EXPECT_NEAR(t_critical(4), 2.776445105, 1e-8);
    EXPECT_NEAR(t_critical(9), 2.262157163, 1e-8);
    EXPECT_NEAR(t_critical(9, 0.99), 3.249835542, 1e-8);
    // df = 2: P(|T| >= t) = 1 - t / sqrt(t^2 + 2).
    EXPECT_NEAR(t_two_sided_p(std::sqrt(2.0), 2), 1 - std::sqrt(2.0) / 2, 1e-12);
    EXPECT_NEAR(t_two_sided_p(-1.0, 2), 1 - 1 / std::sqrt(3.0), 1e-12);
    EXPECT_EQ(t_two_sided_p(0, 5), 1.0);
}

TEST(Means, IntervalOfTheMean) {
    // .861 .865 .869: mean .865, s = .004; .865 +- 4.302653 * .004 / sqrt(3).
    const auto ci = mean_interval(0.865, 0.004, 3);
    ASSERT_TRUE(ci);
    EXPECT_NEAR(ci->low, 0.865 - 0.00993655, 1e-8);
    EXPECT_NEAR(ci->high, 0.865 + 0.00993655, 1e-8);
    // Two values .80 .82: s = .0141421, half width 12.706205 * .01.
    const auto two = mean_interval(0.81, std::sqrt(0.0002), 2);
    ASSERT_TRUE(two);
    EXPECT_NEAR(two->high - two->low, 2 * 0.12706205, 1e-7);
    // One value: the spread, and so the interval, is unknown (never a zero-width interval).
    EXPECT_FALSE(mean_interval(0.9, 0.0, 1));
    EXPECT_FALSE(mean_interval(NAN, 0.0, 3));
}

TEST(Means, WelchTestByHand) {
    // {.80, .82} against {.78, .80}: s = .0141421 on both, se = .0141421, t = sqrt(2), df = 2,
    // p = 1 - sqrt(2)/2 = .292893: indistinguishable.
    const Sample a{0.81, std::sqrt(0.0002), 2}, b{0.79, std::sqrt(0.0002), 2};
    auto w = welch_test(a, b);
    ASSERT_TRUE(w);
    EXPECT_NEAR(w->t, std::sqrt(2.0), 1e-9);
    EXPECT_NEAR(w->df, 2.0, 1e-9);
    EXPECT_NEAR(w->p, 0.292893219, 1e-8);
    // {.80, .82} against a mean of .91 with the same spread: t = -.10 / .0141421 = -7.0711, p = 1 - 7.0711/sqrt(52) = .019419.
    const Sample far{0.91, std::sqrt(0.0002), 2};
    w = welch_test(a, far);
    ASSERT_TRUE(w);
    EXPECT_NEAR(w->t, -std::sqrt(50.0), 1e-9);
    EXPECT_NEAR(w->p, 1 - std::sqrt(50.0) / std::sqrt(52.0), 1e-9);
    // Unequal spreads: s = .004 and .002 over 3 values each. t = .005 / sqrt(20e-6 / 3) = 1.936492,
    // df = (20/3)^2 / ((16/3)^2/2 + (4/3)^2/2) = 400/136 = 2.941176.
    w = welch_test(Sample{0.865, 0.004, 3}, Sample{0.860, 0.002, 3});
    ASSERT_TRUE(w);
    EXPECT_NEAR(w->t, 1.936492, 1e-6);
    EXPECT_NEAR(w->df, 400.0 / 136.0, 1e-9);
    EXPECT_GT(w->p, 0.05);
}

TEST(Means, NoTestWithoutASpreadOnBothSides) {
    EXPECT_FALSE(welch_test(Sample{0.9, 0, 1}, Sample{0.8, 0.01, 3}));
    EXPECT_FALSE(welch_test(Sample{0.9, 0.01, 3}, Sample{NAN, 0.01, 3}));
    auto w = welch_test(Sample{0.5, 0, 3}, Sample{0.5, 0, 4});
    ASSERT_TRUE(w);
    EXPECT_EQ(w->p, 1.0);
    w = welch_test(Sample{0.4, 0, 3}, Sample{0.5, 0, 4});
    ASSERT_TRUE(w);
    EXPECT_EQ(w->p, 0.0);
}
