// The surrogate: it must find the best of a synthetic landscape far sooner than random search, in a
// space scored whole and in one seen through a sampled pool; candidates of one functional group are
// proposed once; resume and determinism are tested with every strategy (strategy_test.cpp).
#include <gtest/gtest.h>

#include <set>

#include "actsearch/grammar/fingerprint.hpp"
#include "actsearch/grammar/space.hpp"
#include "actsearch/search/choice_shape.hpp"
#include "actsearch/search/strategy.hpp"
#include "test_support.hpp"

namespace actsearch::search {
namespace {

// Evaluations until the landscape's best candidate (the target) is first proposed; 0 if not within
// `budget`. Rounds of 10, observed in order, as the driver does.
std::size_t evaluations_to_target(const std::string& strategy, const std::vector<std::uint32_t>& arities,
                                  const Choice& target, std::uint64_t seed, std::size_t budget) {
    const testing::MatchTarget reward(target, 0.02);
    StrategyOptions o;
    o.seed = seed;
    auto s = make_strategy(strategy, arities, o);
    std::size_t evaluations = 0;
    while (evaluations < budget) {
        const auto batch = s->propose(10);
        if (batch.empty()) break;
        for (const auto& c : batch) {
            ++evaluations;
            if (c == target) return evaluations;
            s->observe(c, reward(c));
        }
    }
    return 0;
}

TEST(Surrogate, FindsTheBestOfAWholeScoredSpaceFarSoonerThanRandom) {
    // 25,600 candidates, scored whole each round. Random search needs 12,800 evaluations on average.
    const std::vector<std::uint32_t> arities = {1, 1, 5, 4, 4, 2, 2, 5, 4, 4};
    const Choice target = {0, 0, 3, 1, 2, 1, 0, 4, 3, 0};
    for (std::uint64_t seed : {1, 2, 3}) {
        const auto n = evaluations_to_target("surrogate", arities, target, seed, 250);
        EXPECT_GT(n, 0u) << "seed " << seed << ": target not found in 250 evaluations";
    }
    // The same budget, random search: found in at most one of the seeds (each has a 1% chance).
    int random_found = 0;
    for (std::uint64_t seed : {1, 2, 3}) random_found += evaluations_to_target("random", arities, target, seed, 250) > 0;
    EXPECT_LE(random_found, 1);
}

TEST(Surrogate, FindsTheBestOfALargeSpaceThroughItsPool) {
    // About 1.3 million candidates: too many to score, so each round scores a random pool and the
    // one-token neighbours of the best found so far.
    const std::vector<std::uint32_t> arities = {1, 1, 8, 8, 6, 3, 3, 8, 8, 6};
    const Choice target = {0, 0, 5, 2, 3, 1, 2, 7, 0, 4};
    for (std::uint64_t seed : {1, 2}) {
        const auto n = evaluations_to_target("surrogate", arities, target, seed, 400);
        EXPECT_GT(n, 0u) << "seed " << seed << ": target not found in 400 evaluations";
    }
}

TEST(Surrogate, ProposesOneCandidatePerFunctionalGroupAndSkipsInvalidOnes) {
    const auto loaded = load_space("paper-core1");
    ASSERT_TRUE(std::holds_alternative<Space>(loaded));
    const Space& space = std::get<Space>(loaded);
    StrategyOptions o;
    o.seed = 5;
    auto s = make_strategy("surrogate", space, o);
    std::set<std::uint64_t> fingerprints;
    std::size_t proposed = 0;
    for (int r = 0; r < 6; ++r)
        for (const auto& c : s->propose(16)) {
            const auto fp = fingerprint(space.build(c));
            EXPECT_TRUE(fp.valid);
            EXPECT_TRUE(fingerprints.insert(fp.hash).second) << "two proposals of one function";
            ++proposed;
            s->observe(c, 0.5 + 0.01 * static_cast<double>(proposed % 7));
        }
    EXPECT_EQ(proposed, 96u);
}

}  // namespace
}  // namespace actsearch::search
