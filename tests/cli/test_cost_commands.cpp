// calibrate, harden, leaderboard --pareto and plot --pareto through the real binary.
#include <filesystem>
#include <string>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actsearch/cost/cost.hpp"
#include "actsearch/db/store.hpp"
#include "actsearch/grammar/parse.hpp"
#include "candidate_info.hpp"
#include "process.hpp"

namespace actsearch::cli {
namespace {

namespace fs = std::filesystem;
using test::run_binary;

using test::ScratchDir;

// A database with scored candidates of known score and (computed) cost.
void fill(const std::string& db, const std::vector<std::pair<const char*, double>>& scored) {
    db::Store store(db);
    db::RunInfo run{};
    run.strategy = "random";
    run.space = "s";
    run.task = "synthetic";
    run.config_json = "{}";
    run.version = "test";
    const auto r = store.create_run(run);
    for (const auto& [text, score] : scored) {
        const CandidateInfo c = describe(parse(text).expr());
        const auto id = record_candidate(store, c);
        db::EvaluationRecord e;
        e.candidate = id;
        e.run = r;
        e.task = "synthetic";
        e.fidelity = "steps=1";
        e.seed = 1;
        e.status = "ok";
        e.val_acc = score;
        store.insert_evaluation(e);
    }
}

TEST(CostCommands, LeaderboardParetoListsTheFrontCheapestFirst) {
    ScratchDir dir;
    const std::string db = (dir.path() / "p.db").string();
    // sigmoid(x) is beaten by relu (cheaper and better), so it is not on the front.
    fill(db, {{"relu(x)", 0.80}, {"x*sigmoid(x)", 0.85}, {"sigmoid(x)", 0.70}, {"mish(x)", 0.86}, {"x", 0.60}});
    const auto res = run_binary({"leaderboard", "--pareto", "--db", db, "--format", "json"}, dir.path());
    ASSERT_EQ(res.status, 0) << res.err;
    const auto j = nlohmann::json::parse(res.out);
    std::vector<std::string> names;
    for (const auto& row : j) names.push_back(row["expression"]);
    EXPECT_EQ(names, (std::vector<std::string>{"x", "relu(x)", "x*sigmoid(x)", "mish(x)"}));
    for (std::size_t i = 1; i < j.size(); ++i) EXPECT_LT(j[i - 1]["cost"].get<double>(), j[i]["cost"].get<double>());
    EXPECT_EQ(j[1]["name"], "relu");

    const auto plot = run_binary({"plot", "--pareto", "--db", db, "-o", (dir.path() / "f.svg").string()}, dir.path());
    ASSERT_EQ(plot.status, 0) << plot.err;
    const std::string svg = test::read_file(dir.path() / "f.svg");
    EXPECT_NE(svg.find("class=\"front\""), std::string::npos);
    EXPECT_NE(svg.find(">swish</text>"), std::string::npos);
    EXPECT_NE(svg.find(">mish</text>"), std::string::npos);
    // Candidates and --pareto do not mix.
    EXPECT_EQ(run_binary({"plot", "--pareto", "relu(x)", "--db", db}, dir.path()).status, 2);
}

TEST(CostCommands, HardenStoresTwinsLinkedToTheOrigin) {
    ScratchDir dir;
    const std::string db = (dir.path() / "h.db").string();
    const auto res = run_binary({"harden", "x*sigmoid(x)", "--knots", "2", "--format", "json", "--db", db}, dir.path());
    ASSERT_EQ(res.status, 0) << res.err;
    const auto j = nlohmann::json::parse(res.out);
    ASSERT_EQ(j["twins"].size(), 2u);
    EXPECT_EQ(j["twins"][0]["expr"], "x*hard_sigmoid(x)");
    // What search --harden-top would train: the cheaper substitution, not a 2-knot fit 1.18 away.
    EXPECT_TRUE(j["twins"][0]["harden_top"].get<bool>());
    EXPECT_FALSE(j["twins"][1]["harden_top"].get<bool>());
    db::Store store(db, true);
    for (const auto& t : j["twins"]) {
        const auto rec = store.candidate(t["id"].get<std::int64_t>());
        ASSERT_TRUE(rec);
        EXPECT_EQ(rec->hardened_from, j["id"].get<std::int64_t>());
        ASSERT_TRUE(rec->cost);
        EXPECT_NEAR(*rec->cost, t["cost"].get<double>(), 1e-9);
    }
    EXPECT_EQ(run_binary({"harden", "sigmoid(", "--no-store"}, dir.path()).status, 2);
    EXPECT_EQ(run_binary({"harden", "x", "--knots", "0", "--no-store"}, dir.path()).status, 2);
}

TEST(CostCommands, CalibrateStoresThisMachinesTable) {
    ScratchDir dir;
    const std::string db = (dir.path() / "c.db").string();
    const auto res = run_binary({"calibrate", "--db", db, "--rounds", "1", "--elements", "4096", "--min-ms", "0.2",
                                 "--format", "json"},
                                dir.path());
    ASSERT_EQ(res.status, 0) << res.err;
    const auto j = nlohmann::json::parse(res.out);
    EXPECT_NEAR(j["forward"]["(pass)"].get<double>() + j["forward"]["relu"].get<double>(), 1.0, 1e-9);
    db::Store store(db, true);
    EXPECT_FALSE(store.calibration(cost::cpu_name()).empty());
    // parse reports a cost; bad calibrate options are bad input.
    const auto p = run_binary({"parse", "--format", "json", "relu(x)"}, dir.path());
    ASSERT_EQ(p.status, 0) << p.err;
    EXPECT_NEAR(nlohmann::json::parse(p.out)["cost"].get<double>(), 1.0, 1e-6) << p.out;
    EXPECT_EQ(run_binary({"calibrate", "--format", "xml", "--no-store", "--rounds", "1"}, dir.path()).status, 2);
}

}  // namespace
}  // namespace actsearch::cli
