// The search loop without the binary: a fake executor and a fake scorer with known scores, a temporary
// SQLite file. Steps one by one, the whole loop, the ladder, a crash and a resume.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <unistd.h>

#include <cmath>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>

#include "actsearch/db/store.hpp"
#include "actsearch/driver/search_loop.hpp"
#include "actsearch/grammar/space.hpp"
#include "actsearch/search/strategy.hpp"
#include "helpers.hpp"

namespace actsearch::driver {
namespace {

namespace fs = std::filesystem;
using test::kTinySpace;

// 5 x 5 x 3 = 75 raw candidates, several of them equivalent (x + x, max(x, x), ...).
Space tiny_space() {
    auto parsed = parse_space(kTinySpace, "tiny");
    return std::get<Space>(std::move(parsed));
}

using test::ScratchDir;

// A known score per (expression, rung, seed); candidates with x^2 diverge on odd seeds.
engine::EvalResult fake_score(const Job& j) {
    engine::EvalResult r;
    r.seconds = 0.01 * (j.task + 1);
    if (j.expr.find("x^2") != std::string::npos && j.seed % 2 == 1) {
        r.status = engine::EvalStatus::Diverged;
        return r;
    }
    const std::size_t h = std::hash<std::string>{}(j.expr + "/" + std::to_string(j.task) + "/" + std::to_string(j.seed));
    r.status = engine::EvalStatus::Ok;
    r.val_acc = 0.5 + static_cast<double>(h % 10007) / 20014.0;
    return r;
}

// Runs the jobs one by one, in order or backwards, and throws after `crash_after` results (a SIGKILL:
// what was stored stays stored, nothing else is saved).
class FakeExecutor final : public Executor {
public:
    explicit FakeExecutor(bool backwards = false, int crash_after = -1)
        : backwards_(backwards), crash_after_(crash_after) {}
    void run(const std::vector<Job>& jobs, const ResultFn& on_result, const StopFn& stop) override {
        std::vector<Job> order = jobs;
        if (backwards_) std::reverse(order.begin(), order.end());
        std::set<int> tasks;
        for (const Job& j : order) {
            if (stop()) break;
            if (crash_after_ >= 0 && done_ == crash_after_) throw std::runtime_error("killed");
            tasks.insert(j.task);
            on_result(j, fake_score(j));
            ++done_;
        }
        if (tasks.count(0) && tasks.size() > 1) ++mixed_calls;
    }
    int slots() const override { return 2; }
    int mixed_calls = 0;   // calls that trained screen and promotion jobs together

private:
    bool backwards_;
    int crash_after_;
    int done_ = 0;
};

SearchSpec ladder_spec(std::int64_t budget = 40) {
    SearchSpec s;
    s.space = "tiny";
    s.strategy = "evolution";
    s.seed = 7;
    s.round = 8;
    s.budget = budget;
    s.rungs = {{{"fake", "steps=1", fake_score}, {1, 0}},
               {{"fake", "steps=2", fake_score}, {2, 0.25}},
               {{"fake-judge", "steps=3", fake_score}, {3, 3}}};
    return s;
}

struct Fixture {
    Space space = tiny_space();
    std::unique_ptr<search::Strategy> strategy;
    explicit Fixture(std::uint64_t seed = 7) {
        search::StrategyOptions o;
        o.seed = seed;
        o.population = 8;
        o.tournament = 3;
        strategy = search::make_strategy("evolution", space, o);
    }
};

// Every stored evaluation: (expression, task, fidelity, seed) -> (status, score). Per evaluation, not
// means: SQLite's AVG sums in storage order, which may differ in the last bit.
using Key = std::tuple<std::string, std::string, std::string, std::int64_t>;
std::map<Key, std::pair<std::string, double>> results(const std::string& path) {
    db::Store store(path, true);
    db::LeaderboardQuery q;
    q.top = 0;
    q.min_seeds = 0;
    std::map<Key, std::pair<std::string, double>> out;
    for (const auto& row : store.leaderboard(q))
        for (const auto& e : store.evaluations_of(row.candidate))
            out[{row.expr, e.task, e.fidelity, e.seed}] = {e.status, std::isnan(e.val_acc) ? -1.0 : e.val_acc};
    return out;
}

using Results = decltype(results(""));

// The entries that differ, readable (gtest prints only the first 32 of a map).
std::string difference(const Results& a, const Results& b) {
    std::string out;
    for (const auto& [k, v] : a) {
        auto it = b.find(k);
        if (it == b.end() || it->second != v)
            out += std::get<0>(k) + " " + std::get<2>(k) + ": " + v.first + " " + std::to_string(v.second) + " vs " +
                   (it == b.end() ? "missing" : it->second.first + " " + std::to_string(it->second.second)) + "\n";
    }
    for (const auto& [k, v] : b)
        if (!a.count(k)) out += std::get<0>(k) + " " + std::get<2>(k) + ": missing vs " + v.first + "\n";
    return out;
}

Outcome run_once(const std::string& path, SearchSpec spec, Executor& ex) {
    Fixture f;
    db::Store store(path);
    SearchLoop loop(f.space, *f.strategy, store, ex, std::move(spec));
    return loop.run();
}

TEST(RunKey, IsTheBytesEarlierVersionsStored) {
    SearchSpec s = ladder_spec();
    s.space = "tiny.space";
    s.rungs.resize(1);
    s.rungs[0].scorer = {"synthetic", "steps=4000 width=32 depth=2 lr=0.1 batch=64", {}};
    const std::string old = "{\"space\": \"tiny.space\", \"strategy\": \"evolution\", \"task\": \"synthetic\", "
                            "\"fidelity\": \"steps=4000 width=32 depth=2 lr=0.1 batch=64\", \"seeds\": 1, \"seed\": 7, "
                            "\"batch\": 0}";
    EXPECT_EQ(run_key(s), old);
    // A count promotion (the old --promote) keeps that key; an asynchronous ladder names its rungs.
    s.rungs.push_back({{"fmnist-cnn", "steps=200", {}}, {2, 5}});
    EXPECT_EQ(run_key(s), old);
    s.rungs[1].rule.keep = 0.1;
    EXPECT_NE(run_key(s).find("\"ladder\": [{\"task\":\"fmnist-cnn\""), std::string::npos) << run_key(s);
}

TEST(SearchLoop, StepsOneByOne) {
    ScratchDir tmp;
    Fixture f;
    db::Store store(tmp.file("steps.db"));
    FakeExecutor ex;
    SearchLoop loop(f.space, *f.strategy, store, ex, ladder_spec());
    const std::int64_t run = loop.open();
    EXPECT_GT(run, 0);
    const auto choices = loop.propose();
    ASSERT_EQ(choices.size(), 8u);
    SearchLoop::Round round = loop.resolve(choices);
    ASSERT_EQ(round.entries.size(), 8u);   // nothing promoted yet
    std::size_t valid = 0;
    for (const auto& e : round.entries) {
        EXPECT_EQ(e.rung, 0u);
        if (!e.valid) {
            EXPECT_EQ(e.results[0]->status, engine::EvalStatus::Invalid);
        } else {
            ++valid;
        }
    }
    EXPECT_LE(round.jobs.size(), valid);   // equivalent proposals share one job
    EXPECT_GT(round.jobs.size(), 0u);
    loop.train(round);
    for (const auto& e : round.entries) EXPECT_TRUE(e.results[0].has_value());
    EXPECT_EQ(loop.observe(round), SearchLoop::Observed::Complete);
    EXPECT_EQ(loop.trained().size(), round.jobs.size());
    // keep = 0.25 of 8 screened: up to 2 admitted to rung 1 already (fewer when some are equivalent).
    EXPECT_GE(loop.ladder().pending().size(), 1u);
    loop.checkpoint();
    for (const char* key : {"strategy", "driver", "ladder"}) EXPECT_TRUE(store.load_state(run, key)) << key;
    // The next round carries the promotions with the new proposals.
    SearchLoop::Round next = loop.resolve(loop.propose());
    EXPECT_TRUE(std::any_of(next.jobs.begin(), next.jobs.end(), [](const Job& j) { return j.task == 1; }));
    EXPECT_TRUE(std::any_of(next.jobs.begin(), next.jobs.end(), [](const Job& j) { return j.task == 0; }));
}

TEST(SearchLoop, LadderResultsDoNotDependOnJobOrderAndPromoteDuringTheScreen) {
    ScratchDir tmp;
    FakeExecutor forward, backward(true);
    const Outcome a = run_once(tmp.file("a.db"), ladder_spec(), forward);
    const Outcome b = run_once(tmp.file("b.db"), ladder_spec(), backward);
    EXPECT_FALSE(a.interrupted);
    EXPECT_EQ(a.progress.trained, 40u);   // the budget
    EXPECT_EQ(difference(results(tmp.file("a.db")), results(tmp.file("b.db"))), "");
    EXPECT_GT(forward.mixed_calls, 0) << "promotions must be trained alongside the screen (ASHA)";
    ASSERT_EQ(a.progress.rungs.size(), 3u);
    EXPECT_EQ(a.progress.rungs[2].finished, 3u);   // keep = 3
    EXPECT_GE(a.progress.rungs[1].finished, 3u);
    // ASHA admits the best quarter of those screened so far, so a candidate admitted early may later
    // fall out of the best quarter: more than a quarter in all, far fewer than everyone.
    EXPECT_LT(a.progress.rungs[1].finished, a.progress.rungs[0].finished / 2);
    // Every candidate of the judge rung was among the best of rung 1.
    db::Store store(tmp.file("a.db"), true);
    EXPECT_EQ(store.list_runs().at(0).status, "finished");
}

TEST(SearchLoop, CrashAnywhereThenResumeEndsWithTheResultsOfAnUninterruptedRun) {
    ScratchDir tmp;
    FakeExecutor plain;
    run_once(tmp.file("ref.db"), ladder_spec(), plain);
    const auto reference = results(tmp.file("ref.db"));
    ASSERT_FALSE(reference.empty());
    for (int crash_after : {3, 20, 45, 60}) {
        const std::string path = tmp.file("crash" + std::to_string(crash_after) + ".db");
        FakeExecutor crashing(false, crash_after);
        EXPECT_THROW(run_once(path, ladder_spec(), crashing), std::runtime_error);
        FakeExecutor rest;
        const Outcome o = run_once(path, ladder_spec(), rest);
        EXPECT_TRUE(o.resumed);
        EXPECT_EQ(difference(results(path), reference), "") << "crash after " << crash_after << " results";
        db::Store store(path, true);
        ASSERT_EQ(store.list_runs().size(), 1u);
        EXPECT_EQ(store.list_runs()[0].status, "finished");
    }
}

TEST(SearchLoop, ANewRunReusesEveryStoredResult) {
    ScratchDir tmp;
    FakeExecutor first;
    run_once(tmp.file("r.db"), ladder_spec(), first);
    const auto before = results(tmp.file("r.db"));
    SearchSpec again = ladder_spec();
    again.new_run = true;
    FakeExecutor second;
    const Outcome o = run_once(tmp.file("r.db"), again, second);
    EXPECT_FALSE(o.resumed);
    EXPECT_EQ(o.progress.trained_now, 0u);
    EXPECT_EQ(o.progress.rungs[2].finished, 3u) << "the judge rung is answered from the database too";
    EXPECT_EQ(difference(results(tmp.file("r.db")), before), "");
}

TEST(SearchLoop, StopFinishesNothingMoreAndMarksTheRunInterrupted) {
    ScratchDir tmp;
    Fixture f;
    db::Store store(tmp.file("stop.db"));
    FakeExecutor ex;
    int polls = 0;
    SearchLoop loop(f.space, *f.strategy, store, ex, ladder_spec(), [&] { return ++polls > 12; });
    const Outcome o = loop.run();
    EXPECT_TRUE(o.interrupted);
    EXPECT_LT(o.progress.trained, 40u);
    EXPECT_EQ(store.run(o.run)->status, "interrupted");
    // The same configuration again resumes it and finishes.
    FakeExecutor rest;
    const Outcome done = run_once(tmp.file("stop.db"), ladder_spec(), rest);
    EXPECT_TRUE(done.resumed);
    EXPECT_FALSE(done.interrupted);
    EXPECT_EQ(done.run, o.run);
}

// The time left covers every rung: it counts the rungs above the screen at their measured cost, says
// when a rung to come is not measured yet, and reaches 0 only at the end.
TEST(SearchLoop, TimeLeftCoversEveryRung) {
    struct Recorder final : Listener {
        std::vector<Progress> rounds, all;
        std::vector<std::string> lines;
        void progress(const Progress& p, bool force) override {
            if (force) rounds.push_back(p);
            all.push_back(p);
        }
        void message(const std::string& line) override { lines.push_back(line); }
    } rec;
    ScratchDir tmp;
    Fixture f;
    db::Store store(tmp.file("eta.db"));
    FakeExecutor ex;
    SearchLoop loop(f.space, *f.strategy, store, ex, ladder_spec(), {}, &rec);
    const Outcome o = loop.run();
    ASSERT_GE(rec.rounds.size(), 4u);
    const Progress& first = rec.rounds.front();
    ASSERT_TRUE(first.eta.has_value());
    EXPECT_TRUE(first.eta_partial) << "rung 3 has no measured cost after the first round";
    // Once the screen is over but rungs 2 and 3 still have work, the time left is not 0.
    bool screen_over_work_left = false;
    for (const Progress& p : rec.all) {
        if (p.trained < 40 || (p.rungs[1].pending == 0 && p.rungs[2].pending == 0)) continue;
        screen_over_work_left = true;
        EXPECT_TRUE(p.eta_partial || *p.eta > 0) << "screen over, " << p.rungs[2].pending << " pending on rung 3";
    }
    EXPECT_TRUE(screen_over_work_left);
    // In this fake a screening evaluation costs 0.01 s and there are 2 slots. After the first round only
    // the screen is measured: the time left is its remaining candidates' cost (rungs 2 and 3 unmeasured).
    EXPECT_EQ(first.rungs[1].jobs, 0u);
    EXPECT_NEAR(*first.eta, double(40 - first.trained) * 0.01 / 2, 1e-9);
    ASSERT_TRUE(o.progress.eta.has_value());
    EXPECT_EQ(*o.progress.eta, 0.0);
    EXPECT_FALSE(o.progress.eta_partial);
    EXPECT_TRUE(std::any_of(rec.lines.begin(), rec.lines.end(), [](const std::string& l) {
        return l.find("promoting the best 3 to fake-judge (3 seeds)") != std::string::npos;
    }));
}

TEST(SearchLoop, ResumesARunOfAnEarlierVersion) {
    // An earlier version saved only "strategy" and "driver" ("trained-v1 ids") and promoted at the end:
    // a run of it killed during the promotion resumes and promotes the same candidates.
    ScratchDir tmp;
    SearchSpec two = ladder_spec(16);
    two.rungs.resize(2);
    two.rungs[1].rule = {2, 2};
    FakeExecutor ex;
    run_once(tmp.file("ref.db"), two, ex);
    const auto reference = results(tmp.file("ref.db"));
    const std::string path = tmp.file("old.db");
    FakeExecutor crashing(false, 17);   // the 16 screened, one promotion job
    EXPECT_THROW(run_once(path, two, crashing), std::runtime_error);
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(db, "DELETE FROM strategy_state WHERE key = 'ladder'; "
                                   "DELETE FROM evaluations WHERE fidelity = 'steps=2'",
                               nullptr, nullptr, nullptr),
                  SQLITE_OK);
        sqlite3_close(db);
    }
    FakeExecutor rest;
    const Outcome o = run_once(path, two, rest);
    EXPECT_TRUE(o.resumed);
    EXPECT_EQ(o.progress.rungs[1].finished, 2u);
    EXPECT_EQ(difference(results(path), reference), "");
}

}  // namespace
}  // namespace actsearch::driver
