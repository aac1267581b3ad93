// The opening policy of db/src/file_access.cpp that does not need a second user (tests/cli/
// test_shared_db.cpp runs the binary as other users): the immutable opening and the writer's checks.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "../../db/src/file_access.hpp"
#include "../../db/src/sqlite.hpp"
#include "actsearch/db/store.hpp"
#include "db_test_util.hpp"

namespace actsearch::db::test {
namespace {

namespace fs = std::filesystem;

std::int64_t count_candidates(sqlite::Database& db) { return db.query_int("SELECT COUNT(*) FROM candidates"); }

// The immutable opening goes through an SQLite URI: characters that mean something there must reach the
// file system as they are.
TEST(FileAccess, ImmutableOpeningReadsAFileWhoseNameHasUriCharacters) {
    ScratchDir dir;
    for (const std::string name : {"a?b.db", "c#d.db", "e%20f.db", "g h.db", "i&immutable=0.db"}) {
        const std::string path = dir.file(name);
        {
            Store store(path);
            store.upsert_candidate(make_candidate("x", 1));
            store.upsert_candidate(make_candidate("x*sigmoid(x)", 2));
        }
        sqlite::Database db(path, sqlite::OpenMode::Immutable);
        EXPECT_EQ(count_candidates(db), 2) << name;
        EXPECT_TRUE(db.read_only());
        EXPECT_THROW(db.exec("DELETE FROM candidates"), DbError) << name;
    }
    // Relative paths too (the URI has no authority then).
    const fs::path cwd = fs::current_path();
    fs::current_path(dir.file(""));
    sqlite::Database relative("a?b.db", sqlite::OpenMode::Immutable);
    EXPECT_EQ(count_candidates(relative), 2);
    fs::current_path(cwd);
}

// What an immutable reader sees is the main file: it creates no -wal/-shm, and a writer that opens the
// file meanwhile commits into its own -wal, invisible to the reader until the reader reopens.
TEST(FileAccess, ImmutableReaderCreatesNothingAndSeesTheMainFile) {
    ScratchDir dir;
    const std::string path = dir.file("r.db");
    { Store(path).upsert_candidate(make_candidate("x", 1)); }
    ASSERT_FALSE(fs::exists(path + "-wal"));

    sqlite::Database reader(path, sqlite::OpenMode::Immutable);
    EXPECT_EQ(count_candidates(reader), 1);
    EXPECT_FALSE(fs::exists(path + "-wal"));
    EXPECT_FALSE(fs::exists(path + "-shm"));
    {
        Store writer(path);
        writer.upsert_candidate(make_candidate("tanh(x)", 3));
        EXPECT_TRUE(fs::exists(path + "-wal"));
        EXPECT_EQ(count_candidates(reader), 1);   // the commit is in the writer's -wal
    }
    sqlite::Database reopened(path, sqlite::OpenMode::Immutable);
    EXPECT_EQ(count_candidates(reopened), 2);   // the writer's close copied it into the main file
}

// A reader that finds a -wal (a writer at work) uses SQLite's WAL reading and sees its commits.
TEST(FileAccess, ReaderWithAWriterAtWorkSeesItsCommits) {
    ScratchDir dir;
    const std::string path = dir.file("w.db");
    Store writer(path);
    writer.upsert_candidate(make_candidate("x", 1));
    ASSERT_TRUE(fs::exists(path + "-wal"));
    EXPECT_EQ(file_access::reader_mode(path), sqlite::OpenMode::ReadOnly);
    Store reader(path, /*read_only=*/true);
    writer.upsert_candidate(make_candidate("tanh(x)", 3));
    EXPECT_TRUE(reader.candidate_by_expr("tanh(x)").has_value());
}

// The writer's check on the folder: a database cannot be created where its folder does not exist; the
// error names the folder and is a BadDatabase (the CLI's exit status 2).
TEST(FileAccess, WriterInAMissingFolderIsBadInput) {
    ScratchDir dir;
    const std::string path = dir.file("no-such-folder/x.db");
    try {
        Store store(path);
        FAIL() << "opened " << path;
    } catch (const BadDatabase& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(dir.file("no-such-folder")), std::string::npos) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
}

}  // namespace
}  // namespace actsearch::db::test
