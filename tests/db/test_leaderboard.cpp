// The leaderboard aggregation: statistics, filters, ordering, equivalents, and the SQL view.
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "actsearch/db/store.hpp"
#include "db_test_util.hpp"

namespace actsearch::db {
namespace {

using test::make_candidate;
using test::make_evaluation;
using test::make_run;

const std::string kTask = "fmnist-mlp";
const std::string kFidelity = make_evaluation(0, 0, 0, 0).fidelity;

class Leaderboard : public ::testing::Test {
protected:
    test::ScratchDir dir;
    std::string path = dir.file("lb.db");
    Store store{path};
    std::int64_t run1 = store.create_run(make_run());
    std::int64_t run2 = store.create_run(make_run("rl"));

    std::int64_t add(const std::string& expr, std::uint64_t fp, std::optional<std::int64_t> rep = std::nullopt) {
        return store.upsert_candidate(make_candidate(expr, fp, rep));
    }
    void eval(std::int64_t cand, std::int64_t run, std::int64_t seed, double acc, const std::string& status = "ok",
              const std::string& task = kTask, const std::string& fidelity = kFidelity) {
        ASSERT_TRUE(store.insert_evaluation(make_evaluation(cand, run, seed, acc, status, task, fidelity)));
    }
    const LeaderboardRow* find(const std::vector<LeaderboardRow>& rows, std::int64_t cand) {
        auto it = std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.candidate == cand; });
        return it == rows.end() ? nullptr : &*it;
    }
};

TEST_F(Leaderboard, MeanSampleStddevAndStatusCounts) {
    const std::int64_t a = add("swish(x)", 1);
    eval(a, run1, 1, 0.80);
    eval(a, run1, 2, 0.82);
    eval(a, run1, 3, 0.84);
    eval(a, run1, 4, 0.10, "diverged");
    eval(a, run1, 5, 0.00, "invalid");
    eval(a, run1, 6, 0.00, "timeout");
    eval(a, run1, 7, 0.00, "error");

    auto rows = store.leaderboard({});
    ASSERT_EQ(rows.size(), 1u);
    const LeaderboardRow& r = rows[0];
    EXPECT_EQ(r.candidate, a);
    EXPECT_EQ(r.expr, "swish(x)");
    EXPECT_EQ(r.task, kTask);
    EXPECT_EQ(r.fidelity, kFidelity);
    EXPECT_NEAR(r.mean, 0.82, 1e-12);
    EXPECT_NEAR(r.stddev, 0.02, 1e-9);   // sample (n - 1) standard deviation
    EXPECT_EQ(r.seeds, 3);
    EXPECT_EQ(r.n_ok, 3);
    EXPECT_EQ(r.n_diverged, 1);
    EXPECT_EQ(r.n_invalid, 1);
    EXPECT_EQ(r.n_other, 2);
    EXPECT_EQ(r.best_run, run1);
    EXPECT_EQ(r.equivalents, 0);
}

TEST_F(Leaderboard, SingleSeedHasZeroStddev) {
    const std::int64_t a = add("relu(x)", 1);
    eval(a, run1, 1, 0.75);
    auto rows = store.leaderboard({});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_DOUBLE_EQ(rows[0].mean, 0.75);
    EXPECT_EQ(rows[0].stddev, 0.0);
}

TEST_F(Leaderboard, AgreesWithAReferenceComputation) {
    std::mt19937 rng(99);
    std::uniform_real_distribution<double> acc(0.5, 0.95);
    std::map<std::int64_t, std::vector<double>> scores;
    Transaction tx(store);
    for (int i = 0; i < 40; ++i) {
        const std::int64_t c = add(fmt::format("f{}(x)", i), 100 + i);
        const int seeds = 1 + i % 5;
        for (int s = 0; s < seeds; ++s) {
            const double v = acc(rng);
            scores[c].push_back(v);
            eval(c, s % 2 ? run1 : run2, s, v);
        }
    }
    tx.commit();

    LeaderboardQuery all;
    all.top = 0;
    auto rows = store.leaderboard(all);
    ASSERT_EQ(rows.size(), scores.size());
    for (std::size_t i = 1; i < rows.size(); ++i) EXPECT_GE(rows[i - 1].mean, rows[i].mean);
    for (const auto& r : rows) {
        const auto& v = scores.at(r.candidate);
        const double n = static_cast<double>(v.size());
        double mean = 0;
        for (double x : v) mean += x / n;
        double ss = 0;
        for (double x : v) ss += (x - mean) * (x - mean);
        const double sd = v.size() > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
        EXPECT_NEAR(r.mean, mean, 1e-12) << r.expr;
        EXPECT_NEAR(r.stddev, sd, 1e-7) << r.expr;
        EXPECT_EQ(r.seeds, static_cast<std::int64_t>(v.size()));
        EXPECT_EQ(r.best_run, (std::max_element(v.begin(), v.end()) - v.begin()) % 2 ? run1 : run2) << r.expr;
    }
}

TEST_F(Leaderboard, RankedByMeanWithTopAndMinSeeds) {
    const std::int64_t low = add("tanh(x)", 1);
    const std::int64_t mid = add("relu(x)", 2);
    const std::int64_t high = add("swish(x)", 3);
    const std::int64_t single = add("gelu(x)", 4);
    for (int s = 1; s <= 3; ++s) {
        eval(low, run1, s, 0.70 + 0.001 * s);
        eval(mid, run1, s, 0.80 + 0.001 * s);
        eval(high, run1, s, 0.90 + 0.001 * s);
    }
    eval(single, run1, 1, 0.99);

    auto rows = store.leaderboard({});
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0].candidate, single);
    EXPECT_EQ(rows[1].candidate, high);
    EXPECT_EQ(rows[2].candidate, mid);
    EXPECT_EQ(rows[3].candidate, low);

    LeaderboardQuery q;
    q.min_seeds = 3;
    rows = store.leaderboard(q);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].candidate, high);

    q.top = 2;
    rows = store.leaderboard(q);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1].candidate, mid);

    q.min_seeds = 4;
    EXPECT_TRUE(store.leaderboard(q).empty());
}

TEST_F(Leaderboard, CandidatesWithoutOkScoresOnlyWithMinSeedsZero) {
    const std::int64_t good = add("relu(x)", 1);
    const std::int64_t bad = add("exp(exp(x))", 2);
    eval(good, run1, 1, 0.8);
    eval(bad, run1, 1, 0.1, "diverged");
    eval(bad, run1, 2, 0.0, "diverged");

    EXPECT_EQ(store.leaderboard({}).size(), 1u);
    LeaderboardQuery q;
    q.min_seeds = 0;
    auto rows = store.leaderboard(q);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].candidate, good);
    EXPECT_EQ(rows[1].candidate, bad);   // no mean: ranked last
    EXPECT_TRUE(std::isnan(rows[1].mean));
    EXPECT_EQ(rows[1].seeds, 0);
    EXPECT_EQ(rows[1].n_diverged, 2);
    EXPECT_EQ(rows[1].best_run, 0);
}

TEST_F(Leaderboard, TaskRunAndFidelityFilters) {
    const std::int64_t a = add("relu(x)", 1);
    const std::int64_t b = add("swish(x)", 2);
    eval(a, run1, 1, 0.80);
    eval(a, run2, 2, 0.90);
    eval(b, run2, 1, 0.84);
    eval(b, run2, 1, 0.60, "ok", "fmnist-cnn");
    eval(a, run1, 1, 0.95, "ok", kTask, "steps=100");

    // Without filters: one row per (candidate, task, fidelity).
    LeaderboardQuery q;
    q.top = 0;
    EXPECT_EQ(store.leaderboard(q).size(), 4u);

    q.task = kTask;
    q.fidelity = kFidelity;
    auto rows = store.leaderboard(q);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].candidate, a);
    EXPECT_NEAR(rows[0].mean, 0.85, 1e-12);
    EXPECT_EQ(rows[0].best_run, run2);

    q.run = run1;
    rows = store.leaderboard(q);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].candidate, a);
    EXPECT_DOUBLE_EQ(rows[0].mean, 0.80);

    LeaderboardQuery cnn;
    cnn.task = "fmnist-cnn";
    rows = store.leaderboard(cnn);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].candidate, b);
    EXPECT_EQ(rows[0].task, "fmnist-cnn");

    LeaderboardQuery fast;
    fast.fidelity = "steps=100";
    rows = store.leaderboard(fast);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_DOUBLE_EQ(rows[0].mean, 0.95);

    LeaderboardQuery none;
    none.task = "cifar10-cnn";
    EXPECT_TRUE(store.leaderboard(none).empty());
}

TEST_F(Leaderboard, EquivalentsShareTheirRepresentativesRow) {
    const std::int64_t rep = add("x * sigmoid(x)", 7);
    const std::int64_t eq1 = add("x / (1 + exp(-x))", 7, rep);
    const std::int64_t eq2 = add("swish(x)", 7, rep);
    const std::int64_t other = add("relu(x)", 8);
    eval(rep, run1, 1, 0.86);
    eval(rep, run1, 2, 0.88);
    eval(other, run1, 1, 0.80);
    // An equivalent evaluated directly (e.g. by `actsearch eval`) adds to the same group.
    eval(eq1, run2, 3, 0.87);

    auto rows = store.leaderboard({});
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].candidate, rep);
    EXPECT_EQ(rows[0].expr, "x * sigmoid(x)");
    EXPECT_EQ(rows[0].equivalents, 2);
    EXPECT_EQ(rows[0].seeds, 3);
    EXPECT_NEAR(rows[0].mean, 0.87, 1e-12);
    EXPECT_EQ(rows[0].best_run, run1);
    EXPECT_EQ(rows[1].candidate, other);
    EXPECT_EQ(rows[1].equivalents, 0);

    // Asking for an equivalent gives its representative's row.
    LeaderboardQuery q;
    q.candidate = eq2;
    rows = store.leaderboard(q);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].candidate, rep);
    q.candidate = other;
    rows = store.leaderboard(q);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].candidate, other);
}

TEST_F(Leaderboard, SqlViewMatchesTheStoreQuery) {
    const std::int64_t rep = add("x * sigmoid(x)", 7);
    add("swish(x)", 7, rep);
    const std::int64_t other = add("relu(x)", 8);
    for (int s = 1; s <= 4; ++s) {
        eval(rep, run1, s, 0.8 + 0.01 * s);
        eval(other, run2, s, 0.7 + 0.02 * s, s == 4 ? "diverged" : "ok");
    }
    LeaderboardQuery q;
    q.top = 0;
    auto rows = store.leaderboard(q);
    ASSERT_EQ(rows.size(), 2u);

    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT candidate, mean, variance, seeds, n_diverged, equivalents "
                                      "FROM leaderboard ORDER BY mean DESC",
                                 -1, &stmt, nullptr),
              SQLITE_OK);
    for (const LeaderboardRow& r : rows) {
        ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
        EXPECT_EQ(sqlite3_column_int64(stmt, 0), r.candidate);
        EXPECT_DOUBLE_EQ(sqlite3_column_double(stmt, 1), r.mean);
        EXPECT_NEAR(std::sqrt(sqlite3_column_double(stmt, 2)), r.stddev, 1e-12);
        EXPECT_EQ(sqlite3_column_int64(stmt, 3), r.seeds);
        EXPECT_EQ(sqlite3_column_int64(stmt, 4), r.n_diverged);
        EXPECT_EQ(sqlite3_column_int64(stmt, 5), r.equivalents);
    }
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
    sqlite3_close(raw);
}

}  // namespace
}  // namespace actsearch::db
