// The leaderboard's statistics against values computed by hand (tables of Student's t; Welch's test with
// df = 2, whose distribution has the closed form P(|T| >= t) = 1 - t / sqrt(t^2 + 2)).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>

#include "leaderboard_stats.hpp"

namespace actsearch::cli {
namespace {

TEST(LeaderboardStats, StudentTQuantilesForTwoThreeFiveAndTenSeeds) {
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

TEST(LeaderboardStats, IntervalOfTheMean) {
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

TEST(LeaderboardStats, WelchTestByHand) {
    // {.80, .82} against {.78, .80}: s = .0141421 on both, se = .0141421, t = sqrt(2), df = 2,
    // p = 1 - sqrt(2)/2 = .292893: indistinguishable.
    const Sample a{0.81, std::sqrt(0.0002), 2}, b{0.79, std::sqrt(0.0002), 2};
    auto w = welch_test(a, b);
    ASSERT_TRUE(w);
    EXPECT_NEAR(w->t, std::sqrt(2.0), 1e-9);
    EXPECT_NEAR(w->df, 2.0, 1e-9);
    EXPECT_NEAR(w->p, 0.292893219, 1e-8);
    EXPECT_EQ(tie_with_best(b, a), Tie::Yes);
    // {.80, .82} against a mean of .90 with the same spread: t = -7.0711, p = 1 - 7.0711/sqrt(52) = .019419.
    const Sample far{0.91, std::sqrt(0.0002), 2};
    w = welch_test(a, far);
    ASSERT_TRUE(w);
    EXPECT_NEAR(w->t, -std::sqrt(50.0), 1e-9);
    EXPECT_NEAR(w->p, 1 - std::sqrt(50.0) / std::sqrt(52.0), 1e-9);
    EXPECT_EQ(tie_with_best(a, far), Tie::No);
    // Unequal spreads: s = .004 and .002 over 3 values each. t = .005 / sqrt(20e-6 / 3) = 1.936492,
    // df = (20/3)^2 / ((16/3)^2/2 + (4/3)^2/2) = 400/136 = 2.941176.
    w = welch_test(Sample{0.865, 0.004, 3}, Sample{0.860, 0.002, 3});
    ASSERT_TRUE(w);
    EXPECT_NEAR(w->t, 1.936492, 1e-6);
    EXPECT_NEAR(w->df, 400.0 / 136.0, 1e-9);
    EXPECT_GT(w->p, 0.05);
}

TEST(LeaderboardStats, EdgeCases) {
    // One value on either side: no test.
    EXPECT_FALSE(welch_test(Sample{0.9, 0, 1}, Sample{0.8, 0.01, 3}));
    EXPECT_EQ(tie_with_best(Sample{0.8, 0.01, 3}, Sample{0.9, 0, 1}), Tie::Unknown);
    EXPECT_EQ(tie_with_best(Sample{0.8, 0, 1}, Sample{0.9, 0.01, 3}), Tie::Unknown);
    // No spread at all: equal means are a tie, different ones are not.
    EXPECT_EQ(tie_with_best(Sample{0.5, 0, 3}, Sample{0.5, 0, 4}), Tie::Yes);
    EXPECT_EQ(tie_with_best(Sample{0.4, 0, 3}, Sample{0.5, 0, 4}), Tie::No);
    // No ok value: not tied.
    EXPECT_EQ(tie_with_best(Sample{NAN, 0, 0}, Sample{0.5, 0.1, 4}), Tie::No);
}

TEST(LeaderboardStats, RowsAreComparedWithTheBestOfTheirTaskAndFidelity) {
    auto row = [](std::int64_t id, std::string task, double mean, double sd, std::int64_t n) {
        db::LeaderboardRow r;
        r.candidate = id;
        r.task = std::move(task);
        r.fidelity = "f";
        r.mean = mean;
        r.stddev = sd;
        r.n_ok = r.seeds = n;
        return r;
    };
    const std::vector<db::LeaderboardRow> rows = {
        row(1, "cnn", 0.95, 0.0, 1),              // best of cnn, one seed
        row(2, "mlp", 0.91, std::sqrt(0.0002), 2),  // best of mlp
        row(3, "mlp", 0.89, std::sqrt(0.0002), 2),  // p = .2929: tie
        row(4, "cnn", 0.90, 0.01, 3),             // its best has one seed: unknown
        row(5, "mlp", 0.81, std::sqrt(0.0002), 2),  // p = .0194: separated
        row(6, "mlp", NAN, 0.0, 0),               // nothing ok
    };
    const auto stats = leaderboard_stats(rows);
    ASSERT_EQ(stats.size(), rows.size());
    EXPECT_EQ(stats[0].tie, Tie::Best);
    EXPECT_FALSE(stats[0].ci);
    EXPECT_EQ(stats[1].tie, Tie::Best);
    EXPECT_EQ(stats[2].tie, Tie::Yes);
    EXPECT_EQ(stats[3].tie, Tie::Unknown);
    ASSERT_TRUE(stats[3].ci);
    EXPECT_NEAR(stats[3].ci->high - stats[3].ci->low, 2 * 4.302652730 * 0.01 / std::sqrt(3.0), 1e-9);
    EXPECT_EQ(stats[4].tie, Tie::No);
    EXPECT_EQ(stats[5].tie, Tie::No);
}

}  // namespace
}  // namespace actsearch::cli
