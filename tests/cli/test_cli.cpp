// End-to-end tests of the actsearch binary: bad input, eval, search, kill/resume, SIGINT, MPI.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <dirent.h>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <tuple>

#include "actsearch/db/store.hpp"
#include "process.hpp"
#include "search_driver.hpp"

namespace actsearch::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A small space the synthetic task searches in seconds: 5 x 5 x 3 = 75 raw candidates.
fs::path write_tiny_space(const fs::path& dir) {
    const fs::path p = dir / "tiny.space";
    std::ofstream(p) << kTinySpace;
    return p;
}

std::vector<std::string> search_args(const fs::path& space, const fs::path& db, const std::string& strategy,
                                     int budget = 0) {
    // 4000 steps (~0.1 s a candidate) so that a search lasts long enough to be killed halfway.
    std::vector<std::string> a{"search", "--space", space.string(), "--strategy", strategy, "--task", "synthetic",
                               "--steps", "4000", "--db", db.string(), "--threads", "2", "--promote", "0",
                               "--seed", "7"};
    if (budget > 0) {
        a.push_back("--budget");
        a.push_back(std::to_string(budget));
    }
    return a;
}

// A ladder on the synthetic task: screen every candidate with one seed (4000 steps, slow enough to be
// killed halfway), then the ladder's rungs, e.g. "synthetic:seeds=2,steps=50,keep=3".
std::vector<std::string> ladder_args(const fs::path& space, const fs::path& db, const std::string& strategy, int budget,
                                     const std::vector<std::string>& upper_rungs) {
    std::vector<std::string> a{"search", "--space", space.string(), "--strategy", strategy, "--steps", "4000",
                               "--db", db.string(), "--threads", "2", "--seed", "7", "--budget",
                               std::to_string(budget), "--rung", "synthetic"};
    for (const auto& r : upper_rungs) {
        a.push_back("--rung");
        a.push_back(r);
    }
    return a;
}

// The run's results on every rung, evaluation by evaluation: (expression, fidelity, seed) -> (status,
// score). Not means: SQLite's AVG sums in storage order, which a resumed or MPI run may change.
std::map<std::tuple<std::string, std::string, std::int64_t>, std::pair<std::string, double>> rung_scores(
    const fs::path& db) {
    db::Store store(db.string(), /*read_only=*/true);
    db::LeaderboardQuery q;
    q.run = 1;
    q.top = 0;
    q.min_seeds = 0;
    std::map<std::tuple<std::string, std::string, std::int64_t>, std::pair<std::string, double>> out;
    for (const auto& row : store.leaderboard(q))
        for (const auto& e : store.evaluations_of(row.candidate))
            out[{row.expr, e.fidelity, e.seed}] = {e.status, std::isnan(e.val_acc) ? -1.0 : e.val_acc};
    return out;
}

// The run's leaderboard as expression -> mean: what a researcher would compare.
std::map<std::string, double> scores(const fs::path& db) {
    db::Store store(db.string(), /*read_only=*/true);
    db::LeaderboardQuery q;
    q.task = "synthetic";
    q.run = 1;
    q.top = 100000;
    std::map<std::string, double> out;
    for (const auto& row : store.leaderboard(q)) out[row.expr] = row.mean;
    return out;
}

std::int64_t evaluation_count(const fs::path& db) {
    db::Store store(db.string(), true);
    std::int64_t n = 0;
    for (const auto& run : store.list_runs()) n += run.evaluations;
    return n;
}

// Waits until the database holds at least n evaluations (the search is under way).
bool wait_for_evaluations(const fs::path& db, std::int64_t n, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            if (fs::exists(db) && evaluation_count(db) >= n) return true;
        } catch (...) {
            // the writer may still be creating the schema
        }
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

TEST(Cli, HelpAndVersion) {
    ScratchDir dir;
    auto r = run_binary({"--help"}, dir.path());
    EXPECT_EQ(r.status, 0);
    for (const char* cmd : {"parse", "space", "eval", "search", "runs", "leaderboard", "show", "export", "plot"})
        EXPECT_NE(r.out.find(cmd), std::string::npos) << cmd;
    r = run_binary({"search", "--help"}, dir.path());
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find("--promote-task"), std::string::npos);
    r = run_binary({"frobnicate"}, dir.path());
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err, "error: unknown command 'frobnicate'; see actsearch --help\n");
    r = run_binary({}, dir.path());
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err, "error: no command given; see actsearch --help\n");
}

// Issue 15, item 3: size-like options have upper bounds, checked before anything is allocated or
// trained; item 4: one short line that names the option and its range, exit status 2.
TEST(Cli, OptionLimitsFailAtOnceWithOneLine) {
    ScratchDir dir;
    const fs::path db = dir.path() / "limits.db";
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"eval", "x", "--task", "synthetic", "--batch", "1000000000"}, "--batch must be between 1 and 4096"},
        {{"eval", "x", "--task", "synthetic", "--width", "1000000000"}, "--width must be between 1 and 1024"},
        {{"eval", "x", "--task", "synthetic", "--seeds", "1000000000"}, "--seeds must be between 1 and 1000"},
        {{"eval", "x", "--task", "synthetic", "--seeds", "0"}, "--seeds must be between 1 and 1000"},
        {{"eval", "x", "--task", "synthetic", "--steps", "0"}, "--steps must be between 1 and 1000000"},
        {{"eval", "x", "--task", "synthetic", "--width", "0"}, "--width must be between 1 and 1024"},
        {{"eval", "x", "--task", "synthetic", "--depth", "99"}, "--depth must be between 1 and 16"},
        {{"eval", "x", "--task", "synthetic", "--threads", "-1"}, "--threads must be between 0 and 1024"},
        {{"eval", "x", "--task", "synthetic", "--lr", "inf"}, "--lr must be a number above 0 and at most 10"},
        {{"eval", "x", "--task", "synthetic", "--lr", "nan"}, "--lr must be a number above 0 and at most 10"},
        {{"eval", "x", "--task", "synthetic", "--lr", "0"}, "--lr must be a number above 0 and at most 10"},
        {{"eval", "x", "--task", "synthetic", "--seeds", "two"}, "--seeds must be an integer between 1 and 1000"},
        {{"eval", "x", "--task", "synthetic", "--downsample", "9"}, "--downsample must be between 1 and 8"},
        {{"eval", "x", "--task", "synthetic", "--wd", "-1"}, "--wd must be a number between 0 and 1"},
        {{"eval", "x", "--task", "fmnist-mlp", "--precision", "bf16"}, "precision bf16 applies to the convolutions"},
        {{"eval", "x", "--task", "synthetic", "--precision", "fp16"}, "--precision must be one of fp32, bf16"},
        {{"eval", "x", "--task", "synthetic", "--schedule", "linear"}, "--schedule must be one of constant, cosine"},
        {{"search", "--budget", "99999999999999999999"}, "--budget must be between 0 and 1000000000"},
        {{"search", "--seeds", "0"}, "--seeds must be between 1 and 1000"},
        {{"search", "--round", "1000000000"}, "--round must be between 0 and 100000"},
        {{"search", "--promote-width", "1000000000"}, "--promote-width must be between 1 and 1024"},
        {{"search", "--time-limit", "99999999999999999999h"}, "too long"},
        {{"leaderboard", "--top", "-3"}, "--top must be between 0 and 1000000"},
        {{"show", "--min-seeds", "1000000000"}, "--min-seeds must be between 0 and 1000"},
        {{"space", "--list", "99999999999999999999"}, "--list must be between 0 and 1000000000"},
    };
    for (const Case& c : cases) {
        std::vector<std::string> args = c.args;
        args.insert(args.end(), {"--db", db.string()});
        const auto r = run_binary(args, dir.path(), 30s);
        EXPECT_EQ(r.status, 2) << c.args[c.args.size() - 2] << " " << c.args.back() << ": " << r.err;
        EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_LT(r.err.size(), 120u) << r.err;
        EXPECT_EQ(r.out, "");
    }
    EXPECT_FALSE(fs::exists(db)) << "a refused command must not create the database";
}

// Issue 15, item 4: every kind of bad database is bad input (exit 2, one line), for the command that
// writes (eval, search) and the ones that read (runs, leaderboard, show).
TEST(Cli, BadDatabasesExitTwo) {
    ScratchDir dir;
    const fs::path good = dir.path() / "good.db";
    ASSERT_EQ(run_binary({"eval", "x", "--task", "synthetic", "--steps", "5", "--db", good.string()}, dir.path()).status, 0);
    const std::string good_bytes = read_file(good);
    ASSERT_GT(good_bytes.size(), 4096u);

    std::map<std::string, fs::path> bad;
    bad["not sqlite"] = dir.path() / "random.db";
    std::ofstream(bad["not sqlite"], std::ios::binary) << std::string(5000, 'z');
    bad["truncated"] = dir.path() / "truncated.db";
    std::ofstream(bad["truncated"], std::ios::binary) << good_bytes.substr(0, good_bytes.size() / 2 + 100);
    bad["foreign"] = dir.path() / "foreign.db";
    ASSERT_EQ(std::system(("sqlite3 '" + bad["foreign"].string() + "' 'CREATE TABLE t (x); INSERT INTO t VALUES (1);'").c_str()), 0);
    bad["newer"] = dir.path() / "newer.db";
    fs::copy_file(good, bad["newer"]);
    ASSERT_EQ(std::system(("sqlite3 '" + bad["newer"].string() + "' 'PRAGMA user_version = 99;'").c_str()), 0);
    bad["missing folder"] = dir.path() / "no" / "such" / "folder.db";

    for (const auto& [kind, path] : bad) {
        const std::vector<std::vector<std::string>> commands = {
            {"eval", "x", "--task", "synthetic", "--steps", "5"},
            {"search", "--task", "synthetic", "--budget", "2", "--promote", "0", "--space", "hard"},
            {"runs"},
            {"leaderboard"},
            {"show", "1"},
        };
        for (std::vector<std::string> args : commands) {
            const std::string command = args[0];
            args.insert(args.end(), {"--db", path.string()});
            const auto r = run_binary(args, dir.path(), 60s);
            EXPECT_EQ(r.status, 2) << kind << ", " << command << ": " << r.err;
            EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << kind << ", " << command << ": " << r.err;
        }
    }
    EXPECT_FALSE(fs::exists(dir.path() / "no"));
}

TEST(Cli, ParsePrintsCanonicalForm) {
    ScratchDir dir;
    auto a = run_binary({"parse", "x*sigmoid(x)", "--format", "json"}, dir.path());
    auto b = run_binary({"parse", "sigmoid(x)*x", "--json"}, dir.path());
    ASSERT_EQ(a.status, 0) << a.err;
    ASSERT_EQ(b.status, 0) << b.err;
    auto field = [](const std::string& json, const std::string& key) {
        const auto k = json.find("\"" + key + "\": \"");
        if (k == std::string::npos) return std::string();
        const auto start = k + key.size() + 5;
        return json.substr(start, json.find('"', start) - start);
    };
    EXPECT_EQ(field(a.out, "canonical"), field(b.out, "canonical"));
    EXPECT_EQ(field(a.out, "structural_hash"), field(b.out, "structural_hash"));
    EXPECT_FALSE(field(a.out, "canonical").empty());
}

TEST(Cli, BadExpressionsExitTwoWithOneLineAndCaret) {
    ScratchDir dir;
    const std::vector<std::string> bad{"x*sigmod(x)", "relu(x, x)", "(x+1", "x +* 2", "", "x $ 2"};
    for (const auto& e : bad) {
        auto r = run_binary({"parse", e}, dir.path(), 30s);
        EXPECT_EQ(r.status, 2) << "'" << e << "' -> " << r.err;
        EXPECT_NE(r.err.find("error"), std::string::npos) << e;
        EXPECT_EQ(r.out, "") << e;
    }
    auto r = run_binary({"parse", "x*sigmod(x)"}, dir.path());
    EXPECT_NE(r.err.find("sigmod"), std::string::npos);
    EXPECT_NE(r.err.find('^'), std::string::npos);
}

TEST(Cli, HostileInputsFailFastWithoutCrashing) {
    ScratchDir dir;
    const std::string deep = std::string(10000, '(') + "x" + std::string(10000, ')');
    auto r = run_binary({"parse", deep}, dir.path(), 30s);
    EXPECT_EQ(r.status, 2) << r.err;
    std::string big(1 << 20, 'x');
    for (std::size_t i = 1; i < big.size(); i += 2) big[i] = '+';
    big.back() = 'x';
    // Too long for argv on some systems: pass it through a space file template instead when it fails.
    r = run_binary({"parse", big.substr(0, 100000)}, dir.path(), 30s);
    EXPECT_EQ(r.status, 2) << r.err.substr(0, 300);
}

TEST(Cli, SpaceCountsPaperCore1) {
    ScratchDir dir;
    auto r = run_binary({"space", "--space", "paper-core1", "--count"}, dir.path(), 120s);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("raw          6250"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("functionally unique"), std::string::npos) << r.out;
}

TEST(Cli, BadSpaceFileAndUnknownSpace) {
    ScratchDir dir;
    const fs::path p = dir.path() / "bad.space";
    std::ofstream(p) << "name: bad\nunits: 1\nunary: x, tanh(\nbinary: x1+x2\n";
    auto r = run_binary({"space", "--space", p.string()}, dir.path());
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("bad.space"), std::string::npos) << r.err;
    r = run_binary({"space", "--space", "no-such-space"}, dir.path());
    EXPECT_EQ(r.status, 2) << r.err;
}

TEST(Cli, EvalSyntheticJsonAndStores) {
    ScratchDir dir;
    const fs::path db = dir.path() / "e.db";
    auto r = run_binary({"eval", "relu(x)", "--task", "synthetic", "--seeds", "2", "--json", "--db", db.string()},
                        dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("\"status\": \"ok\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"mean\": "), std::string::npos);
    EXPECT_EQ(evaluation_count(db), 2);
    r = run_binary({"eval", "relu(x)", "--task", "no-such-task"}, dir.path());
    EXPECT_EQ(r.status, 2);
    r = run_binary({"eval", "relu(x", "--task", "synthetic"}, dir.path());
    EXPECT_EQ(r.status, 2);
    r = run_binary({"eval", "relu(x)", "--task", "fmnist-mlp", "--data-dir", (dir.path() / "nowhere").string()},
                   dir.path());
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
    r = run_binary({"eval", "relu(x)", "--task", "cifar10-cnn"}, dir.path());
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("CIFAR-10 binary version"), std::string::npos) << r.err;
}

TEST(Cli, BrokenDatabaseIsAClearError) {
    ScratchDir dir;
    const fs::path db = dir.path() / "broken.db";
    std::ofstream(db) << std::string(5000, 'z');
    auto r = run_binary({"eval", "x", "--task", "synthetic", "--db", db.string()}, dir.path());
    EXPECT_EQ(r.status, 2) << r.err;   // bad input
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// A table task scores with the one (task, fidelity) the table holds most of: another fidelity of the
// same candidates in the file (a promotion, a manual eval) never mixes in.
TEST(Cli, TableTaskReplaysTheStoredScoresOfOneFidelity) {
    ScratchDir dir;
    const fs::path space = write_tiny_space(dir.path());
    const fs::path table = dir.path() / "table.db", replay = dir.path() / "replay.db";
    auto r = run_binary({"search", "--space", space.string(), "--strategy", "exhaustive", "--task", "synthetic",
                         "--db", table.string(), "--promote", "0"}, dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    const auto original = scores(table);
    r = run_binary({"eval", "x*sin(x)", "--task", "synthetic", "--steps", "20", "--db", table.string()}, dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    r = run_binary({"search", "--space", space.string(), "--strategy", "random", "--task", "table:" + table.string(),
                    "--db", replay.string(), "--promote", "0"}, dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    // The replay may pick another member of an equivalence class as representative: compare scores.
    auto sorted_means = [](const std::map<std::string, double>& m) {
        std::vector<double> v;
        for (const auto& [expr, mean] : m) v.push_back(mean);
        std::sort(v.begin(), v.end());
        return v;
    };
    db::Store store(replay.string(), true);
    db::LeaderboardQuery q;
    q.top = 0;
    std::map<std::string, double> replayed;
    for (const auto& row : store.leaderboard(q)) replayed[row.expr] = row.mean;
    EXPECT_EQ(sorted_means(replayed), sorted_means(original));
    EXPECT_EQ(replayed.count("x*sin(x)"), 1u);
    EXPECT_EQ(replayed.at("x*sin(x)"), original.at("x*sin(x)"));   // not averaged with the 20-step eval
}

// A table of several seeds answers what a search with those seeds would reward: the mean over the seeds
// with a diverged seed counted as 0 (SearchLoop::reward), not the mean of the seeds that trained.
TEST(Cli, TableTaskCountsDivergedSeedsAsZero) {
    ScratchDir dir;
    const fs::path space = write_tiny_space(dir.path());
    const fs::path table = dir.path() / "table.db", replay = dir.path() / "replay.db";
    auto r = run_binary({"search", "--space", space.string(), "--strategy", "exhaustive", "--task", "synthetic",
                         "--db", table.string(), "--promote", "0"}, dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    db::LeaderboardRow best;
    {
        db::Store store(table.string());
        db::LeaderboardQuery q;
        q.task = "synthetic";
        q.top = 1;
        best = store.leaderboard(q).at(0);
        for (const auto& [seed, status, acc] : {std::tuple{1, "ok", 0.5}, std::tuple{2, "diverged", 0.0}}) {
            db::EvaluationRecord e;
            e.candidate = best.candidate;
            e.task = best.task;
            e.fidelity = best.fidelity;
            e.seed = seed;
            e.status = status;
            e.val_acc = acc;
            ASSERT_TRUE(store.insert_evaluation(e));
        }
    }
    r = run_binary({"search", "--space", space.string(), "--strategy", "exhaustive", "--task", "table:" + table.string(),
                    "--db", replay.string(), "--promote", "0"}, dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    db::Store store(replay.string(), true);
    db::LeaderboardQuery q;
    q.top = 0;
    bool found = false;
    for (const auto& row : store.leaderboard(q)) {
        if (row.expr != best.expr) continue;
        found = true;
        EXPECT_NEAR(row.mean, (best.mean + 0.5 + 0.0) / 3, 1e-12) << row.expr;
    }
    EXPECT_TRUE(found) << best.expr;
}

// A stored 'error' says nothing about the candidate: the next search trains it again.
TEST(Cli, StoredErrorsAreRetried) {
    ScratchDir dir;
    const fs::path space = write_tiny_space(dir.path());
    const fs::path db = dir.path() / "err.db";
    auto args = search_args(space, db, "exhaustive", 5);
    auto r = run_binary(args, dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    std::int64_t victim = 0;
    std::string fidelity;
    {
        db::Store store(db.string());
        const auto rows = store.leaderboard(db::LeaderboardQuery{});
        ASSERT_FALSE(rows.empty());
        victim = rows.front().candidate;
        fidelity = rows.front().fidelity;
        db::EvaluationRecord e;
        e.candidate = victim;
        e.task = "synthetic";
        e.fidelity = fidelity;
        e.seed = 7;
        e.status = "error";
        e.message = "simulated read failure";
        db::Transaction tx(store);
        ASSERT_FALSE(store.insert_evaluation(e));   // an ok row is never overwritten
        tx.commit();
    }
    // Make a candidate whose only evaluation is an error: a fresh database, one error row.
    const fs::path db2 = dir.path() / "err2.db";
    {
        db::Store src(db.string(), true);
        const auto cand = src.candidate(victim);
        ASSERT_TRUE(cand.has_value());
        db::Store store(db2.string());
        db::CandidateRecord c = *cand;
        c.representative.reset();
        const auto id = store.upsert_candidate(c);
        db::EvaluationRecord e;
        e.candidate = id;
        e.task = "synthetic";
        e.fidelity = fidelity;
        e.seed = 7;
        e.status = "error";
        e.message = "simulated read failure";
        ASSERT_TRUE(store.insert_evaluation(e));
    }
    r = run_binary(search_args(space, db2, "exhaustive", 5), dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    db::Store store(db2.string(), true);
    const auto evals = store.evaluations_of(store.candidate_by_expr(store.candidate(1)->expr)->id);
    ASSERT_EQ(evals.size(), 1u);
    EXPECT_EQ(evals[0].status, "ok") << evals[0].message;
}

// A search killed with SIGKILL and started again ends with the same results as one never killed,
// with no duplicate rows and an intact database; for every strategy.
class KillResume : public ::testing::TestWithParam<std::string> {};

TEST_P(KillResume, SigkillThenSameCommandAgain) {
    const std::string strategy = GetParam();
    ScratchDir dir;
    const fs::path space = write_tiny_space(dir.path());
    const int budget = 30;

    const fs::path ref_db = dir.path() / "ref.db";
    auto ref = run_binary(search_args(space, ref_db, strategy, budget), dir.path());
    ASSERT_EQ(ref.status, 0) << ref.err;

    const fs::path db = dir.path() / "killed.db";
    {
        Child child(binary_argv(search_args(space, db, strategy, budget)), dir.path());
        ASSERT_TRUE(wait_for_evaluations(db, 8, 120s));
        child.signal(SIGKILL);
        auto k = child.wait(30s);
        ASSERT_EQ(k.status, 128 + SIGKILL);
    }
    auto resumed = run_binary(search_args(space, db, strategy, budget), dir.path());
    ASSERT_EQ(resumed.status, 0) << resumed.err;
    EXPECT_NE(resumed.err.find("resuming run"), std::string::npos) << resumed.err;

    db::Store store(db.string(), true);
    EXPECT_TRUE(store.integrity_ok());
    const auto runs = store.list_runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].status, "finished");
    EXPECT_EQ(scores(db), scores(ref_db));
    EXPECT_EQ(evaluation_count(db), evaluation_count(ref_db));
}

INSTANTIATE_TEST_SUITE_P(Strategies, KillResume, ::testing::Values("exhaustive", "random", "evolution", "rl", "surrogate"));

// The same for a fidelity ladder: the resumed run promotes exactly what an uninterrupted one promotes.
// Killed during the screen; with an asynchronous rung (keep=0.2) that is also during promotions.
class KillResumeLadder : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(KillResumeLadder, SigkillThenSameCommandAgain) {
    ScratchDir dir;
    const fs::path space = write_tiny_space(dir.path());
    const fs::path ref_db = dir.path() / "ref.db", db = dir.path() / "killed.db";
    auto ref = run_binary(ladder_args(space, ref_db, "evolution", 30, GetParam()), dir.path());
    ASSERT_EQ(ref.status, 0) << ref.err;
    EXPECT_NE(ref.out.find("rung 2 of"), std::string::npos) << ref.out;
    {
        Child child(binary_argv(ladder_args(space, db, "evolution", 30, GetParam())), dir.path());
        ASSERT_TRUE(wait_for_evaluations(db, 10, 120s));
        child.signal(SIGKILL);
        auto k = child.wait(30s);
        ASSERT_EQ(k.status, 128 + SIGKILL);
    }
    auto resumed = run_binary(ladder_args(space, db, "evolution", 30, GetParam()), dir.path());
    ASSERT_EQ(resumed.status, 0) << resumed.err;
    EXPECT_NE(resumed.err.find("resuming run"), std::string::npos) << resumed.err;
    db::Store store(db.string(), true);
    EXPECT_TRUE(store.integrity_ok());
    ASSERT_EQ(store.list_runs().size(), 1u);
    EXPECT_EQ(store.list_runs()[0].status, "finished");
    const auto expected = rung_scores(ref_db);
    EXPECT_EQ(rung_scores(db), expected);
    EXPECT_EQ(evaluation_count(db), evaluation_count(ref_db));
    // Both upper rungs were reached: some candidate has results at steps=50.
    EXPECT_TRUE(std::any_of(expected.begin(), expected.end(),
                            [](const auto& kv) { return std::get<1>(kv.first).find("steps=50 ") == 0; }));
}

INSTANTIATE_TEST_SUITE_P(
    Ladders, KillResumeLadder,
    ::testing::Values(std::vector<std::string>{"synthetic:seeds=2,steps=50,keep=3"},
                      std::vector<std::string>{"synthetic:seeds=2,steps=50,keep=0.2", "synthetic:seeds=3,steps=80,keep=2"}));

// Promotion only where asked: a synthetic search does not go on to the CNN.
TEST(Cli, SearchOnAnotherTaskPromotesNothingByDefault) {
    ScratchDir dir;
    const fs::path space = write_tiny_space(dir.path());
    const fs::path db = dir.path() / "p.db";
    auto args = search_args(space, db, "exhaustive", 5);
    args.erase(std::find(args.begin(), args.end(), "--promote"), std::find(args.begin(), args.end(), "--promote") + 2);
    auto r = run_binary(args, dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.find("rung 2"), std::string::npos) << r.out;
    db::Store store(db.string(), true);
    for (const auto& row : store.leaderboard(db::LeaderboardQuery{})) EXPECT_EQ(row.task, "synthetic");
    // Conflicting or malformed ladders are bad input.
    for (const std::vector<std::string>& bad :
         {std::vector<std::string>{"--rung", "synthetic", "--task", "synthetic"},
          std::vector<std::string>{"--rung", "synthetic", "--promote", "3"},
          std::vector<std::string>{"--rung", "synthetic:keep=0.5"},
          std::vector<std::string>{"--rung", "synthetic", "--rung", "synthetic:keep=2.5"},
          std::vector<std::string>{"--rung", "synthetic", "--rung", "synthetic:seeds=x"},
          std::vector<std::string>{"--rung", "synthetic", "--rung", "synthetic:speed=3"}}) {
        std::vector<std::string> a{"search", "--space", space.string(), "--db", db.string()};
        a.insert(a.end(), bad.begin(), bad.end());
        auto b = run_binary(a, dir.path());
        EXPECT_EQ(b.status, 2) << bad.back() << ": " << b.err;
        EXPECT_NE(b.err.find("error: "), std::string::npos) << b.err;
    }
    // A rung's keys take the values, bounds and words of the matching options, and say which in one line.
    for (const auto& [rung, option, says] :
         {std::tuple<std::string, std::vector<std::string>, std::string>{
              "synthetic:width=5000", {"--width", "5000"}, "width must be a number between 1 and 1024, not '5000'"},
          {"synthetic:wd=2", {"--wd", "2"}, "wd must be a number between 0 and 1, not '2'"},
          {"synthetic:lr=0", {"--lr", "0"}, "lr must be a number above 0 and at most 10, not '0'"},
          {"synthetic:schedule=linear", {"--schedule", "linear"}, "schedule must be one of constant, cosine, not 'linear'"},
          {"synthetic:precision=fp16", {"--precision", "fp16"}, "precision must be one of fp32, bf16, not 'fp16'"}}) {
        std::vector<std::string> with_rung{"search", "--space", space.string(), "--db", db.string(),
                                           "--rung", "synthetic", "--rung", rung};
        const auto b = run_binary(with_rung, dir.path());
        EXPECT_EQ(b.status, 2) << rung << ": " << b.err;
        EXPECT_NE(b.err.find(says), std::string::npos) << b.err;
        EXPECT_EQ(std::count(b.err.begin(), b.err.end(), '\n'), 1) << b.err;
        std::vector<std::string> with_option{"search", "--space", space.string(), "--db", db.string(), "--task",
                                             "synthetic"};
        with_option.insert(with_option.end(), option.begin(), option.end());
        EXPECT_EQ(run_binary(with_option, dir.path()).status, 2) << option[0] << " " << option[1];
    }
    // Words in any case, as the options take them (the rung ladder itself runs in the tests above).
    const cli::RungOptions words = cli::parse_rung("synthetic:schedule=Cosine,precision=BF16");
    EXPECT_EQ(words.task.fidelity.schedule, engine::Schedule::Cosine);
    EXPECT_EQ(words.task.fidelity.precision, engine::Precision::Bf16);
}

TEST(Cli, SigintMarksInterruptedAndResumes) {
    ScratchDir dir;
    const fs::path space = write_tiny_space(dir.path());
    const fs::path db = dir.path() / "int.db";
    Child child(binary_argv(search_args(space, db, "exhaustive")), dir.path());
    ASSERT_TRUE(wait_for_evaluations(db, 6, 120s));
    child.signal(SIGINT);
    auto r = child.wait(60s);
    EXPECT_EQ(r.status, 130) << r.err;
    {
        db::Store store(db.string(), true);
        const auto runs = store.list_runs();
        ASSERT_EQ(runs.size(), 1u);
        EXPECT_EQ(runs[0].status, "interrupted");
    }
    auto resumed = run_binary(search_args(space, db, "exhaustive"), dir.path());
    ASSERT_EQ(resumed.status, 0) << resumed.err;
    db::Store store(db.string(), true);
    EXPECT_EQ(store.list_runs()[0].status, "finished");
}

#ifdef ACTSEARCH_HAVE_MPI
std::vector<std::string> mpirun(int np, const std::vector<std::string>& args) {
    return binary_argv(args, {"mpirun", "--oversubscribe", "--allow-run-as-root", "-np", std::to_string(np)});
}

// Every learning strategy: rank 0 proposes and observes in the same order whatever the ranks return.
class MpiStrategies : public ::testing::TestWithParam<const char*> {};

TEST_P(MpiStrategies, ThreeRanksGiveTheSameResultsAsOneProcess) {
    ScratchDir dir;
    const fs::path space = write_tiny_space(dir.path());
    const fs::path ref_db = dir.path() / "ref.db", mpi_db = dir.path() / "mpi.db";
    auto ref = run_binary(search_args(space, ref_db, GetParam(), 30), dir.path());
    ASSERT_EQ(ref.status, 0) << ref.err;
    const auto argv = mpirun(3, search_args(space, mpi_db, GetParam(), 30));
    Child c(argv, dir.path(), {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", "OMPI_MCA_rmaps_base_oversubscribe=1"});
    auto r = c.wait(300s);
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_EQ(scores(mpi_db), scores(ref_db));
    EXPECT_FALSE(scores(mpi_db).empty());
}

INSTANTIATE_TEST_SUITE_P(Mpi, MpiStrategies, ::testing::Values("evolution", "rl", "surrogate"));

TEST(Mpi, ALadderOverThreeRanksEqualsOneProcess) {
    ScratchDir dir;
    const fs::path space = write_tiny_space(dir.path());
    const fs::path ref_db = dir.path() / "ref.db", mpi_db = dir.path() / "mpi.db";
    const std::vector<std::string> rungs{"synthetic:seeds=2,steps=50,keep=0.2", "synthetic:seeds=3,steps=80,keep=2"};
    auto ref = run_binary(ladder_args(space, ref_db, "evolution", 30, rungs), dir.path());
    ASSERT_EQ(ref.status, 0) << ref.err;
    Child c(mpirun(3, ladder_args(space, mpi_db, "evolution", 30, rungs)), dir.path(),
            {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", "OMPI_MCA_rmaps_base_oversubscribe=1"});
    auto r = c.wait(300s);
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    const auto expected = rung_scores(ref_db);
    EXPECT_EQ(rung_scores(mpi_db), expected);
    EXPECT_TRUE(std::any_of(expected.begin(), expected.end(),
                            [](const auto& kv) { return std::get<1>(kv.first).find("steps=80 ") == 0; }));
}

// The pid of the MPI rank `rank` whose environment carries `marker` (set for this test's mpirun only).
pid_t find_rank(const std::string& marker, int rank) {
    auto has = [](const std::string& env, const std::string& kv) {
        for (std::size_t pos = 0; pos < env.size();) {
            const std::size_t end = std::min(env.find('\0', pos), env.size());
            if (env.compare(pos, end - pos, kv) == 0) return true;
            pos = end + 1;
        }
        return false;
    };
    DIR* d = ::opendir("/proc");
    pid_t found = -1;
    while (dirent* e = ::readdir(d)) {
        const pid_t pid = std::atoi(e->d_name);
        if (pid <= 0) continue;
        const std::string env = read_file(fs::path("/proc") / e->d_name / "environ");
        if (has(env, marker) && has(env, "OMPI_COMM_WORLD_RANK=" + std::to_string(rank))) found = pid;
    }
    ::closedir(d);
    return found;
}

TEST(Mpi, KilledRankThenResume) {
    ScratchDir dir;
    const fs::path space = write_tiny_space(dir.path());
    const fs::path ref_db = dir.path() / "ref.db", db = dir.path() / "mpi.db";
    auto ref = run_binary(search_args(space, ref_db, "random", 40), dir.path());
    ASSERT_EQ(ref.status, 0) << ref.err;
    const auto argv = mpirun(3, search_args(space, db, "random", 40));
    const std::string marker = "ACTSEARCH_TEST_MARK=" + dir.path().string();
    const std::vector<std::string> env{"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", marker};
    {
        Child c(argv, dir.path(), env);
        ASSERT_TRUE(wait_for_evaluations(db, 6, 120s));
        const pid_t worker = find_rank(marker, 2);
        ASSERT_GT(worker, 0);
        ::kill(worker, SIGKILL);
        auto r = c.wait(120s);
        EXPECT_NE(r.status, 0);   // the job dies with its rank
        c.signal(SIGKILL);        // and leaves nothing behind
    }
    Child again(argv, dir.path(), env);
    auto r = again.wait(300s);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("resuming run"), std::string::npos) << r.err;
    db::Store store(db.string(), true);
    EXPECT_TRUE(store.integrity_ok());
    EXPECT_EQ(scores(db), scores(ref_db));
}
#endif

}  // namespace
}  // namespace actsearch::test
