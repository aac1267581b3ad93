// The generators of actsearch/numeric/rng.hpp against values written down from the generators they
// replaced (main 33e11f0: the engine's src/engine/src/random.hpp, the strategies' search/src/rng.hpp, the
// bootstrap's splitmix64 in stats/src/rank.cpp). Every stream must stay bit-identical: initial weights,
// batches, saved strategy states and the kill/resume tests depend on it.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "actsearch/numeric/rng.hpp"

namespace actsearch::numeric {
namespace {

TEST(Rng, SplitMix64AndDerivedSeedsAreThoseOfBefore) {
    std::uint64_t state = 5;
    EXPECT_EQ(splitmix64(state), 0x63033b0ca389c35aull);
    EXPECT_EQ(state, 0x9E3779B97F4A7C1Aull);
    EXPECT_EQ(derive_seed(7, 1), 0xd11f5a75f7215b2aull);
    EXPECT_EQ(derive_seed(123456789, 3), 0x3ec1429bef21c8e8ull);
    static_assert(derive_seed(7, 1) == 0xd11f5a75f7215b2aull);   // usable at compile time, as before
}

TEST(Rng, XoshiroStreamIsThatOfTheEngineBefore) {
    Xoshiro256 rng(42);
    EXPECT_EQ(rng.next(), 0x15780b2e0c2ec716ull);
    EXPECT_EQ(rng.next(), 0x6104d9866d113a7eull);
    EXPECT_EQ(rng.next(), 0xae17533239e499a1ull);
    EXPECT_EQ(rng.uniform(), 0x1.d9715ap-1f);
    EXPECT_EQ(rng.uniform(), 0x1.fbcdb8p-1f);
    EXPECT_EQ(rng.uniform(-1.0f, 1.0f), 0x1.143694p-1f);
    EXPECT_EQ(rng.below(1000), 719u);
    EXPECT_EQ(rng.below(1000), 850u);
    EXPECT_EQ(rng.below(1000), 761u);
}

TEST(Rng, MersenneStreamIsThatOfTheStrategiesBefore) {
    Mt64 rng(42);
    EXPECT_EQ(rng.below(10), 6u);
    EXPECT_EQ(rng.below(10), 4u);
    EXPECT_EQ(rng.below(10), 0u);
    EXPECT_EQ(rng.below((std::uint64_t(1) << 63) + 5), 7438999416573663568u);   // the rejection path is reachable here
    EXPECT_EQ(rng.uniform(), 0x1.814dc629c7f48p-4);
    EXPECT_EQ(rng.uniform(), 0x1.262e1432cba84p-1);
}

TEST(Rng, MersenneStateRoundTripsAndBadStatesThrow) {
    Mt64 a(7);
    a.below(3);
    Mt64 b(1);
    b.set_state(a.state());
    EXPECT_EQ(a.below(1000000), 233250u);
    EXPECT_EQ(b.below(1000000), 233250u);
    EXPECT_EQ(a.state(), b.state());
    EXPECT_THROW(b.set_state("not a state"), std::runtime_error);
    EXPECT_THROW(b.set_state(a.state() + " 12"), std::runtime_error);   // trailing words
    EXPECT_EQ(b.state(), a.state());                                       // a failed set_state changes nothing
}

TEST(Rng, SplitMixDrawsAreThoseOfTheBootstrapBefore) {
    SplitMix64 rng(1);
    const std::size_t expected[] = {9, 11, 15, 7, 7, 12, 14, 8};
    for (std::size_t want : expected) EXPECT_EQ(rng.below(16), want);
}

}  // namespace
}  // namespace actsearch::numeric
