// The leaderboard's statistics against values computed by hand (the t quantiles and Welch's test
// themselves: tests/stats/test_means.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>

#include "leaderboard_stats.hpp"

namespace actsearch::cli {
namespace {

TEST(LeaderboardStats, TieFollowsWelchsTestAtFivePercent) {
    // {.80, .82} against {.78, .80}: t = sqrt(2), df = 2, p = 1 - sqrt(2)/2 = .2929 (test_means.cpp).
    const Sample a{0.81, std::sqrt(0.0002), 2}, b{0.79, std::sqrt(0.0002), 2};
    EXPECT_EQ(tie_with_best(b, a), Tie::Yes);
    // Against a mean of .91 with the same spread: p = 1 - sqrt(50/52) = .0194.
    EXPECT_EQ(tie_with_best(a, Sample{0.91, std::sqrt(0.0002), 2}), Tie::No);
    // At 1% the same pair is a tie.
    EXPECT_EQ(tie_with_best(a, Sample{0.91, std::sqrt(0.0002), 2}, 0.01), Tie::Yes);
}

TEST(LeaderboardStats, EdgeCases) {
    // One value on either side: no test.
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
