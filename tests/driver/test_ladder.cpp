// The fidelity ladder's promotion rules with known rewards: which candidates move up, and when.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "actsearch/driver/ladder.hpp"

namespace actsearch::driver {
namespace {

std::vector<std::int64_t> pending_ids(const Ladder& l, std::size_t rung) {
    std::vector<std::int64_t> out;
    for (const auto& p : l.pending())
        if (p.rung == rung) out.push_back(p.id);
    return out;
}

using Ids = std::vector<std::int64_t>;

// keep = 0.5: after n screened candidates, the best floor(n / 2) so far are admitted, as soon as they are.
TEST(Ladder, AshaPromotesTheTopFractionOfThoseFinishedSoFar) {
    Ladder l({{1, 0}, {2, 0.5}});
    l.finish(0, 1, 0.10, true);
    EXPECT_EQ(pending_ids(l, 1), Ids{});          // n = 1: floor(0.5) = 0
    l.finish(0, 2, 0.90, true);
    EXPECT_EQ(pending_ids(l, 1), (Ids{2}));       // n = 2: the best one
    l.finish(0, 3, 0.50, true);
    EXPECT_EQ(pending_ids(l, 1), (Ids{2}));       // n = 3: still one
    l.finish(0, 4, 0.30, true);
    EXPECT_EQ(pending_ids(l, 1), (Ids{2, 3}));    // n = 4: the best two are 2 and 3
    l.finish(0, 5, 0.95, true);
    EXPECT_EQ(pending_ids(l, 1), (Ids{2, 3, 5}));  // n = 5: 5 is the new best, 3 stays admitted
    l.finish(0, 6, 0.20, true);
    EXPECT_EQ(pending_ids(l, 1), (Ids{2, 3, 5}));  // n = 6: top 3 = {5, 2, 3}, all admitted already
    EXPECT_FALSE(l.done());

    // Results on rung 1 take candidates off the queue; the screen is still open, so the ladder is not done.
    l.finish(1, 3, 0.4, true);
    EXPECT_EQ(pending_ids(l, 1), (Ids{2, 5}));
    l.finish(1, 2, 0.6, true);
    l.finish(1, 5, 0.7, true);
    EXPECT_FALSE(l.done());
    l.close_screen();
    EXPECT_TRUE(l.done());
    EXPECT_EQ(l.members(1).size(), 3u);
}

TEST(Ladder, NeverPromotesACandidateWithoutASuccessfulSeedAndBreaksTiesByArrival) {
    Ladder l({{1, 0}, {1, 0.5}});
    l.finish(0, 10, 0.0, false);   // diverged
    l.finish(0, 11, 0.0, false);
    EXPECT_EQ(pending_ids(l, 1), Ids{});   // the best floor(2/2) = 1 ok candidates: there are none
    l.finish(0, 12, 0.7, true);
    l.finish(0, 13, 0.7, true);            // tie with 12: 12 arrived first
    EXPECT_EQ(pending_ids(l, 1), (Ids{12, 13}));
    EXPECT_FALSE(l.finish(0, 12, 0.99, true)) << "a second result for the same rung is ignored";
    EXPECT_EQ(l.members(0).size(), 4u);
}

// A count rung waits for the rung below to close, then takes exactly its best K.
TEST(Ladder, CountRungTakesTheBestKOnceTheRungBelowIsClosed) {
    Ladder l({{1, 0}, {2, 0.5}, {3, 2}});
    const double rewards[] = {0.3, 0.8, 0.6, 0.9, 0.1, 0.7};
    for (int i = 0; i < 6; ++i) l.finish(0, i + 1, rewards[i], true);
    // ASHA admitted, in order: 2 (n = 2), 4 (n = 4: top 2 = {4, 2}), 6 (n = 6: top 3 = {4, 2, 6}).
    EXPECT_EQ(pending_ids(l, 1), (Ids{2, 4, 6}));
    l.close_screen();
    EXPECT_EQ(pending_ids(l, 2), Ids{}) << "rung 1 still has pending candidates";
    l.finish(1, 2, 0.50, true);
    l.finish(1, 4, 0.40, true);
    l.advance();
    EXPECT_EQ(pending_ids(l, 2), Ids{});
    l.finish(1, 6, 0.45, true);
    l.advance();
    EXPECT_EQ(pending_ids(l, 2), (Ids{2, 6}));   // the best 2 on rung 1: 0.50 and 0.45
    EXPECT_FALSE(l.done());
    l.finish(2, 2, 0.5, true);
    l.finish(2, 6, 0.5, true);
    l.advance();
    EXPECT_TRUE(l.done());
}

TEST(Ladder, SavedStateGivesTheSameDecisions) {
    Ladder a({{1, 0}, {2, 0.25}, {2, 1}});
    for (int i = 0; i < 9; ++i) a.finish(0, 100 + i, 0.1 * ((i * 7) % 9), (i % 4) != 3);
    a.finish(1, pending_ids(a, 1).front(), 0.5, true);
    Ladder b({{1, 0}, {2, 0.25}, {2, 1}});
    b.load(a.save());
    EXPECT_EQ(b.save(), a.save());
    EXPECT_EQ(pending_ids(b, 1), pending_ids(a, 1));
    for (int i = 9; i < 16; ++i) {
        a.finish(0, 100 + i, 0.05 * i, true);
        b.finish(0, 100 + i, 0.05 * i, true);
    }
    EXPECT_EQ(pending_ids(b, 1), pending_ids(a, 1));
    a.close_screen();
    b.close_screen();
    EXPECT_EQ(b.save(), a.save());
    EXPECT_THROW(b.load("not json"), std::runtime_error);
    EXPECT_THROW(b.load("{\"rungs\": 3}"), std::runtime_error);
}

TEST(Ladder, RejectsBadRules) {
    EXPECT_THROW(Ladder({}), std::invalid_argument);
    EXPECT_THROW(Ladder({{0, 0}}), std::invalid_argument);
    EXPECT_THROW(Ladder({{1, 0}, {1, 0}}), std::invalid_argument);     // a later rung needs keep
    EXPECT_THROW(Ladder({{1, 0}, {1, 2.5}}), std::invalid_argument);   // neither fraction nor count
    EXPECT_NO_THROW(Ladder({{1, 0}, {1, 0.05}, {5, 5}}));
}

}  // namespace
}  // namespace actsearch::driver
