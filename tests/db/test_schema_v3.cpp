// Schema version 3: evaluations may have status 'over_budget' (a search's --max-cost skipped the
// candidate). A version-2 database migrates keeping its rows and ids, and is readable as it is.
#include <sqlite3.h>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "../../db/src/schema.hpp"
#include "actsearch/db/store.hpp"
#include "db_test_util.hpp"

namespace actsearch::db {
namespace {

// A database exactly as version 2 wrote it: one run, one candidate, one evaluation with id 5.
void write_v2(const std::string& path) {
    const auto steps = schema::migrations();
    ASSERT_GE(steps.size(), 2u);
    test::exec_sql(path, steps[0].sql + ";\n" + steps[1].sql +
                   fmt::format(";\nPRAGMA application_id = {}; PRAGMA user_version = 2;\n", schema::kApplicationId) +
                   "INSERT INTO runs (id, created, status, strategy, space, task, seed, config, version) "
                   "VALUES (1, '2026-12-01', 'finished', 'random', 's', 'synthetic', 0, '{}', 'v2');"
                   "INSERT INTO candidates (id, expr, structural_hash, fingerprint, valid, cost) "
                   "VALUES (1, 'relu(x)', 1, 2, 1, 1.0), (2, 'sin(x)', 3, 4, 1, 12.0);"
                   "INSERT INTO evaluations (id, candidate, run, task, fidelity, seed, status, val_acc, seconds, created) "
                   "VALUES (5, 1, 1, 'synthetic', 'steps=1', 0, 'ok', 0.75, 1.0, '2026-12-01');");
}

EvaluationRecord evaluation(std::int64_t candidate, const std::string& status, double score) {
    EvaluationRecord e;
    e.candidate = candidate;
    e.run = 1;
    e.task = "synthetic";
    e.fidelity = "steps=1";
    e.seed = 0;
    e.status = status;
    e.val_acc = score;
    return e;
}

TEST(SchemaV3, Version2DatabaseIsReadableAsItIsAndMigratesKeepingRows) {
    ASSERT_GE(Store::kSchemaVersion, 3);
    test::ScratchDir dir;
    const std::string path = dir.file("v2.db");
    write_v2(path);
    {
        // A reader that cannot migrate (read-only connection) reads version 2 as it is.
        sqlite::Database db(path, sqlite::OpenMode::ReadOnly);
        EXPECT_NO_THROW(schema::open(db, schema::migrations(), schema::kReadableFrom));
        EXPECT_EQ(db.query_int("PRAGMA user_version"), 2);
        // Without readable_from it must be at the last version.
        EXPECT_THROW(schema::open(db, schema::migrations()), DbError);
    }
    Store store(path);
    const auto evs = store.evaluations_of(1);
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].id, 5);
    EXPECT_DOUBLE_EQ(evs[0].val_acc, 0.75);
    EXPECT_TRUE(store.integrity_ok());

    // over_budget is accepted now; the leaderboard and the run's count leave it out.
    EXPECT_TRUE(store.insert_evaluation(evaluation(2, "over_budget", 0)));
    EXPECT_THROW(store.insert_evaluation(evaluation(2, "sideways", 0)), DbError);
    LeaderboardQuery q;
    q.min_seeds = 0;
    q.top = 0;
    auto rows = store.leaderboard(q);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].expr, "relu(x)");
    EXPECT_EQ(store.list_runs().at(0).evaluations, 1);

    // A later search that trains the candidate replaces the over_budget row; a result is never replaced
    // by an over_budget row.
    EXPECT_TRUE(store.insert_evaluation(evaluation(2, "ok", 0.5)));
    EXPECT_EQ(store.find_evaluation(2, "synthetic", "steps=1", 0)->status, "ok");
    EXPECT_FALSE(store.insert_evaluation(evaluation(2, "over_budget", 0)));
    EXPECT_EQ(store.find_evaluation(2, "synthetic", "steps=1", 0)->status, "ok");
    EXPECT_EQ(store.leaderboard(q).size(), 2u);

    // The view was rebuilt with the table.
    sqlite::Database db(path, sqlite::OpenMode::ReadOnly);
    EXPECT_EQ(db.query_int("SELECT COUNT(*) FROM leaderboard"), 2);
    EXPECT_EQ(db.query_int("PRAGMA user_version"), Store::kSchemaVersion);
}

}  // namespace
}  // namespace actsearch::db
