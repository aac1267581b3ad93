// search --max-cost / --cost-weight / --harden-top through the real binary, on the synthetic task.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actsearch/db/store.hpp"
#include "process.hpp"

namespace actsearch::test {
namespace {

namespace fs = std::filesystem;

struct TempDir {
    fs::path path = fs::temp_directory_path() / fmt::format("actsearch-cost-search-cli-{}", ::getpid());
    TempDir() { fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name) << text;
        return (path / name).string();
    }
};

TEST(CostSearchCli, MaxCostFromAConfigFileSkipsExpensiveCandidates) {
    TempDir dir;
    const std::string space = dir.write("tiny.space",
                                        "name: tiny\nunits: 1\nunary: x, tanh(x), relu(x), sin(x), x^2\n"
                                        "binary: x1 + x2, x1 * x2, max(x1, x2)\n");
    // The built-in cost table (a fresh database has no calibration): sin alone costs ~4.4 x relu,
    // tanh ~20 x; max, relu and x^2 together stay under 3.
    const std::string config = dir.write("c.toml", "max-cost = 3\n");
    const std::string db = (dir.path / "m.db").string();
    const auto res = run_binary({"search", "--space", space, "--strategy", "exhaustive", "--task", "synthetic",
                                 "--steps", "200", "--promote", "0", "--threads", "2", "--db", db, "--config", config},
                                dir.path);
    ASSERT_EQ(res.status, 0) << res.err;
    EXPECT_NE(res.out.find("over --max-cost (not trained)"), std::string::npos) << res.out;
    db::Store store(db, true);
    std::size_t over = 0, trained = 0;
    std::string skipped;
    for (const auto& e : store.evaluations_of_run(1)) {
        const auto c = store.candidate(e.candidate);
        ASSERT_TRUE(c);
        if (e.status == "over_budget") {
            ++over;
            skipped = c->expr;
            EXPECT_GT(c->cost.value_or(0), 3.0) << c->expr;
        } else if (e.status == "ok" || e.status == "diverged") {
            ++trained;
            EXPECT_EQ(c->expr.find("sin"), std::string::npos) << c->expr << " was trained";
        }
    }
    EXPECT_GT(over, 10u);
    EXPECT_GT(trained, 5u);
    const auto show = run_binary({"show", skipped, "--db", db}, dir.path);
    EXPECT_NE(show.out.find("skipped as over --max-cost by run 1"), std::string::npos) << show.out;
    const auto toml = run_binary({"runs", "--db", db, "--show", "1", "--format", "toml"}, dir.path);
    EXPECT_NE(toml.out.find("max-cost = 3"), std::string::npos) << toml.out;
}

std::size_t count_substr(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
    return n;
}

TEST(CostSearchCli, HardenTopEvaluatesTwinsBesideTheirOrigins) {
    TempDir dir;
    // Every candidate holds tanh or sigmoid: each has a cheaper substitution twin.
    const std::string space =
        dir.write("h.space", "name: h\nunits: 1\nunary: tanh(x), sigmoid(x)\nbinary: x1 * x2, x1 + x2\n");
    const std::string db = (dir.path / "h.db").string();
    const auto res = run_binary({"search", "--space", space, "--strategy", "exhaustive", "--task", "synthetic",
                                 "--steps", "200", "--seeds", "2", "--promote", "0", "--harden-top", "2",
                                 "--threads", "2", "--db", db},
                                dir.path);
    ASSERT_EQ(res.status, 0) << res.err;
    EXPECT_NE(res.out.find("hardened twins of the best 2 on synthetic"), std::string::npos) << res.out;
    // 6 distinct candidates screened with 2 seeds; the twins are counted apart: the best two are
    // tanh(x)*tanh(x) (a substitution twin and a hard_tanh fit within 0.1) and tanh(x) + tanh(x)
    // (a substitution twin only: none of its fits comes within 0.1).
    EXPECT_NE(res.out.find("12 trained this session (6 in the run)"), std::string::npos) << res.out;
    EXPECT_NE(res.out.find("; 6 evaluations of hardened twins"), std::string::npos) << res.out;
    db::Store store(db, true);
    db::LeaderboardQuery q;
    q.task = "synthetic";
    q.run = 1;
    q.top = 0;
    std::set<std::int64_t> origins;
    std::map<std::int64_t, double> searched;   // candidate -> mean, the twins left out
    std::string fidelity;
    std::size_t twins = 0;
    for (const auto& row : store.leaderboard(q)) {
        if (fidelity.empty()) fidelity = row.fidelity;
        EXPECT_EQ(row.fidelity, fidelity);   // the twins ran on the last rung's fidelity
        const auto c = store.candidate(row.candidate);
        if (c->hardened_from) {
            ++twins;
            origins.insert(*c->hardened_from);
            EXPECT_EQ(row.seeds, 2) << row.expr;   // with its seeds
        } else {
            searched[row.candidate] = row.mean;
        }
    }
    EXPECT_GE(twins, 2u);
    ASSERT_EQ(origins.size(), 2u);
    // The origins are the best two of the search.
    double worst_origin = 1, best_other = 0;
    for (const auto& [id, mean] : searched) {
        if (origins.count(id)) worst_origin = std::min(worst_origin, mean);
        else best_other = std::max(best_other, mean);
    }
    EXPECT_GE(worst_origin, best_other);

    // `leaderboard` lists the twins with the search's candidates, each marked with its origin.
    const auto lb = run_binary({"leaderboard", "--db", db, "--top", "0", "--format", "json"}, dir.path);
    ASSERT_EQ(lb.status, 0) << lb.err;
    std::size_t marked = 0;
    for (const auto& row : nlohmann::json::parse(lb.out)) {
        const auto c = store.candidate(row.at("id").get<std::int64_t>());
        ASSERT_TRUE(c);
        if (row.at("twin_of").is_null()) {
            EXPECT_FALSE(c->hardened_from) << row.dump();
        } else {
            ++marked;
            EXPECT_EQ(c->hardened_from, row.at("twin_of").get<std::int64_t>()) << row.dump();
        }
    }
    EXPECT_EQ(marked, twins);
    const auto table = run_binary({"leaderboard", "--db", db, "--top", "0"}, dir.path);
    EXPECT_NE(table.out.find(fmt::format("and {} hardened twins (run 1)", twins)), std::string::npos) << table.out;
    EXPECT_EQ(count_substr(table.out, "  (twin of "), twins) << table.out;
}

TEST(CostSearchCli, BadCostOptionsAreUsageErrors) {
    TempDir dir;
    const std::string db = (dir.path / "b.db").string();
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--cost-target", "2"}, "--cost-target needs --cost-weight"},
        {{"--cost-weight", "0.5"}, "--cost-weight must be a number between -10 and 0"},
        {{"--max-cost", "0"}, "--max-cost must be a number above 0"},
        {{"--harden-top", "-1"}, "--harden-top must be between 0 and 100"},
    };
    for (const auto& [extra, message] : cases) {
        std::vector<std::string> args{"search", "--task", "synthetic", "--budget", "1", "--db", db};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto res = run_binary(args, dir.path);
        EXPECT_EQ(res.status, 2) << extra[0];
        EXPECT_NE(res.err.find(message), std::string::npos) << res.err;
        EXPECT_EQ(std::count(res.err.begin(), res.err.end(), '\n'), 1) << res.err;
    }
}

}  // namespace
}  // namespace actsearch::test
