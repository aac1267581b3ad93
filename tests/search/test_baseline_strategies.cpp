// exhaustive and random: the enumeration baselines.
#include <gtest/gtest.h>

#include <set>

#include "actsearch/search/choice_shape.hpp"
#include "actsearch/search/strategy.hpp"

namespace actsearch::search {
namespace {

const std::vector<std::uint32_t> kSmall = {1, 1, 3, 4, 2, 2, 2, 3, 1, 2};  // 3*4*2 * 2*2*3*2 = 1152

TEST(Exhaustive, ProposesEveryIndexOnceInOrderThenNothing) {
    const ChoiceShape shape(kSmall);
    auto s = make_strategy("exhaustive", kSmall, {});
    std::uint64_t expected = 0;
    for (auto batch = s->propose(100); !batch.empty(); batch = s->propose(100)) {
        for (const auto& c : batch) EXPECT_EQ(shape.encode(c), expected++);
    }
    EXPECT_EQ(expected, shape.count());
    EXPECT_TRUE(s->propose(1).empty());
}

TEST(Exhaustive, ResumesAtTheSavedIndex) {
    const ChoiceShape shape(kSmall);
    auto a = make_strategy("exhaustive", kSmall, {});
    a->propose(37);
    auto b = make_strategy("exhaustive", kSmall, {});
    b->load(a->save());
    EXPECT_EQ(shape.encode(b->propose(1).at(0)), 37u);
}

TEST(Random, NeverRepeatsAndCoversTheSpace) {
    const ChoiceShape shape(kSmall);
    StrategyOptions o;
    o.seed = 11;
    auto s = make_strategy("random", kSmall, o);
    std::set<std::uint64_t> seen;
    std::vector<std::uint64_t> order;
    for (auto batch = s->propose(50); !batch.empty(); batch = s->propose(50))
        for (const auto& c : batch) {
            ASSERT_TRUE(shape.contains(c));
            EXPECT_TRUE(seen.insert(shape.encode(c)).second) << "repeated index " << shape.encode(c);
            order.push_back(shape.encode(c));
        }
    EXPECT_EQ(seen.size(), shape.count());
    EXPECT_TRUE(s->propose(5).empty());
    // Not the enumeration order: a shuffled space (any fixed point-free failure would show here).
    EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));
}

TEST(Random, SeedChangesTheOrder) {
    StrategyOptions o1, o2;
    o1.seed = 1;
    o2.seed = 2;
    EXPECT_NE(make_strategy("random", kSmall, o1)->propose(20), make_strategy("random", kSmall, o2)->propose(20));
}

TEST(Random, FirstDrawsAreRoughlyUniformPerToken) {
    // Token 3 has arity 4: over 600 of the 1152 candidates each value appears about 150 times.
    StrategyOptions o;
    o.seed = 5;
    auto s = make_strategy("random", kSmall, o);
    std::vector<int> counts(4);
    for (const auto& c : s->propose(600)) ++counts[c[3]];
    for (int n : counts) {
        EXPECT_GT(n, 110);
        EXPECT_LT(n, 190);
    }
}

}  // namespace
}  // namespace actsearch::search
