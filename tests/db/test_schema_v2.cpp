// Schema version 2 (cost model and hardening): a version-1 database opens, migrates and keeps its rows.
#include <sqlite3.h>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "../../db/src/schema.hpp"
#include "actsearch/db/store.hpp"
#include "db_test_util.hpp"

namespace actsearch::db {
namespace {

// A database exactly as version 1 wrote it, with one candidate.
void write_v1(const std::string& path) {
    const std::string sql = schema::migrations()[0].sql +
                            fmt::format(";\nPRAGMA application_id = {}; PRAGMA user_version = 1;\n"
                                        "INSERT INTO candidates (expr, structural_hash, fingerprint, valid) "
                                        "VALUES ('x*sigmoid(x)', 11, 22, 1);",
                                        schema::kApplicationId);
    test::exec_sql(path, sql);
}

TEST(SchemaV2, Version1DatabaseMigratesAndKeepsItsRows) {
    ASSERT_GE(Store::kSchemaVersion, 2);
    test::ScratchDir dir;
    const std::string path = dir.file("v1.db");
    write_v1(path);
    // (A reader that may write the file migrates it too: ReaderMigratesAnOldDatabaseItMayWrite.)
    Store store(path);
    auto old = store.candidate_by_expr("x*sigmoid(x)");
    ASSERT_TRUE(old);
    EXPECT_EQ(old->fingerprint, 22u);
    EXPECT_FALSE(old->cost);
    EXPECT_FALSE(old->hardened_from);

    // Upserting the same expression with a cost fills the NULL, and nothing else changes.
    CandidateRecord again = *old;
    again.cost = 3.5;
    again.fingerprint = 99;
    EXPECT_EQ(store.upsert_candidate(again), old->id);
    EXPECT_DOUBLE_EQ(*store.candidate(old->id)->cost, 3.5);
    EXPECT_EQ(store.candidate(old->id)->fingerprint, 22u);
    again.cost = 7.0;   // a stored cost is kept
    store.upsert_candidate(again);
    EXPECT_DOUBLE_EQ(*store.candidate(old->id)->cost, 3.5);

    // A twin linked to its origin.
    CandidateRecord twin;
    twin.expr = "x*hard_sigmoid(x)";
    twin.structural_hash = 1;
    twin.fingerprint = 2;
    twin.cost = 1.7;
    twin.hardened_from = old->id;
    const auto twin_id = store.upsert_candidate(twin);
    EXPECT_EQ(*store.candidate(twin_id)->hardened_from, old->id);
    EXPECT_TRUE(store.integrity_ok());
}

// A reader (leaderboard, show, report) that may write the file migrates an old database first, so
// the results of an earlier version stay readable; the rows are kept.
TEST(SchemaV2, ReaderMigratesAnOldDatabaseItMayWrite) {
    test::ScratchDir dir;
    const std::string path = dir.file("old-reader.db");
    write_v1(path);
    Store reader(path, /*read_only=*/true);
    const auto row = reader.candidate_by_expr("x*sigmoid(x)");
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(row->fingerprint, 22u);
    EXPECT_FALSE(row->cost.has_value());   // version 1 stored no cost
}

TEST(SchemaV2, CalibrationIsStoredPerCpuAndReplaced) {
    test::ScratchDir dir;
    Store store(dir.file("cal.db"));
    EXPECT_TRUE(store.calibration("cpu A").empty());
    store.save_calibration("cpu A", {{"forward", "relu", 0.4, ""}, {"forward", "(pass)", 0.6, ""},
                                     {"training", "exp", 2.5, ""}});
    store.save_calibration("cpu B", {{"forward", "relu", 0.5, ""}});
    auto a = store.calibration("cpu A");
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[0].primitive, "(pass)");   // ordered by direction, then primitive
    EXPECT_DOUBLE_EQ(a[1].cost, 0.4);
    EXPECT_FALSE(a[0].created.empty());
    store.save_calibration("cpu A", {{"forward", "relu", 0.3, ""}});
    a = store.calibration("cpu A");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_DOUBLE_EQ(a[0].cost, 0.3);
    EXPECT_EQ(store.calibration("cpu B").size(), 1u);
    // A bad direction is refused by the CHECK constraint.
    EXPECT_THROW(store.save_calibration("cpu C", {{"sideways", "relu", 1, ""}}), DbError);
    EXPECT_TRUE(store.calibration("cpu C").empty());
}

}  // namespace
}  // namespace actsearch::db
