// Cost in the search loop (issue 11): --max-cost skips candidates before training and stores them as
// over_budget, --cost-weight shapes what the strategy observes (MnasNet's reward), --harden-top
// evaluates cheap twins of the best; all with a fake scorer and a cost table of known values.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <variant>

#include "actsearch/db/store.hpp"
#include "actsearch/driver/search_loop.hpp"
#include "actsearch/grammar/print.hpp"
#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/space.hpp"
#include "actsearch/search/strategy.hpp"
#include "helpers.hpp"

namespace actsearch::driver {
namespace {

namespace fs = std::filesystem;

using test::kTinySpace;

Space make_space(const char* text) { return std::get<Space>(parse_space(text, "test")); }

struct TempDb {
    fs::path dir;
    TempDb() {
        static int n = 0;
        dir = fs::temp_directory_path() /
              ("actsearch-cost-search-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::create_directories(dir);
    }
    ~TempDb() { fs::remove_all(dir); }
    std::string file(const std::string& name) const { return (dir / name).string(); }
};

// Costs chosen so that a candidate is over 8 exactly when it holds sin (at least 0.5 + 10); every
// other candidate costs at most 0.5 + 3 + 3 + 0.4 = 6.9.
cost::CostTable test_table() {
    cost::CostTable t;
    t.cpu = "test";
    t.source = "test";
    t.forward.pass = 0.5;
    t.forward.ops = {{"relu", 0.5}, {"tanh", 3},   {"sin", 10}, {"square", 0.3}, {"pow", 0.3},
                     {"add", 0.3},  {"mul", 0.3},  {"max", 0.4}, {"hard_sigmoid", 0.6}, {"min", 0.4},
                     {"sigmoid", 2.5}, {"sub", 0.3}};
    t.backward = t.forward;
    return t;
}

engine::EvalResult fake_score(const Job& j) {
    engine::EvalResult r;
    r.seconds = 0.01;
    const std::size_t h = std::hash<std::string>{}(j.expr + "/" + std::to_string(j.task) + "/" + std::to_string(j.seed));
    r.status = engine::EvalStatus::Ok;
    r.val_acc = 0.5 + static_cast<double>(h % 10007) / 20014.0;
    return r;
}

// Runs jobs in order, records what it trained, and throws after `crash_after` results (a SIGKILL).
class RecordingExecutor final : public Executor {
public:
    explicit RecordingExecutor(int crash_after = -1) : crash_after_(crash_after) {}
    void run(const std::vector<Job>& jobs, const ResultFn& on_result, const StopFn& stop) override {
        for (const Job& j : jobs) {
            if (stop()) break;
            if (crash_after_ >= 0 && int(trained.size()) == crash_after_) throw std::runtime_error("killed");
            trained.push_back(j);
            on_result(j, fake_score(j));
        }
    }
    int slots() const override { return 2; }
    std::vector<Job> trained;

private:
    int crash_after_;
};

// A strategy that records every observation it is told, then passes it on.
class RecordingStrategy final : public search::Strategy {
public:
    explicit RecordingStrategy(std::unique_ptr<search::Strategy> inner) : inner_(std::move(inner)) {}
    const char* name() const noexcept override { return inner_->name(); }
    std::vector<search::Choice> propose(std::size_t n) override { return inner_->propose(n); }
    void observe(const search::Choice& c, double reward) override {
        observed.emplace_back(c, reward);
        inner_->observe(c, reward);
    }
    std::string save() const override { return inner_->save(); }
    void load(const std::string& blob) override { inner_->load(blob); }
    std::vector<std::pair<search::Choice, double>> observed;

private:
    std::unique_ptr<search::Strategy> inner_;
};

std::unique_ptr<RecordingStrategy> strategy(const Space& space, const std::string& name) {
    search::StrategyOptions o;
    o.seed = 7;
    o.population = 8;
    o.tournament = 3;
    return std::make_unique<RecordingStrategy>(search::make_strategy(name, space, o));
}

SearchSpec screen_spec(std::int64_t budget, int seeds = 1) {
    SearchSpec s;
    s.space = "tiny";
    s.strategy = "evolution";
    s.seed = 7;
    s.round = 8;
    s.budget = budget;
    s.rungs = {{{"fake", "steps=1", fake_score}, {seeds, 0}}};
    s.cost_table = test_table();
    return s;
}

// Every stored evaluation of the database: (expression, task, fidelity, seed) -> (status, score).
std::map<std::tuple<std::string, std::string, std::string, std::int64_t>, std::pair<std::string, double>> stored(
    const std::string& path) {
    db::Store store(path, true);
    std::map<std::tuple<std::string, std::string, std::string, std::int64_t>, std::pair<std::string, double>> out;
    for (const auto& run : store.list_runs())
        for (const auto& e : store.evaluations_of_run(run.id))
            out[{store.candidate(e.candidate)->expr, e.task, e.fidelity, e.seed}] = {e.status, e.val_acc};
    return out;
}

TEST(CostSearch, MnasRewardIsScoreTimesCostOverTargetToTheW) {
    EXPECT_NEAR(mnas_reward(0.9, 4, 2, -0.07), 0.9 * 0.9526380, 1e-7);   // 2^-0.07 = 0.9526380
    EXPECT_NEAR(mnas_reward(0.8, 1, 2, -0.5), 0.8 * 1.4142136, 1e-7);    // cheaper than the target gains
    EXPECT_EQ(mnas_reward(0.9, 4, 2, 0), 0.9);                           // no weight: the score
    EXPECT_EQ(mnas_reward(0.0, 4, 2, -0.07), 0.0);                       // invalid / diverged stay 0
    EXPECT_EQ(mnas_reward(0.9, 0, 2, -0.07), 0.9);                       // unknown cost: the score
}

TEST(CostSearch, RunKeyNamesTheCostOptionsOnlyWhenUsed) {
    SearchSpec s = screen_spec(10);
    const std::string plain = run_key(s);
    EXPECT_EQ(plain.find("cost"), std::string::npos);
    s.cost.max_cost = 4;
    EXPECT_NE(run_key(s).find("\"max_cost\": 4.0"), std::string::npos) << run_key(s);
    s.cost = {};
    s.cost.weight = -0.07;
    s.cost.target = 2;
    EXPECT_NE(run_key(s).find("\"cost_weight\": -0.07, \"cost_target\": 2.0"), std::string::npos) << run_key(s);
    s.cost = {};
    s.cost.harden_top = 3;
    EXPECT_NE(run_key(s).find("\"harden_top\": 3"), std::string::npos) << run_key(s);
}

TEST(CostSearch, OverBudgetCandidatesAreNeverTrainedAndObservedAsZero) {
    TempDb tmp;
    const Space space = make_space(kTinySpace);
    auto strat = strategy(space, "exhaustive");
    RecordingExecutor ex;
    SearchSpec spec = screen_spec(0);
    spec.strategy = "exhaustive";
    spec.cost.max_cost = 8;
    Outcome o;
    {
        db::Store store(tmp.file("c.db"));
        SearchLoop loop(space, *strat, store, ex, spec);
        o = loop.run();
    }
    EXPECT_FALSE(o.interrupted);
    ASSERT_FALSE(ex.trained.empty());
    for (const Job& j : ex.trained) EXPECT_EQ(j.expr.find("sin"), std::string::npos) << j.expr << " was trained";

    std::set<std::string> over;
    for (const auto& [choice, reward] : strat->observed) {
        const CandidateInfo info = describe(space.build(choice));
        if (!info.fingerprint.valid) continue;
        const bool has_sin = info.text.find("sin") != std::string::npos;
        EXPECT_EQ(cost::expr_cost(info.canonical, test_table()) > 8, has_sin) << info.text;
        if (!has_sin) continue;
        EXPECT_EQ(reward, 0.0) << info.text;
        over.insert(info.text);
    }
    EXPECT_GT(over.size(), 5u);
    EXPECT_GE(o.progress.over_budget, over.size());   // proposals; equal texts share a row

    // Stored as over_budget on their own rows, left out of the leaderboard and of the run's count.
    const auto rows = stored(tmp.file("c.db"));
    std::set<std::string> stored_over;
    std::int64_t evaluated = 0;
    for (const auto& [key, value] : rows) {
        if (value.first == "over_budget") stored_over.insert(std::get<0>(key));
        else ++evaluated;
    }
    EXPECT_EQ(stored_over, over);
    db::Store store(tmp.file("c.db"), true);
    db::LeaderboardQuery q;
    q.top = 0;
    q.min_seeds = 0;
    for (const auto& row : store.leaderboard(q)) EXPECT_EQ(row.expr.find("sin"), std::string::npos) << row.expr;
    EXPECT_EQ(store.list_runs().at(0).evaluations, evaluated);
}

TEST(CostSearch, AKilledRunResumesWithTheSameOverBudgetDecisions) {
    TempDb tmp;
    const Space space = make_space(kTinySpace);
    SearchSpec spec = screen_spec(24);
    spec.cost.max_cost = 8;
    auto run = [&](const std::string& path, RecordingExecutor& ex) {
        auto strat = strategy(space, "evolution");
        db::Store store(path);
        SearchLoop loop(space, *strat, store, ex, spec);
        return loop.run();
    };
    RecordingExecutor plain;
    run(tmp.file("ref.db"), plain);
    const auto reference = stored(tmp.file("ref.db"));
    ASSERT_TRUE(std::any_of(reference.begin(), reference.end(),
                            [](const auto& kv) { return kv.second.first == "over_budget"; }));
    for (int crash_after : {2, 11}) {
        const std::string path = tmp.file("crash" + std::to_string(crash_after) + ".db");
        RecordingExecutor crashing(crash_after);
        EXPECT_THROW(run(path, crashing), std::runtime_error);
        RecordingExecutor rest;
        const Outcome o = run(path, rest);
        EXPECT_TRUE(o.resumed);
        for (const auto* ex : {&crashing, &rest})
            for (const Job& j : ex->trained) EXPECT_EQ(j.expr.find("sin"), std::string::npos) << j.expr;
        EXPECT_TRUE(stored(path) == reference) << "crash after " << crash_after;
    }
}

TEST(CostSearch, TheStrategySeesMnasNetsRewardAndTheDatabaseTheScore) {
    TempDb tmp;
    const Space space = make_space("name: two\nunits: 1\nunary: tanh(x), relu(x)\nbinary: x1 * x2\n");
    auto strat = strategy(space, "exhaustive");
    RecordingExecutor ex;
    SearchSpec spec = screen_spec(0);
    spec.strategy = "exhaustive";
    spec.cost.weight = -0.5;
    spec.cost.target = 2;
    db::Store store(tmp.file("w.db"));
    SearchLoop loop(space, *strat, store, ex, spec);
    loop.run();
    bool seen = false;
    for (const auto& [choice, reward] : strat->observed) {
        const CandidateInfo info = describe(space.build(choice));
        if (info.text.find("relu") == std::string::npos || info.text.find("tanh") == std::string::npos) continue;
        // relu(x)*tanh(x): pass 0.5 + relu 0.5 + tanh 3 + mul 0.3 = 4.3 x relu; (4.3 / 2)^-0.5 = 0.6819943.
        ASSERT_NEAR(cost::expr_cost(info.canonical, test_table()), 4.3, 1e-12) << info.text;
        const auto row = find_candidate(store, info);
        ASSERT_TRUE(row);
        const auto ev = store.find_evaluation(row->id, "fake", "steps=1", 7);
        ASSERT_TRUE(ev);
        const double score = fake_score({0, store.candidate(row->representative.value_or(row->id))->expr, 7, 0}).val_acc;
        EXPECT_DOUBLE_EQ(ev->val_acc, score);   // the raw score is stored
        EXPECT_NEAR(reward, score * 0.6819943, 1e-7);
        seen = true;
    }
    EXPECT_TRUE(seen);
}

TEST(CostSearch, PickTwinsKeepsTheCheapSubstitutionAndTheCheapestCloseFit) {
    auto twin = [](const char* method, double err, double cost) {
        cost::Twin t;
        t.method = method;
        t.max_error = err;
        t.cost = cost;
        return t;
    };
    const std::vector<cost::Twin> all{twin("substitution: sigmoid -> hard_sigmoid", 0.14, 1.7),
                                      twin("piecewise-linear, 2 knots", 0.3, 3.0),
                                      twin("piecewise-linear, 3 knots", 0.09, 3.5),
                                      twin("piecewise-linear, 4 knots", 0.05, 4.0),
                                      twin("piecewise-linear, 5 knots", 0.01, 9.0),
                                      twin("piecewise-linear, 1 hard_tanh", 0.2, 1.2),
                                      twin("piecewise-linear, 2 hard_tanh", 0.08, 3.4)};
    auto picked = pick_twins(all, 5.0);
    ASSERT_EQ(picked.size(), 2u);
    EXPECT_EQ(picked[0].method, all[0].method);
    EXPECT_EQ(picked[1].method, all[6].method);   // the cheapest within 0.1
    picked = pick_twins(all, 3.45);               // the 2-hard_tanh fit is 3.4: the cheapest within 0.1
    ASSERT_EQ(picked.size(), 2u);
    EXPECT_EQ(picked[1].method, all[6].method);
    picked = pick_twins(all, 3.2);                // the cheaper fits are 0.2 and 0.3 away: not twins
    ASSERT_EQ(picked.size(), 1u);
    EXPECT_EQ(picked[0].method, all[0].method);
    EXPECT_TRUE(pick_twins(all, 1.0).empty());    // nothing cheaper than the origin
}

// The check through what search --harden-top trains: swish's twins are hard-swish and a fit
// within 0.1 max error on [-6, 6] at <= 2x relu's cost under the built-in table.
TEST(CostSearch, SwishsPickedFitIsWithinATenthAtTwiceRelusCost) {
    const Expr swish = canonicalize(parse("x*sigmoid(x)").expr());
    const double swish_cost = cost::expr_cost(swish);
    const auto picked = pick_twins(cost::harden(swish), swish_cost);
    ASSERT_EQ(picked.size(), 2u);
    EXPECT_NE(picked[0].method.find("hard_sigmoid"), std::string::npos);
    EXPECT_LE(picked[1].max_error, kTwinMaxError) << picked[1].text;
    EXPECT_LE(picked[1].cost, 2.0 * cost::expr_cost(canonicalize(parse("relu(x)").expr()))) << picked[1].text;
}

TEST(CostSearch, HardenTopEvaluatesTwinsOfTheBestOnTheLastRungAndResumes) {
    TempDb tmp;
    // Every candidate holds tanh or sigmoid, so each has a cheaper substitution twin.
    const Space space = make_space("name: t\nunits: 1\nunary: tanh(x), sigmoid(x)\nbinary: x1 * x2, x1 + x2, max(x1, x2)\n");
    SearchSpec spec = screen_spec(0);
    spec.strategy = "exhaustive";
    spec.rungs.push_back({{"fake-judge", "steps=2", fake_score}, {2, 2}});
    spec.cost.harden_top = 2;
    auto run = [&](const std::string& path, RecordingExecutor& ex) {
        auto strat = strategy(space, "exhaustive");
        db::Store store(path);
        SearchLoop loop(space, *strat, store, ex, spec);
        return loop.run();
    };
    RecordingExecutor plain;
    const Outcome o = run(tmp.file("h.db"), plain);
    ASSERT_FALSE(o.twins.empty());
    db::Store store(tmp.file("h.db"), true);
    std::set<std::int64_t> origins;
    for (const HardenedTwin& t : o.twins) {
        origins.insert(t.origin);
        EXPECT_EQ(store.candidate(t.twin)->hardened_from, t.origin);
        EXPECT_LT(t.cost, t.origin_cost);
        for (std::int64_t seed : {7, 8}) {   // the last rung's two seeds
            const auto ev = store.find_evaluation(t.twin, "fake-judge", "steps=2", seed);
            ASSERT_TRUE(ev) << store.candidate(t.twin)->expr;
            EXPECT_EQ(ev->status, "ok");
        }
    }
    EXPECT_EQ(origins.size(), 2u);
    // The origins are the last rung's best two.
    db::LeaderboardQuery q;
    q.task = "fake-judge";
    q.min_seeds = 2;
    q.top = 0;
    std::vector<std::int64_t> judged;
    for (const auto& row : store.leaderboard(q))
        if (!store.candidate(row.candidate)->hardened_from) judged.push_back(row.candidate);
    ASSERT_EQ(judged.size(), 2u);
    EXPECT_EQ(origins, std::set<std::int64_t>(judged.begin(), judged.end()));

    // Killed during the hardening: the same command finishes it with the same results.
    const auto reference = stored(tmp.file("h.db"));
    const std::string path = tmp.file("k.db");
    RecordingExecutor crashing(static_cast<int>(plain.trained.size()) - 1);
    EXPECT_THROW(run(path, crashing), std::runtime_error);
    RecordingExecutor rest;
    const Outcome resumed = run(path, rest);
    EXPECT_TRUE(resumed.resumed);
    EXPECT_EQ(rest.trained.size(), 1u);
    EXPECT_EQ(resumed.twins.size(), o.twins.size());
    EXPECT_TRUE(stored(path) == reference);
}

}  // namespace
}  // namespace actsearch::driver
