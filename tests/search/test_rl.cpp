// The RL strategy learns a small table with one clearly best region.
#include <gtest/gtest.h>

#include <numeric>

#include "actsearch/search/strategy.hpp"

namespace actsearch::search {
namespace {

const std::vector<std::uint32_t> kArities = {4, 6, 6, 5};

// High reward when token 2 == 3 and token 3 == 1 (1 in 30 random candidates), plus a little
// deterministic per-candidate noise.
double table_reward(const Choice& c) {
    const double noise = 0.02 * (((c[0] * 7 + c[1] * 13 + c[2] * 29 + c[3] * 31) % 11) / 10.0 - 0.5);
    return (c[2] == 3 && c[3] == 1 ? 0.9 : 0.1) + noise;
}

// Batch means of the rewards of the proposals, in order, over `batches` batches.
std::vector<double> run(std::uint64_t seed, int batches) {
    StrategyOptions o;  // the defaults: batch 16, hidden 64, learning rate 3e-3, 4 PPO epochs
    o.seed = seed;
    auto s = make_strategy("rl", kArities, o);
    std::vector<double> means;
    for (int b = 0; b < batches; ++b) {
        double sum = 0.0;
        for (const auto& c : s->propose(o.batch)) {
            const double r = table_reward(c);
            s->observe(c, r);
            sum += r;
        }
        means.push_back(sum / static_cast<double>(o.batch));
    }
    return means;
}

TEST(ReinforcementLearning, LearnsTheBestRegionOfATable) {
    // Sampling is without replacement, so the 24 good candidates run out: the test is how early they
    // are found. 12 batches are 192 of the 720 candidates; random search finds 6.4 good ones there.
    const auto means = run(/*seed=*/1, 12);
    const double first = std::accumulate(means.begin(), means.begin() + 3, 0.0) / 3.0;
    const double random_expectation = 0.1 + 0.8 / 30.0;
    EXPECT_NEAR(first, random_expectation, 0.1);
    // Good candidates found: each contributes about 0.8 more than a poor one to its batch's sum.
    const double total = std::accumulate(means.begin(), means.end(), 0.0) * 16.0;
    const double good = (total - 0.1 * 192.0) / 0.8;
    EXPECT_GT(good, 18.0) << "good candidates found in 192 proposals: about " << good;
}

TEST(ReinforcementLearning, DeterministicForAFixedSeed) { EXPECT_EQ(run(3, 6), run(3, 6)); }

TEST(ReinforcementLearning, KeepsFindingNewCandidatesAfterConverging) {
    // A tiny space the controller learns quickly; it must still get through all of it.
    const std::vector<std::uint32_t> arities = {3, 2, 2};
    StrategyOptions o;
    o.batch = 4;
    o.hidden = 8;
    o.learning_rate = 0.05;
    auto s = make_strategy("rl", arities, o);
    int proposals = 0;
    for (auto batch = s->propose(4); !batch.empty() && proposals < 2000; batch = s->propose(4))
        for (const auto& c : batch) {
            ++proposals;
            s->observe(c, c == Choice{0, 0, 0} ? 1.0 : 0.0);
        }
    EXPECT_TRUE(s->propose(1).empty()) << "all 12 candidates proposed: nothing new to offer";
    EXPECT_LT(proposals, 2000);
}

}  // namespace
}  // namespace actsearch::search
