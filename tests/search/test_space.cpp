// Strategies over a real Space: the arity list and index order agree with the grammar's.
#include <gtest/gtest.h>

#include <variant>

#include "actsearch/grammar/space.hpp"
#include "actsearch/search/choice_shape.hpp"
#include "actsearch/search/strategy.hpp"

namespace actsearch::search {
namespace {

Space builtin(const char* name) {
    auto loaded = load_space(name);
    if (auto* error = std::get_if<SpaceError>(&loaded)) throw std::runtime_error(error->message);
    return std::get<Space>(std::move(loaded));
}

TEST(SpaceShape, IndicesAgreeWithTheGrammar) {
    const Space space = builtin("paper-core2");
    const ChoiceShape shape(token_arities(space));
    ASSERT_EQ(shape.tokens(), space.token_count());
    ASSERT_EQ(shape.count(), space.raw_count());
    EXPECT_EQ(shape.arity(0), 1u);  // the first unit's inputs can only be x
    EXPECT_EQ(shape.arity(5), 2u);  // the second unit's: x or the first unit
    for (std::uint64_t i = 0; i < shape.count(); i += shape.count() / 997)
        ASSERT_EQ(shape.decode(i), space.decode(i)) << "index " << i;
    EXPECT_EQ(shape.decode(shape.count() - 1), space.decode(space.raw_count() - 1));
}

TEST(SpaceShape, ExhaustiveWalksTheSpaceIndices) {
    const Space space = builtin("paper-core1");
    auto s = make_strategy("exhaustive", space, {});
    const auto first = s->propose(300);
    for (std::size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i], space.decode(i));
}

TEST(SpaceShape, EveryStrategyProposesBuildableCandidates) {
    const Space space = builtin("paper-core2");
    StrategyOptions o;
    o.population = 8;
    o.batch = 8;
    for (const auto& name : strategy_names()) {
        auto s = make_strategy(name, space, o);
        for (int round = 0; round < 3; ++round)
            for (const auto& c : s->propose(8)) {
                EXPECT_FALSE(space.build(c).empty()) << name;
                s->observe(c, 0.5);
            }
    }
}

}  // namespace
}  // namespace actsearch::search
