// Regularized evolution: warm-up, one-token mutations, asynchrony, and that it climbs a landscape.
#include <gtest/gtest.h>

#include <deque>
#include <numeric>
#include <set>

#include "actsearch/search/choice_shape.hpp"
#include "actsearch/search/strategy.hpp"
#include "test_support.hpp"

namespace actsearch::search {
namespace {

// Two units, about 1.3 million candidates: too many for luck.
const std::vector<std::uint32_t> kArities = {1, 1, 8, 8, 6, 3, 3, 8, 8, 6};
const Choice kTarget = {0, 0, 5, 2, 3, 1, 2, 7, 0, 4};

StrategyOptions options(std::uint64_t seed) {
    StrategyOptions o;
    o.seed = seed;
    o.population = 20;
    o.tournament = 5;
    return o;
}

TEST(Evolution, WarmUpIsDistinctRandomCandidates) {
    const ChoiceShape shape(kArities);
    auto s = make_strategy("evolution", kArities, options(1));
    // Nothing observed yet: even more than a population's worth of proposals can only be random.
    const auto warm_up = s->propose(30);
    std::set<std::uint64_t> distinct;
    for (const auto& c : warm_up) distinct.insert(shape.encode(c));
    EXPECT_EQ(distinct.size(), warm_up.size());
}

TEST(Evolution, ChildrenDifferFromAPopulationMemberInExactlyOneToken) {
    const testing::MatchTarget reward(kTarget, 0.02);
    auto s = make_strategy("evolution", kArities, options(2));
    std::deque<Choice> population;  // the last `population` observed, as the strategy keeps them
    for (const auto& c : s->propose(20)) {
        s->observe(c, reward(c));
        population.push_back(c);
    }
    for (int step = 0; step < 200; ++step) {
        const auto children = s->propose(1 + step % 3);  // asynchronous batches of 1..3
        for (const auto& child : children) {
            const bool has_parent = std::any_of(population.begin(), population.end(), [&](const Choice& p) {
                return testing::token_distance(p, child) == 1;
            });
            EXPECT_TRUE(has_parent) << "step " << step;
        }
        for (const auto& child : children) {
            s->observe(child, reward(child));
            population.push_back(child);
            population.pop_front();
        }
    }
}

TEST(Evolution, RejectsObservationsItDidNotPropose) {
    auto s = make_strategy("evolution", kArities, options(3));
    const auto c = s->propose(1).at(0);
    s->observe(c, 0.5);
    EXPECT_THROW(s->observe(c, 0.5), std::invalid_argument);  // already observed
}

// Mean reward of the last 100 of 500 proposals, observed in batches of 10 (as a driver would).
double late_mean_reward(const std::string& strategy, std::uint64_t seed) {
    const testing::MatchTarget reward(kTarget, 0.02);
    auto s = make_strategy(strategy, kArities, options(seed));
    std::vector<double> rewards;
    while (rewards.size() < 500) {
        for (const auto& c : s->propose(10)) {
            rewards.push_back(reward(c));
            s->observe(c, rewards.back());
        }
    }
    return std::accumulate(rewards.end() - 100, rewards.end(), 0.0) / 100.0;
}

TEST(Evolution, BeatsRandomSearchOnAverage) {
    double evolution = 0.0, random = 0.0;
    for (std::uint64_t seed : {1, 2, 3}) {
        evolution += late_mean_reward("evolution", seed) / 3.0;
        random += late_mean_reward("random", seed) / 3.0;
    }
    // A random candidate matches 3.5 of the 10 tokens on average (the two arity-1 tokens always).
    EXPECT_NEAR(random, 0.35, 0.05);
    EXPECT_GT(evolution, random + 0.2) << "evolution " << evolution << ", random " << random;
}

}  // namespace
}  // namespace actsearch::search
