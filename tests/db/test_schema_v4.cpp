// Schema version 4: each evaluation records the engine that trained it (evaluations.engine). A
// version-3 database migrates keeping its rows, which read as "not recorded"; a reader that cannot
// migrate reads a version-3 file as it is (tests/cli/test_shared_db.cpp runs that through the binary).
#include <sqlite3.h>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "../../db/src/schema.hpp"
#include "actsearch/db/store.hpp"
#include "db_test_util.hpp"

namespace actsearch::db {
namespace {

// A database exactly as version 3 wrote it: one run, two candidates, one evaluation with id 5.
void write_v3(const std::string& path) {
    const auto steps = schema::migrations();
    ASSERT_GE(steps.size(), 3u);
    test::exec_sql(path, steps[0].sql + ";\n" + steps[1].sql + ";\n" + steps[2].sql +
                   fmt::format(";\nPRAGMA application_id = {}; PRAGMA user_version = 3;\n", schema::kApplicationId) +
                   "INSERT INTO runs (id, created, status, strategy, space, task, seed, config, version) "
                   "VALUES (1, '2026-12-02', 'finished', 'random', 's', 'synthetic', 0, '{}', 'v3');"
                   "INSERT INTO candidates (id, expr, structural_hash, fingerprint, valid, cost) "
                   "VALUES (1, 'relu(x)', 1, 2, 1, 1.0), (2, 'sin(x)', 3, 4, 1, 12.0);"
                   "INSERT INTO evaluations (id, candidate, run, task, fidelity, seed, status, val_acc, seconds, created) "
                   "VALUES (5, 1, 1, 'synthetic', 'steps=1', 0, 'ok', 0.75, 1.0, '2026-12-02');");
}

EvaluationRecord evaluation(std::int64_t candidate, std::int64_t seed, const std::string& status, double score,
                            const std::string& engine) {
    EvaluationRecord e;
    e.candidate = candidate;
    e.run = 1;
    e.task = "synthetic";
    e.fidelity = "steps=1";
    e.seed = seed;
    e.status = status;
    e.val_acc = score;
    e.engine = engine;
    return e;
}

// (seed, engine) of a candidate's evaluations, in seed order.
std::vector<std::pair<std::int64_t, std::string>> engines_of(Store& store, std::int64_t candidate) {
    std::vector<std::pair<std::int64_t, std::string>> out;
    for (const EvaluationRecord& e : store.evaluations_of(candidate)) out.push_back({e.seed, e.engine});
    return out;
}
using Engines = std::vector<std::pair<std::int64_t, std::string>>;

TEST(SchemaV4, Version3DatabaseMigratesWithEnginesNotRecorded) {
    ASSERT_GE(Store::kSchemaVersion, 4);
    test::ScratchDir dir;
    const std::string path = dir.file("v3.db");
    write_v3(path);
    {
        sqlite::Database db(path, sqlite::OpenMode::ReadOnly);
        EXPECT_NO_THROW(schema::open(db, schema::migrations(), schema::kReadableFrom));   // readable as it is
        EXPECT_EQ(db.query_int("PRAGMA user_version"), 3);
    }
    Store store(path);
    const auto evs = store.evaluations_of(1);
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].id, 5);
    EXPECT_EQ(evs[0].engine, "");   // written before engines were recorded
    EXPECT_TRUE(store.integrity_ok());

    // New rows record their engine.
    EXPECT_TRUE(store.insert_evaluation(evaluation(1, 1, "ok", 0.76, "engine 4, oneDNN 9.9.9")));
    EXPECT_TRUE(store.insert_evaluation(evaluation(2, 0, "diverged", 0.1, "engine 4, oneDNN 9.9.9")));
    EXPECT_TRUE(store.insert_evaluation(evaluation(2, 1, "over_budget", 0, "")));
    EXPECT_TRUE(store.insert_evaluation(evaluation(2, 2, "invalid", 0, "")));
    EXPECT_EQ(engines_of(store, 1), (Engines{{0, ""}, {1, "engine 4, oneDNN 9.9.9"}}));
    EXPECT_EQ(engines_of(store, 2), (Engines{{0, "engine 4, oneDNN 9.9.9"}, {1, ""}, {2, ""}}));

    // A second result under the same key is dropped, engine and all; one replacing an over_budget or
    // error row brings its own engine.
    EXPECT_FALSE(store.insert_evaluation(evaluation(1, 0, "ok", 0.99, "engine 5, oneDNN 9.9.9")));
    EXPECT_EQ(store.find_evaluation(1, "synthetic", "steps=1", 0)->engine, "");
    EXPECT_TRUE(store.insert_evaluation(evaluation(2, 1, "ok", 0.5, "engine 5, oneDNN 9.9.9")));
    EXPECT_EQ(engines_of(store, 2),
              (Engines{{0, "engine 4, oneDNN 9.9.9"}, {1, "engine 5, oneDNN 9.9.9"}, {2, ""}}));

    sqlite::Database db(path, sqlite::OpenMode::ReadOnly);
    EXPECT_EQ(db.query_int("PRAGMA user_version"), 4);
    EXPECT_EQ(db.query_int("SELECT COUNT(*) FROM evaluations WHERE engine IS NULL"), 2);   // id 5 and the invalid row
}

}  // namespace
}  // namespace actsearch::db
