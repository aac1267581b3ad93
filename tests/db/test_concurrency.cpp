// A search writing while reports read: one writer process, one read-only reader, same file.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <exception>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "actsearch/db/store.hpp"
#include "db_test_util.hpp"

namespace actsearch::db {
namespace {

using test::make_candidate;
using test::make_evaluation;
using test::make_run;

constexpr int kBatches = 150;
constexpr int kBatchSize = 10;
constexpr int kCandidates = 50;

// The child: what the search process does, a batch of evaluations per transaction.
[[noreturn]] void write_batches(const std::string& path, std::int64_t run) {
    try {
        Store store(path);
        for (int b = 0; b < kBatches; ++b) {
            Transaction batch(store);
            for (int i = 0; i < kBatchSize; ++i) {
                const int n = b * kBatchSize + i;
                store.insert_evaluation(make_evaluation(1 + n % kCandidates, run, n / kCandidates, 0.5 + 1e-4 * n));
            }
            batch.commit();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "writer: %s\n", e.what());
        ::_exit(1);
    }
    ::_exit(0);
}

TEST(Concurrency, ReaderSeesWholeBatchesWhileAWriterProcessCommits) {
    test::ScratchDir dir;
    const std::string path = dir.file("shared.db");
    std::int64_t run = 0;
    {
        Store setup(path);
        run = setup.create_run(make_run());
        for (int c = 0; c < kCandidates; ++c) setup.upsert_candidate(make_candidate(fmt::format("c{}(x)", c), c));
    }   // no connection may cross fork()

    std::fflush(nullptr);
    const pid_t writer = ::fork();
    ASSERT_GE(writer, 0);
    if (writer == 0) write_batches(path, run);

    Store reader(path, /*read_only=*/true);
    LeaderboardQuery all;
    all.top = 0;
    std::int64_t last = 0;
    int reads = 0;
    int status = 0;
    bool writer_done = false;
    while (!writer_done) {
        writer_done = ::waitpid(writer, &status, WNOHANG) == writer;
        std::int64_t seen = 0;
        ASSERT_NO_THROW({
            for (const LeaderboardRow& row : reader.leaderboard(all)) seen += row.n_ok;
        });
        ++reads;
        EXPECT_GE(seen, last) << "evaluation count went backwards";
        EXPECT_EQ(seen % kBatchSize, 0) << "a reader saw half a transaction";
        std::int64_t listed = 0;
        ASSERT_NO_THROW(listed = reader.list_runs().at(0).evaluations);
        EXPECT_GE(listed, seen);   // a later snapshot
        EXPECT_EQ(listed % kBatchSize, 0);
        last = seen;
    }
    ASSERT_TRUE(WIFEXITED(status)) << "writer crashed";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "writer failed (see its message above)";
    EXPECT_EQ(last, kBatches * kBatchSize);
    EXPECT_GT(reads, 1);
    EXPECT_TRUE(reader.integrity_ok());
}

// `actsearch eval` run while a search writes: two writer processes on one file. Each waits for the other's
// short write locks (busy timeout) instead of failing; nothing is lost.
TEST(Concurrency, TwoWriterProcessesBothSucceed) {
    test::ScratchDir dir;
    const std::string path = dir.file("two.db");
    std::int64_t run = 0;
    {
        Store setup(path);
        run = setup.create_run(make_run());
        for (int c = 0; c < kCandidates; ++c) setup.upsert_candidate(make_candidate(fmt::format("c{}(x)", c), c));
    }
    constexpr int kPerWriter = 300;
    std::fflush(nullptr);
    pid_t writers[2];
    for (int w = 0; w < 2; ++w) {
        writers[w] = ::fork();
        ASSERT_GE(writers[w], 0);
        if (writers[w] == 0) {
            try {
                Store store(path);
                for (int i = 0; i < kPerWriter; ++i) {
                    // Single autocommit inserts and small batches, interleaved with the other writer's.
                    const int n = w * kPerWriter + i;
                    if (i % 3 == 0) {
                        store.insert_evaluation(make_evaluation(1 + n % kCandidates, run, n, 0.5));
                    } else {
                        Transaction batch(store);
                        store.insert_evaluation(make_evaluation(1 + n % kCandidates, run, n, 0.5));
                        batch.commit();
                    }
                }
            } catch (const std::exception& e) {
                std::fprintf(stderr, "writer %d: %s\n", w, e.what());
                ::_exit(1);
            }
            ::_exit(0);
        }
    }
    for (pid_t pid : writers) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 0) << "a writer failed (see its message above)";
    }
    Store reader(path, true);
    EXPECT_EQ(reader.list_runs().at(0).evaluations, 2 * kPerWriter);
    EXPECT_TRUE(reader.integrity_ok());
}

}  // namespace
}  // namespace actsearch::db
