// Properties every strategy must have: valid proposals, exact resume from a saved state, clear errors.
#include <gtest/gtest.h>

#include <stdexcept>

#include "actsearch/search/choice_shape.hpp"
#include "actsearch/search/strategy.hpp"
#include "test_support.hpp"

namespace actsearch::search {
namespace {

// Two core units: unit 0's inputs can only be x; unit 1's inputs are x or unit 0.
const std::vector<std::uint32_t> kTwoUnits = {1, 1, 4, 3, 5, 2, 2, 4, 3, 5};

StrategyOptions small_options(std::uint64_t seed) {
    StrategyOptions o;
    o.seed = seed;
    o.batch = 6;
    o.population = 10;
    o.tournament = 3;
    o.hidden = 12;
    return o;
}

const testing::MatchTarget kReward({0, 0, 2, 1, 4, 1, 0, 3, 2, 0}, 0.05);

class EveryStrategy : public ::testing::TestWithParam<std::string> {
protected:
    std::unique_ptr<Strategy> make(std::uint64_t seed = 7) const {
        return make_strategy(GetParam(), kTwoUnits, small_options(seed));
    }
};

// Proposes n and observes them all, in order; returns the proposals.
std::vector<Choice> round(Strategy& s, std::size_t n) {
    auto proposals = s.propose(n);
    for (const auto& c : proposals) s.observe(c, kReward(c));
    return proposals;
}

TEST_P(EveryStrategy, NameMatches) { EXPECT_EQ(make()->name(), GetParam()); }

TEST_P(EveryStrategy, ProposalsAreValidChoices) {
    const ChoiceShape shape(kTwoUnits);
    auto s = make();
    for (int r = 0; r < 8; ++r) {
        const auto proposals = round(*s, 7);
        ASSERT_EQ(proposals.size(), 7u);
        for (const auto& c : proposals) EXPECT_TRUE(shape.contains(c));
    }
}

TEST_P(EveryStrategy, SameSeedSameProposals) {
    auto a = make(3), b = make(3);
    for (int r = 0; r < 6; ++r) EXPECT_EQ(round(*a, 5), round(*b, 5));
}

// Run A for a while, with some proposals still awaiting their rewards; load A's state into a fresh B;
// from then on B must propose exactly what A proposes.
TEST_P(EveryStrategy, LoadContinuesExactlyWhereSaveLeftOff) {
    auto a = make();
    for (int r = 0; r < 5; ++r) round(*a, 5);  // several RL updates, a full evolution population
    const auto outstanding = a->propose(4);
    auto b = make(/*seed=*/12345);  // the seed must come from the state, not the constructor
    b->load(a->save());
    EXPECT_EQ(b->save(), a->save());
    for (const auto& c : outstanding) {
        a->observe(c, kReward(c));
        b->observe(c, kReward(c));
    }
    for (int r = 0; r < 6; ++r) ASSERT_EQ(round(*a, 5), round(*b, 5)) << "round " << r;
    EXPECT_EQ(a->save(), b->save());
}

TEST_P(EveryStrategy, DamagedStateIsRefusedAndLeavesStrategyUnchanged) {
    auto a = make();
    round(*a, 8);
    const std::string blob = a->save();

    auto b = make();
    round(*b, 3);
    const std::string before = b->save();

    std::string flipped = blob;
    flipped[flipped.size() / 2] ^= 0x20;
    const std::vector<std::string> damaged = {"", "garbage", blob.substr(0, blob.size() / 2), blob.substr(1),
                                              flipped, blob + "x"};
    for (const auto& d : damaged) EXPECT_THROW(b->load(d), std::runtime_error) << "blob of " << d.size() << " bytes";
    EXPECT_EQ(b->save(), before);
}

TEST_P(EveryStrategy, StateOfAnotherStrategyOrSpaceIsRefused) {
    for (const auto& other : strategy_names()) {
        if (other == GetParam()) continue;
        const auto blob = make_strategy(other, kTwoUnits, small_options(1))->save();
        try {
            make()->load(blob);
            ADD_FAILURE() << "loaded a state of " << other;
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find(other), std::string::npos) << e.what();
        }
    }
    auto other_space = make_strategy(GetParam(), {1, 1, 4, 3, 6}, small_options(7));
    EXPECT_THROW(make()->load(other_space->save()), std::runtime_error);
}

TEST(StrategyState, RefusedUnderOptionsThatShapeIt) {
    auto evolution = make_strategy("evolution", kTwoUnits, small_options(1));
    round(*evolution, 12);
    StrategyOptions other = small_options(1);
    other.population = 11;
    EXPECT_THROW(make_strategy("evolution", kTwoUnits, other)->load(evolution->save()), std::runtime_error);

    auto rl = make_strategy("rl", kTwoUnits, small_options(1));
    round(*rl, 12);
    other = small_options(1);
    other.hidden = 13;
    EXPECT_THROW(make_strategy("rl", kTwoUnits, other)->load(rl->save()), std::runtime_error);
}

TEST_P(EveryStrategy, ObserveRejectsBadInput) {
    auto s = make();
    const auto c = s->propose(1).at(0);
    Choice wrong_length(c.begin(), c.end() - 1);
    Choice out_of_range = c;
    out_of_range[2] = 4;  // arity 4
    EXPECT_THROW(s->observe(wrong_length, 0.5), std::invalid_argument);
    EXPECT_THROW(s->observe(out_of_range, 0.5), std::invalid_argument);
    EXPECT_THROW(s->observe(c, std::nan("")), std::invalid_argument);
    EXPECT_NO_THROW(s->observe(c, 0.5));
}

INSTANTIATE_TEST_SUITE_P(Search, EveryStrategy, ::testing::ValuesIn(strategy_names()),
                         [](const auto& info) { return info.param; });

TEST(MakeStrategy, RejectsUnknownNameAndBadShapes) {
    EXPECT_THROW(make_strategy("annealing", kTwoUnits, {}), std::invalid_argument);
    EXPECT_THROW(make_strategy("random", std::vector<std::uint32_t>{}, {}), std::invalid_argument);
    EXPECT_THROW(make_strategy("random", {3, 0, 2}, {}), std::invalid_argument);
    EXPECT_THROW(make_strategy("random", std::vector<std::uint32_t>(9, 1u << 31), {}), std::invalid_argument);
}

TEST(MakeStrategy, RejectsBadOptions) {
    StrategyOptions o;
    o.population = 0;
    EXPECT_THROW(make_strategy("evolution", kTwoUnits, o), std::invalid_argument);
    o = {};
    o.tournament = 0;
    EXPECT_THROW(make_strategy("evolution", kTwoUnits, o), std::invalid_argument);
    o = {};
    o.batch = 0;
    EXPECT_THROW(make_strategy("rl", kTwoUnits, o), std::invalid_argument);
    o = {};
    o.hidden = 0;
    EXPECT_THROW(make_strategy("rl", kTwoUnits, o), std::invalid_argument);
    o = {};
    o.clip = 1.5;
    EXPECT_THROW(make_strategy("rl", kTwoUnits, o), std::invalid_argument);
}

TEST(ChoiceShape, DecodeEncodeIsAMixedRadixBijection) {
    const ChoiceShape shape({2, 3, 4});
    ASSERT_EQ(shape.count(), 24u);
    EXPECT_EQ(shape.decode(0), (Choice{0, 0, 0}));
    EXPECT_EQ(shape.decode(1), (Choice{0, 0, 1}));  // the last token varies fastest
    EXPECT_EQ(shape.decode(4), (Choice{0, 1, 0}));
    EXPECT_EQ(shape.decode(23), (Choice{1, 2, 3}));
    for (std::uint64_t i = 0; i < shape.count(); ++i) EXPECT_EQ(shape.encode(shape.decode(i)), i);
    EXPECT_THROW(shape.decode(24), std::invalid_argument);
    EXPECT_THROW(shape.encode({0, 3, 0}), std::invalid_argument);
}

}  // namespace
}  // namespace actsearch::search
