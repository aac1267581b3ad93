// A database shared between users, or kept in a folder its reader cannot write (db/SCHEMA.md, "Databases
// shared between users, read-only folders"). The owner and the reader are the system users `daemon` and
// `nobody`, run through setpriv; both must be ordinary users (root writes any file, so it would hide the
// problem), hence the tests need root to switch and are skipped without it.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "process.hpp"

namespace fs = std::filesystem;
using namespace actsearch::test;

namespace {

struct User {
    std::string name, group;
};
const User kOwner{"daemon", "daemon"};
const User kOther{"nobody", "nogroup"};

uid_t uid_of(const std::string& name) {
    const passwd* pw = ::getpwnam(name.c_str());
    return pw ? pw->pw_uid : static_cast<uid_t>(-1);
}

ProcessResult run_as(const User& user, const std::vector<std::string>& command, const fs::path& out_dir) {
    std::vector<std::string> argv{"setpriv", "--reuid=" + user.name, "--regid=" + user.group, "--clear-groups"};
    argv.insert(argv.end(), command.begin(), command.end());
    Child c(argv, out_dir);
    return c.wait(std::chrono::seconds(120));
}

ProcessResult actsearch_as(const User& user, const std::vector<std::string>& args, const fs::path& out_dir) {
    return run_as(user, binary_argv(args), out_dir);
}

// Skips unless this runs as root, setpriv exists and both users can run the binary (its folders may be
// closed to them).
#define SKIP_UNLESS_USERS_CAN_RUN(out_dir)                                                                    \
    do {                                                                                                      \
        if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the binary as " << kOwner.name << " and " << kOther.name; \
        if (uid_of(kOwner.name) == static_cast<uid_t>(-1) || uid_of(kOther.name) == static_cast<uid_t>(-1))  \
            GTEST_SKIP() << "no users " << kOwner.name << " and " << kOther.name;                             \
        for (const User& u : {kOwner, kOther}) {                                                              \
            const ProcessResult v = actsearch_as(u, {"--version"}, out_dir);                                  \
            if (v.status != 0) GTEST_SKIP() << u.name << " cannot run " << ACTSEARCH_BINARY << ": " << v.err; \
        }                                                                                                     \
    } while (0)

// A folder both users can write (no sticky bit, unlike /tmp), inside a test directory of root's.
fs::path shared_folder(const ScratchDir& dir, fs::perms perms = fs::perms::all) {
    const fs::path folder = dir.path() / "shared";
    fs::create_directory(folder);
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(folder, perms);
    return folder;
}

// The files in `folder` that `user` owns, by name.
std::vector<std::string> files_owned_by(const fs::path& folder, const std::string& user) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder)) {
        struct stat st {};
        if (::stat(entry.path().c_str(), &st) == 0 && st.st_uid == uid_of(user))
            names.push_back(entry.path().filename().string());
    }
    return names;
}

std::vector<std::string> eval_args(const std::string& expr, const fs::path& db) {
    return {"eval", expr, "--task", "synthetic", "--seeds", "1", "--db", db.string()};
}

bool one_line(const std::string& s) {
    return !s.empty() && s.find('\n') == s.size() - 1;
}

}  // namespace

// The reported failure: another user's read left -wal/-shm files of its own, and the owner's next write
// failed with "attempt to write a readonly database".
TEST(SharedDb, AnotherUserReadsThenTheOwnerWritesAgain) {
    ScratchDir dir;
    SKIP_UNLESS_USERS_CAN_RUN(dir.path());
    const fs::path folder = shared_folder(dir);
    const fs::path db = folder / "shared.db";

    ASSERT_EQ(actsearch_as(kOwner, eval_args("relu(x)", db), dir.path()).status, 0);
    for (const std::string command : {"leaderboard", "runs"}) {
        const ProcessResult r = actsearch_as(kOther, {command, "--db", db.string()}, dir.path());
        ASSERT_EQ(r.status, 0) << command << ": " << r.err;
        if (command == "leaderboard") {
            EXPECT_NE(r.out.find("relu(x)"), std::string::npos) << r.out;
        }
    }
    EXPECT_EQ(files_owned_by(folder, kOther.name), std::vector<std::string>{}) << "the reader left files";

    const ProcessResult write = actsearch_as(kOwner, eval_args("x*sigmoid(x)", db), dir.path());
    ASSERT_EQ(write.status, 0) << write.err;
    const ProcessResult board = actsearch_as(kOwner, {"leaderboard", "--db", db.string()}, dir.path());
    ASSERT_EQ(board.status, 0) << board.err;
    EXPECT_NE(board.out.find("relu(x)"), std::string::npos) << board.out;
    EXPECT_NE(board.out.find("x*sigmoid(x)"), std::string::npos) << board.out;
}

// A database of an older schema (version 3: no evaluations.engine) that its reader may not migrate is
// read as it is: the reader's statements do without the column, and the file stays at version 3 until
// its owner opens it.
TEST(SharedDb, AReaderReadsAVersion3DatabaseItCannotMigrate) {
    ScratchDir dir;
    SKIP_UNLESS_USERS_CAN_RUN(dir.path());
    const fs::path folder = shared_folder(dir);
    const fs::path db = folder / "shared.db";
    ASSERT_EQ(actsearch_as(kOwner, eval_args("relu(x)", db), dir.path()).status, 0);
    const auto sql = [&](const std::string& statement) {
        return run_as(kOwner, {"sqlite3", db.string(), statement}, dir.path());
    };
    ASSERT_EQ(sql("ALTER TABLE evaluations DROP COLUMN engine; PRAGMA user_version = 3;").status, 0);

    for (const std::string command : {"leaderboard", "show"}) {
        std::vector<std::string> args{command, "--db", db.string()};
        if (command == "show") args.insert(args.begin() + 1, "relu(x)");
        const ProcessResult r = actsearch_as(kOther, args, dir.path());
        ASSERT_EQ(r.status, 0) << command << ": " << r.err;
        EXPECT_NE(r.out.find("relu(x)"), std::string::npos) << r.out;
        EXPECT_EQ(r.out.find("note:"), std::string::npos) << r.out;   // one engine: not recorded
    }
    EXPECT_EQ(sql("PRAGMA user_version").out, "3\n");
    EXPECT_EQ(files_owned_by(folder, kOther.name), std::vector<std::string>{}) << "the reader left files";

    // The owner's next opening migrates it; the old row's engine reads as not recorded.
    const ProcessResult write = actsearch_as(kOwner, eval_args("x*sigmoid(x)", db), dir.path());
    ASSERT_EQ(write.status, 0) << write.err;
    EXPECT_EQ(sql("PRAGMA user_version").out, "4\n");
    EXPECT_EQ(sql("SELECT COUNT(*) FROM evaluations WHERE engine IS NULL").out, "1\n");
}

// Files left by another user's read-only opener that does not take care (sqlite3 -readonly, an older
// actsearch): empty and unused, so the owner's writer removes them and writes.
TEST(SharedDb, TheOwnerRemovesAnotherUsersEmptyLeftovers) {
    ScratchDir dir;
    SKIP_UNLESS_USERS_CAN_RUN(dir.path());
    const fs::path folder = shared_folder(dir);
    const fs::path db = folder / "shared.db";
    ASSERT_EQ(actsearch_as(kOwner, eval_args("relu(x)", db), dir.path()).status, 0);

    const ProcessResult read =
        run_as(kOther, {"sqlite3", "-readonly", db.string(), "SELECT COUNT(*) FROM evaluations"}, dir.path());
    ASSERT_EQ(read.status, 0) << read.err;
    const std::vector<std::string> leftovers{"shared.db-shm", "shared.db-wal"};
    std::vector<std::string> left = files_owned_by(folder, kOther.name);
    std::sort(left.begin(), left.end());
    ASSERT_EQ(left, leftovers) << "sqlite3 -readonly no longer leaves its files: this test needs another way";

    const ProcessResult write = actsearch_as(kOwner, eval_args("x*sigmoid(x)", db), dir.path());
    ASSERT_EQ(write.status, 0) << write.err;
    EXPECT_EQ(files_owned_by(folder, kOther.name), std::vector<std::string>{});
    const ProcessResult board = actsearch_as(kOther, {"leaderboard", "--db", db.string()}, dir.path());
    ASSERT_EQ(board.status, 0) << board.err;
    EXPECT_NE(board.out.find("x*sigmoid(x)"), std::string::npos) << board.out;
}

// Another user's files the owner must not or cannot remove: one line naming the file and the fix, exit 2.
TEST(SharedDb, TheOwnerStopsOnLeftoversItMustNotRemove) {
    ScratchDir dir;
    SKIP_UNLESS_USERS_CAN_RUN(dir.path());
    const fs::path folder = shared_folder(dir);
    const fs::path db = folder / "shared.db";
    ASSERT_EQ(actsearch_as(kOwner, eval_args("relu(x)", db), dir.path()).status, 0);

    {   // A -wal with content: transactions that would be lost.
        const fs::path wal = folder / "shared.db-wal";
        std::ofstream(wal) << "frames of another writer";
        ASSERT_EQ(::chown(wal.c_str(), uid_of(kOther.name), static_cast<gid_t>(-1)), 0);
        const ProcessResult r = actsearch_as(kOwner, eval_args("x*sigmoid(x)", db), dir.path());
        EXPECT_EQ(r.status, 2) << r.err;
        EXPECT_TRUE(one_line(r.err)) << r.err;
        EXPECT_NE(r.err.find(wal.string()), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("wal_checkpoint"), std::string::npos) << r.err;
        EXPECT_TRUE(fs::exists(wal)) << "a -wal with content must be left alone";
        fs::remove(wal);
    }
    {   // Empty leftovers in a sticky folder (like /tmp): the owner cannot remove them.
        fs::permissions(folder, fs::perms::all | fs::perms::sticky_bit);
        const ProcessResult read =
            run_as(kOther, {"sqlite3", "-readonly", db.string(), "SELECT COUNT(*) FROM evaluations"}, dir.path());
        ASSERT_EQ(read.status, 0) << read.err;
        ASSERT_TRUE(fs::exists(folder / "shared.db-shm"));
        const ProcessResult r = actsearch_as(kOwner, eval_args("x*sigmoid(x)", db), dir.path());
        EXPECT_EQ(r.status, 2) << r.err;
        EXPECT_TRUE(one_line(r.err)) << r.err;
        EXPECT_NE(r.err.find("shared.db-"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("remove"), std::string::npos) << r.err;
    }
}

// A database in a folder nobody but root can write: every reader reads it and creates nothing there; a
// writer is told why it cannot write, exit 2.
TEST(SharedDb, ReadersInAReadOnlyFolder) {
    ScratchDir dir;
    SKIP_UNLESS_USERS_CAN_RUN(dir.path());
    const fs::path folder = shared_folder(dir);
    const fs::path db = folder / "shared.db";
    ASSERT_EQ(actsearch_as(kOwner, eval_args("relu(x)", db), dir.path()).status, 0);
    fs::permissions(folder, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);   // 0555

    for (const User& user : {kOther, kOwner}) {
        const ProcessResult r = actsearch_as(user, {"leaderboard", "--db", db.string()}, dir.path());
        ASSERT_EQ(r.status, 0) << user.name << ": " << r.err;
        EXPECT_NE(r.out.find("relu(x)"), std::string::npos) << r.out;
        const ProcessResult show = actsearch_as(user, {"show", "relu(x)", "--db", db.string()}, dir.path());
        EXPECT_EQ(show.status, 0) << user.name << ": " << show.err;
    }
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder)) names.push_back(entry.path().filename().string());
    EXPECT_EQ(names, std::vector<std::string>{"shared.db"});

    const ProcessResult write = actsearch_as(kOwner, eval_args("x*sigmoid(x)", db), dir.path());
    EXPECT_EQ(write.status, 2) << write.err;
    EXPECT_TRUE(one_line(write.err)) << write.err;
    EXPECT_NE(write.err.find(folder.string()), std::string::npos) << write.err;
}
