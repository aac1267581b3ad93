// Store round trips: runs, candidates, evaluations, strategy state, transactions, read-only access.
#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>

#include <gtest/gtest.h>

#include "actsearch/db/store.hpp"
#include "db_test_util.hpp"

namespace actsearch::db {
namespace {

using test::make_candidate;
using test::make_evaluation;
using test::make_run;

std::int64_t pragma(const std::string& path, const char* name) {
    sqlite3* raw = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    const std::string sql = std::string("PRAGMA ") + name;
    EXPECT_EQ(sqlite3_prepare_v2(raw, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    const std::int64_t value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(raw);
    return value;
}

TEST(Store, CreatesMissingFileWithVersionAndApplicationId) {
    test::ScratchDir dir;
    const std::string path = dir.file("new.db");
    {
        Store store(path);
        EXPECT_EQ(store.path(), path);
        EXPECT_TRUE(store.integrity_ok());
    }
    ASSERT_TRUE(std::filesystem::exists(path));
    EXPECT_EQ(pragma(path, "user_version"), Store::kSchemaVersion);
    EXPECT_EQ(pragma(path, "application_id"), 0x41435453);
}

TEST(Store, ZeroLengthFileIsInitialised) {
    test::ScratchDir dir;
    const std::string path = dir.file("empty.db");
    std::ofstream(path).close();
    ASSERT_EQ(std::filesystem::file_size(path), 0u);
    Store store(path);
    EXPECT_EQ(store.create_run(make_run()), 1);
    EXPECT_EQ(pragma(path, "user_version"), Store::kSchemaVersion);
}

TEST(Store, ReopenKeepsEverything) {
    test::ScratchDir dir;
    const std::string path = dir.file("a.db");
    std::int64_t run = 0, cand = 0;
    {
        Store store(path);
        run = store.create_run(make_run());
        cand = store.upsert_candidate(make_candidate("x * sigmoid(x)", 42));
        store.insert_evaluation(make_evaluation(cand, run, 1, 0.85));
        store.save_state(run, "rng", "abc");
    }
    Store store(path);
    ASSERT_TRUE(store.run(run));
    EXPECT_EQ(store.run(run)->strategy, "random");
    ASSERT_TRUE(store.candidate_by_expr("x * sigmoid(x)"));
    EXPECT_EQ(store.candidate_by_expr("x * sigmoid(x)")->id, cand);
    EXPECT_EQ(store.evaluations_of(cand).size(), 1u);
    EXPECT_EQ(store.load_state(run, "rng"), "abc");
    EXPECT_EQ(store.create_run(make_run()), run + 1);
}

TEST(Store, RunLifecycle) {
    test::ScratchDir dir;
    Store store(dir.file("runs.db"));
    RunInfo info = make_run("evolution", "fmnist-cnn");
    const std::int64_t id = store.create_run(info);
    auto run = store.run(id);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->status, "running");
    EXPECT_TRUE(std::regex_match(run->created, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"))) << run->created;
    EXPECT_EQ(run->finished, "");
    EXPECT_EQ(run->strategy, "evolution");
    EXPECT_EQ(run->space, "paper-core1");
    EXPECT_EQ(run->task, "fmnist-cnn");
    EXPECT_EQ(run->seed, 7);
    EXPECT_EQ(run->config_json, info.config_json);
    EXPECT_EQ(run->version, "0.1.0");

    store.set_run_status(id, "interrupted");
    EXPECT_EQ(store.run(id)->status, "interrupted");
    EXPECT_FALSE(store.run(id)->finished.empty());
    store.set_run_status(id, "running");   // resumed
    EXPECT_EQ(store.run(id)->finished, "");
    store.set_run_status(id, "finished");
    EXPECT_EQ(store.run(id)->status, "finished");

    EXPECT_THROW(store.set_run_status(id, "exploded"), DbError);
    EXPECT_THROW(store.set_run_status(id + 100, "finished"), DbError);
    EXPECT_FALSE(store.run(id + 100));
}

TEST(Store, FindRunMatchesTheLatestRunWithTheSameSetup) {
    test::ScratchDir dir;
    Store store(dir.file("find.db"));
    RunInfo info = make_run();
    const std::int64_t first = store.create_run(info);
    const std::int64_t second = store.create_run(info);
    RunInfo other = info;
    other.config_json = R"({"budget": 200})";
    store.create_run(other);
    EXPECT_EQ(store.find_run(info.strategy, info.space, info.task, info.config_json), second);
    EXPECT_NE(second, first);
    EXPECT_FALSE(store.find_run("rl", info.space, info.task, info.config_json));
    EXPECT_FALSE(store.find_run(info.strategy, info.space, "synthetic", info.config_json));
}

TEST(Store, CandidatesAreInsertOrGetByExpression) {
    test::ScratchDir dir;
    Store store(dir.file("cand.db"));
    // A fingerprint with the top bit set must survive the trip through a signed INTEGER column.
    const std::uint64_t big = 0xfedcba9876543210ull;
    const std::int64_t a = store.upsert_candidate(make_candidate("relu(x)", big));
    EXPECT_EQ(store.upsert_candidate(make_candidate("relu(x)", 1)), a);   // existing row is kept
    auto c = store.candidate(a);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->expr, "relu(x)");
    EXPECT_EQ(c->fingerprint, big);
    EXPECT_EQ(c->structural_hash, big ^ 0x9e3779b97f4a7c15ull);
    EXPECT_TRUE(c->valid);
    EXPECT_FALSE(c->representative);

    // Text that would break a concatenated statement is stored verbatim.
    const std::string nasty = "x'); DROP TABLE candidates; --";
    const std::int64_t b = store.upsert_candidate(make_candidate(nasty, 5));
    EXPECT_EQ(store.candidate_by_expr(nasty)->id, b);
    EXPECT_TRUE(store.candidate(a));
    EXPECT_FALSE(store.candidate_by_expr("tanh(x)"));
    EXPECT_FALSE(store.candidate(999));
}

TEST(Store, FingerprintLookupSkipsInvalidAndEquivalentCandidates) {
    test::ScratchDir dir;
    Store store(dir.file("fp.db"));
    CandidateRecord invalid = make_candidate("log(x)", 77);
    invalid.valid = false;
    invalid.invalid_reason = "non-finite value at x=-3.5";
    const std::int64_t bad = store.upsert_candidate(invalid);
    EXPECT_FALSE(store.candidate_by_fingerprint(77));
    EXPECT_EQ(store.candidate(bad)->invalid_reason, "non-finite value at x=-3.5");
    EXPECT_FALSE(store.candidate(bad)->valid);

    const std::int64_t rep = store.upsert_candidate(make_candidate("x * sigmoid(x)", 77));
    const std::int64_t eq = store.upsert_candidate(make_candidate("x / (1 + exp(-x))", 77, rep));
    auto found = store.candidate_by_fingerprint(77);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, rep);
    EXPECT_EQ(store.candidate(eq)->representative, rep);
}

TEST(Store, EquivalentsOfListsTheWholeGroupButTheCandidate) {
    test::ScratchDir dir;
    Store store(dir.file("eq.db"));
    const std::int64_t rep = store.upsert_candidate(make_candidate("swish(x)", 9));
    const std::int64_t e1 = store.upsert_candidate(make_candidate("x * sigmoid(x)", 9, rep));
    const std::int64_t e2 = store.upsert_candidate(make_candidate("x / (1 + exp(-x))", 9, rep));
    const std::int64_t lone = store.upsert_candidate(make_candidate("tanh(x)", 10));

    auto ids = [](const std::vector<CandidateRecord>& v) {
        std::vector<std::int64_t> out;
        for (const auto& c : v) out.push_back(c.id);
        return out;
    };
    EXPECT_EQ(ids(store.equivalents_of(rep)), (std::vector<std::int64_t>{e1, e2}));
    EXPECT_EQ(ids(store.equivalents_of(e1)), (std::vector<std::int64_t>{rep, e2}));
    EXPECT_TRUE(store.equivalents_of(lone).empty());
}

TEST(Store, RepresentativeMustExist) {
    test::ScratchDir dir;
    Store store(dir.file("fk.db"));
    EXPECT_THROW(store.upsert_candidate(make_candidate("x", 1, 12345)), DbError);
}

TEST(Store, EvaluationsAreUniquePerCandidateTaskFidelitySeed) {
    test::ScratchDir dir;
    Store store(dir.file("eval.db"));
    const std::int64_t run = store.create_run(make_run());
    const std::int64_t cand = store.upsert_candidate(make_candidate("relu(x)", 1));
    EXPECT_TRUE(store.insert_evaluation(make_evaluation(cand, run, 1, 0.80)));
    // The resumed search inserting the same key again: ignored, the first result stays.
    EXPECT_FALSE(store.insert_evaluation(make_evaluation(cand, run, 1, 0.99)));
    EXPECT_TRUE(store.insert_evaluation(make_evaluation(cand, run, 2, 0.82)));
    EXPECT_TRUE(store.insert_evaluation(make_evaluation(cand, run, 1, 0.70, "ok", "fmnist-cnn")));
    EXPECT_TRUE(store.insert_evaluation(make_evaluation(cand, run, 1, 0.60, "ok", "fmnist-mlp", "steps=100")));

    auto evals = store.evaluations_of(cand);
    ASSERT_EQ(evals.size(), 4u);
    int seed1_mlp_default = 0;
    for (const auto& e : evals) {
        if (e.seed == 1 && e.task == "fmnist-mlp" && e.fidelity != "steps=100") {
            ++seed1_mlp_default;
            EXPECT_DOUBLE_EQ(e.val_acc, 0.80);
        }
    }
    EXPECT_EQ(seed1_mlp_default, 1);
}

TEST(Store, EvaluationFieldsRoundTrip) {
    test::ScratchDir dir;
    Store store(dir.file("fields.db"));
    const std::int64_t run = store.create_run(make_run());
    const std::int64_t cand = store.upsert_candidate(make_candidate("exp(exp(x))", 3));
    EvaluationRecord diverged = make_evaluation(cand, run, 4, 0.1, "diverged");
    diverged.val_loss = std::nan("");
    diverged.train_loss = INFINITY;
    diverged.message = "loss is NaN at step 37";
    store.insert_evaluation(diverged);

    auto found = store.find_evaluation(cand, diverged.task, diverged.fidelity, 4);
    ASSERT_TRUE(found);
    EXPECT_GT(found->id, 0);
    EXPECT_EQ(found->candidate, cand);
    EXPECT_EQ(found->run, run);
    EXPECT_EQ(found->status, "diverged");
    EXPECT_DOUBLE_EQ(found->val_acc, 0.1);
    EXPECT_TRUE(std::isnan(found->val_loss));
    EXPECT_TRUE(std::isinf(found->train_loss));
    EXPECT_DOUBLE_EQ(found->seconds, 2.5);
    EXPECT_EQ(found->message, "loss is NaN at step 37");
    EXPECT_FALSE(found->created.empty());
    EXPECT_FALSE(store.find_evaluation(cand, diverged.task, diverged.fidelity, 5));

    EXPECT_THROW(store.insert_evaluation(make_evaluation(cand, run, 5, 0.5, "bogus")), DbError);
    EXPECT_THROW(store.insert_evaluation(make_evaluation(cand + 50, run, 5, 0.5)), DbError);
}

TEST(Store, EvaluationOutsideAnyRun) {
    test::ScratchDir dir;
    Store store(dir.file("norun.db"));
    const std::int64_t cand = store.upsert_candidate(make_candidate("tanh(x)", 3));
    EXPECT_TRUE(store.insert_evaluation(make_evaluation(cand, 0, 1, 0.8)));
    ASSERT_EQ(store.evaluations_of(cand).size(), 1u);
    EXPECT_EQ(store.evaluations_of(cand)[0].run, 0);
    EXPECT_THROW(store.insert_evaluation(make_evaluation(cand, 42, 2, 0.8)), DbError);   // no run 42
}

TEST(Store, EquivalentsShareTheRepresentativesEvaluations) {
    test::ScratchDir dir;
    Store store(dir.file("share.db"));
    const std::int64_t run = store.create_run(make_run());
    const std::int64_t rep = store.upsert_candidate(make_candidate("x * sigmoid(x)", 9));
    const std::int64_t eq = store.upsert_candidate(make_candidate("x / (1 + exp(-x))", 9, rep));
    const std::int64_t other = store.upsert_candidate(make_candidate("tanh(x)", 10));
    store.insert_evaluation(make_evaluation(rep, run, 1, 0.86));
    store.insert_evaluation(make_evaluation(rep, run, 2, 0.87));
    store.insert_evaluation(make_evaluation(other, run, 1, 0.80));

    EXPECT_EQ(store.evaluations_of(eq).size(), 2u);
    EXPECT_EQ(store.evaluations_of(rep).size(), 2u);
    for (const auto& e : store.evaluations_of(eq)) EXPECT_EQ(e.candidate, rep);
    const auto& key = make_evaluation(rep, run, 2, 0);
    auto via_equivalent = store.find_evaluation(eq, key.task, key.fidelity, 2);
    ASSERT_TRUE(via_equivalent);
    EXPECT_DOUBLE_EQ(via_equivalent->val_acc, 0.87);
    EXPECT_FALSE(store.find_evaluation(other, key.task, key.fidelity, 2));
}

TEST(Store, ListRunsCountsEvaluationsAndBestMean) {
    test::ScratchDir dir;
    Store store(dir.file("list.db"));
    const std::int64_t r1 = store.create_run(make_run());
    const std::int64_t r2 = store.create_run(make_run("rl"));
    const std::int64_t a = store.upsert_candidate(make_candidate("relu(x)", 1));
    const std::int64_t b = store.upsert_candidate(make_candidate("swish(x)", 2));
    store.insert_evaluation(make_evaluation(a, r1, 1, 0.80));
    store.insert_evaluation(make_evaluation(a, r1, 2, 0.90));   // mean 0.85
    store.insert_evaluation(make_evaluation(b, r1, 1, 0.95));
    store.insert_evaluation(make_evaluation(b, r1, 2, 0.05, "diverged"));   // not ok: mean 0.95
    store.insert_evaluation(make_evaluation(a, r2, 3, 0.10, "invalid"));

    auto runs = store.list_runs();
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[0].id, r1);
    EXPECT_EQ(runs[0].evaluations, 4);
    ASSERT_TRUE(runs[0].best_score);
    EXPECT_DOUBLE_EQ(*runs[0].best_score, 0.95);
    EXPECT_EQ(runs[1].id, r2);
    EXPECT_EQ(runs[1].strategy, "rl");
    EXPECT_EQ(runs[1].evaluations, 1);
    EXPECT_FALSE(runs[1].best_score);
}

TEST(Store, StrategyStateRoundTripsBinaryBlobs) {
    test::ScratchDir dir;
    Store store(dir.file("state.db"));
    const std::int64_t r1 = store.create_run(make_run());
    const std::int64_t r2 = store.create_run(make_run());
    std::string blob;
    for (int i = 0; i < 4096; ++i) blob.push_back(static_cast<char>((i * 131) & 0xff));   // has \0 and 0xff
    store.save_state(r1, "population", blob);
    EXPECT_EQ(store.load_state(r1, "population"), blob);
    EXPECT_FALSE(store.load_state(r2, "population"));
    EXPECT_FALSE(store.load_state(r1, "controller"));

    store.save_state(r1, "population", "v2");   // replaced, not appended
    EXPECT_EQ(store.load_state(r1, "population"), "v2");
    store.save_state(r2, "population", "");
    EXPECT_EQ(store.load_state(r2, "population"), "");
    EXPECT_EQ(store.load_state(r1, "population"), "v2");
    EXPECT_THROW(store.save_state(r2 + 10, "population", "x"), DbError);   // no such run
}

TEST(Store, TransactionsGroupAndRollBack) {
    test::ScratchDir dir;
    const std::string path = dir.file("tx.db");
    Store store(path);
    const std::int64_t run = store.create_run(make_run());
    const std::int64_t cand = store.upsert_candidate(make_candidate("relu(x)", 1));

    {
        Transaction tx(store);
        store.insert_evaluation(make_evaluation(cand, run, 1, 0.8));
        {
            Store reader(path, /*read_only=*/true);
            EXPECT_TRUE(reader.evaluations_of(cand).empty()) << "nothing is visible before commit";
        }
        EXPECT_THROW(Transaction inner(store), DbError) << "transactions do not nest";
        tx.commit();
        EXPECT_THROW(tx.commit(), DbError);   // twice
    }
    EXPECT_EQ(Store(path, true).evaluations_of(cand).size(), 1u);

    {
        Transaction tx(store);
        store.insert_evaluation(make_evaluation(cand, run, 2, 0.8));
        // no commit: rolled back by the destructor
    }
    EXPECT_EQ(store.evaluations_of(cand).size(), 1u);

    try {
        Transaction tx(store);
        store.insert_evaluation(make_evaluation(cand, run, 3, 0.8));
        throw std::runtime_error("failure between the writes");
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(store.evaluations_of(cand).size(), 1u) << "an exception rolls back";

    {
        Transaction tx(store);
        store.insert_evaluation(make_evaluation(cand, run, 4, 0.8));
        tx.commit();
    }
    EXPECT_EQ(store.evaluations_of(cand).size(), 2u);

    store.insert_evaluation(make_evaluation(cand, run, 5, 0.8));   // autocommit works again
    EXPECT_EQ(Store(path, true).evaluations_of(cand).size(), 3u);
}

TEST(Store, ReadOnlyReadsButRefusesWrites) {
    test::ScratchDir dir;
    const std::string path = dir.file("ro.db");
    std::int64_t run = 0;
    {
        Store store(path);
        run = store.create_run(make_run());
    }
    Store reader(path, /*read_only=*/true);
    EXPECT_EQ(reader.list_runs().size(), 1u);
    EXPECT_THROW(reader.create_run(make_run()), DbError);
    EXPECT_THROW(reader.save_state(run, "k", "v"), DbError);
    EXPECT_TRUE(reader.integrity_ok());
}

TEST(Store, ReadOnlyOfMissingOrEmptyFileFails) {
    test::ScratchDir dir;
    EXPECT_THROW(Store(dir.file("missing.db"), true), DbError);
    EXPECT_FALSE(std::filesystem::exists(dir.file("missing.db")));
    std::ofstream(dir.file("empty.db")).close();
    try {
        Store store(dir.file("empty.db"), true);
        FAIL() << "expected DbError";
    } catch (const DbError& e) {
        EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace actsearch::db
