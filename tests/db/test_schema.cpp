// Opening files that are not (or not yet, or no longer) our database, and forward migrations.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "../../db/src/schema.hpp"   // white-box: the migration machinery with test migrations
#include "actsearch/db/store.hpp"
#include "db_test_util.hpp"

namespace actsearch::db {
namespace {

using test::make_candidate;
using test::make_evaluation;
using test::make_run;

void raw_exec(const std::string& path, const char* sql) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(raw, sql, nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(raw);
}

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The message of the DbError that opening `path` throws; fails the test if none is thrown.
std::string open_error(const std::string& path, bool read_only = false) {
    try {
        Store store(path, read_only);
    } catch (const DbError& e) {
        return e.what();
    }
    ADD_FAILURE() << "opening " << path << " did not throw";
    return {};
}

void expect_one_line(const std::string& message) {
    EXPECT_FALSE(message.empty());
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(Schema, NewerSchemaVersionIsRefused) {
    test::ScratchDir dir;
    const std::string path = dir.file("future.db");
    { Store store(path); }
    raw_exec(path, "PRAGMA user_version = 99");
    for (bool read_only : {false, true}) {
        const std::string message = open_error(path, read_only);
        expect_one_line(message);
        EXPECT_NE(message.find("schema version 99"), std::string::npos) << message;
        EXPECT_NE(message.find("newer"), std::string::npos) << message;
    }
}

TEST(Schema, RandomBytesAreRefusedAndLeftAlone) {
    test::ScratchDir dir;
    const std::string path = dir.file("garbage.db");
    std::mt19937 rng(1234);
    std::string bytes(8192, '\0');
    for (char& b : bytes) b = static_cast<char>(rng() & 0xff);
    std::ofstream(path, std::ios::binary) << bytes;

    for (bool read_only : {false, true}) {
        const std::string message = open_error(path, read_only);
        expect_one_line(message);
        EXPECT_NE(message.find("not a readable actsearch database"), std::string::npos) << message;
        EXPECT_NE(message.find(path), std::string::npos) << message;
    }
    EXPECT_EQ(read_bytes(path), bytes) << "a foreign file must not be modified";
}

TEST(Schema, TextFileIsRefused) {
    test::ScratchDir dir;
    const std::string path = dir.file("notes.db");
    std::ofstream(path) << "these are my notes, not a database\n";
    expect_one_line(open_error(path));
}

TEST(Schema, ForeignSqliteDatabaseIsRefusedAndLeftAlone) {
    test::ScratchDir dir;
    const std::string path = dir.file("foreign.db");
    raw_exec(path, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5)");
    const std::string before = read_bytes(path);
    const std::string message = open_error(path);
    expect_one_line(message);
    EXPECT_NE(message.find("not an actsearch one"), std::string::npos) << message;
    EXPECT_EQ(read_bytes(path), before);
    EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(Schema, TruncatedDatabaseGivesDbErrorNotACrash) {
    test::ScratchDir dir;
    const std::string path = dir.file("truncated.db");
    {
        Store store(path);
        const std::int64_t run = store.create_run(make_run());
        Transaction batch(store);
        for (int i = 0; i < 300; ++i) {
            const std::int64_t c = store.upsert_candidate(make_candidate(fmt::format("relu(x) + {}", i), i));
            for (int seed = 1; seed <= 3; ++seed) store.insert_evaluation(make_evaluation(c, run, seed, 0.5 + i * 1e-3));
        }
        batch.commit();
    }   // the last connection checkpoints the WAL into the main file
    const auto full = std::filesystem::file_size(path);
    ASSERT_GT(full, 16u * 4096u);

    std::filesystem::resize_file(path, full / 2);
    // The damage must be noticed, either by the integrity check or by a query failing with a DbError,
    // and never by a crash.
    bool detected = false;
    try {
        Store store(path);
        detected = !store.integrity_ok();
        store.leaderboard({});
        store.evaluations_of(1);
        store.list_runs();
    } catch (const DbError& e) {
        expect_one_line(e.what());
        detected = true;
    }
    EXPECT_TRUE(detected);

    std::filesystem::resize_file(path, 50);   // not even a whole header
    expect_one_line(open_error(path));
}

TEST(Schema, LeaderboardViewExists) {
    test::ScratchDir dir;
    const std::string path = dir.file("view.db");
    { Store store(path); }
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw, "SELECT candidate, expr, task, fidelity, mean, variance, seeds, n_ok, "
                                      "n_diverged, n_invalid, n_other, best_run, equivalents FROM leaderboard",
                                 -1, &stmt, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(raw);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
    sqlite3_close(raw);
}

// The migration machinery, with migrations of its own.
class Migrations : public ::testing::Test {
protected:
    test::ScratchDir dir;
    std::string path = dir.file("migrate.db");
    const std::vector<schema::Migration> v1 = {{1, "CREATE TABLE a (x INTEGER)"}};
    const std::vector<schema::Migration> v2 = {{1, "CREATE TABLE a (x INTEGER)"},
                                               {2, "ALTER TABLE a ADD COLUMN y TEXT; CREATE TABLE b (z)"}};

    std::int64_t version() {
        sqlite::Database db(path, sqlite::OpenMode::ReadOnly);
        return db.query_int("PRAGMA user_version");
    }
    bool has_table(const char* name) {
        sqlite::Database db(path, sqlite::OpenMode::ReadOnly);
        sqlite::Statement s(db, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1");
        sqlite::Row row = s.query(name);
        return row.next() && row.get<std::int64_t>(0) == 1;
    }
};

TEST_F(Migrations, EmptyFileIsBroughtToTheLastVersion) {
    {
        sqlite::Database db(path, sqlite::OpenMode::ReadWriteCreate);
        schema::open(db, v2);
        EXPECT_EQ(db.query_int("PRAGMA application_id"), schema::kApplicationId);
    }
    EXPECT_EQ(version(), 2);
    EXPECT_TRUE(has_table("a"));
    EXPECT_TRUE(has_table("b"));
}

TEST_F(Migrations, OlderVersionIsMigratedForwardKeepingData) {
    {
        sqlite::Database db(path, sqlite::OpenMode::ReadWriteCreate);
        schema::open(db, v1);
        db.exec("INSERT INTO a (x) VALUES (41)");
    }
    EXPECT_EQ(version(), 1);
    {
        // A read-only opener cannot migrate: it says so.
        sqlite::Database db(path, sqlite::OpenMode::ReadOnly);
        EXPECT_THROW(schema::open(db, v2), DbError);
    }
    {
        // Step 1 would fail if re-run (table a exists): only step 2 runs.
        sqlite::Database db(path, sqlite::OpenMode::ReadWriteCreate);
        schema::open(db, v2);
        EXPECT_EQ(db.query_int("SELECT x FROM a"), 41);
        db.exec("UPDATE a SET y = 'new column'");
    }
    EXPECT_EQ(version(), 2);
    EXPECT_TRUE(has_table("b"));
}

TEST_F(Migrations, FailingStepRollsBackEverything) {
    {
        sqlite::Database db(path, sqlite::OpenMode::ReadWriteCreate);
        schema::open(db, v1);
    }
    std::vector<schema::Migration> broken = v2;
    broken.push_back({3, "CREATE TABLE c (w); SELECT no_such_function()"});
    {
        sqlite::Database db(path, sqlite::OpenMode::ReadWriteCreate);
        try {
            schema::open(db, broken);
            FAIL() << "expected DbError";
        } catch (const DbError& e) {
            EXPECT_NE(std::string(e.what()).find("schema version 3"), std::string::npos) << e.what();
            expect_one_line(e.what());
        }
    }
    EXPECT_EQ(version(), 1);
    EXPECT_FALSE(has_table("b"));
    EXPECT_FALSE(has_table("c"));
}

TEST_F(Migrations, AlreadyCurrentIsNotTouched) {
    {
        sqlite::Database db(path, sqlite::OpenMode::ReadWriteCreate);
        schema::open(db, v2);
    }
    const std::string before = read_bytes(path);
    {
        sqlite::Database db(path, sqlite::OpenMode::ReadWriteCreate);
        schema::open(db, v2);
    }
    EXPECT_EQ(read_bytes(path), before);
}

}  // namespace
}  // namespace actsearch::db
