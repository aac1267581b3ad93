// The leaderboard of a laddered search: a view per rung (the candidates that finished it, on its task and
// fidelity), the highest rung by default, and rungs that share a task and fidelity kept apart.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "process.hpp"

namespace actsearch::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSpace =
    "name: tiny\n"
    "units: 1\n"
    "unary: x, tanh(x), relu(x), sin(x), x^2, sigmoid(x)\n"
    "binary: x1 + x2, x1 * x2, max(x1, x2)\n";

// Rungs 2 and 3 train the same task at the same fidelity, as the default ladder's do.
std::vector<std::string> ladder(const fs::path& dir, const fs::path& db) {
    const fs::path space = dir / "tiny.space";
    std::ofstream(space) << kSpace;
    return {"search", "--space", space.string(), "--strategy", "random", "--db", db.string(), "--threads", "2",
            "--seed", "3", "--budget", "24", "--quiet", "--rung", "synthetic:steps=150",
            "--rung", "synthetic:seeds=2,steps=60,keep=0.25", "--rung", "synthetic:seeds=3,steps=60,keep=2"};
}

nlohmann::json rows(const std::vector<std::string>& args, const fs::path& dir) {
    auto r = run_binary(args, dir);
    EXPECT_EQ(r.status, 0) << r.err;
    return nlohmann::json::parse(r.out);
}

std::set<std::string> exprs(const nlohmann::json& j) {
    std::set<std::string> out;
    for (const auto& row : j) out.insert(row.at("expression").get<std::string>());
    return out;
}

TEST(LeaderboardRungs, HighestRungByDefaultEachRungItsOwnCandidates) {
    ScratchDir dir;
    const fs::path db = dir.path() / "ladder.db";
    auto search = run_binary(ladder(dir.path(), db), dir.path());
    ASSERT_EQ(search.status, 0) << search.err;
    const std::string d = db.string();

    // The default view: rung 3, the best 2 of rung 2, each with its 3 seeds.
    const auto top = rows({"leaderboard", "--db", d, "--format", "json"}, dir.path());
    ASSERT_EQ(top.size(), 2u) << top.dump();
    for (const auto& row : top) {
        EXPECT_EQ(row.at("fidelity").get<std::string>().rfind("steps=60 ", 0), 0u) << row.dump();
        EXPECT_EQ(row.at("seeds").get<int>(), 3) << row.dump();
    }
    EXPECT_EQ(rows({"leaderboard", "--db", d, "--run", "1", "--rung", "3", "--format", "json"}, dir.path()), top);

    // Rung 2 shares rung 3's task and fidelity but lists every candidate it admitted: more rows,
    // rung 3's among them.
    const auto second = rows({"leaderboard", "--db", d, "--rung", "2", "--top", "0", "--format", "json"}, dir.path());
    EXPECT_GT(second.size(), top.size());
    for (const auto& e : exprs(top)) EXPECT_TRUE(exprs(second).count(e)) << e;
    const auto screen = rows({"leaderboard", "--db", d, "--rung", "1", "--top", "0", "--format", "json"}, dir.path());
    EXPECT_GT(screen.size(), second.size());
    for (const auto& row : screen) EXPECT_EQ(row.at("fidelity").get<std::string>().rfind("steps=150 ", 0), 0u);

    // --all: both fidelities in one table, as before rungs had views.
    std::set<std::string> fidelities;
    for (const auto& row : rows({"leaderboard", "--db", d, "--all", "--top", "0", "--format", "json"}, dir.path()))
        fidelities.insert(row.at("fidelity").get<std::string>().substr(0, 9));
    EXPECT_EQ(fidelities, (std::set<std::string>{"steps=150", "steps=60 "}));

    // The table names the rung it shows and how to see the others.
    auto table = run_binary({"leaderboard", "--db", d}, dir.path());
    ASSERT_EQ(table.status, 0) << table.err;
    EXPECT_NE(table.out.find("rung 3 of 3: synthetic, 3 seeds, best 2 of rung 2 (run 1); --rung 1..3"), std::string::npos)
        << table.out;
}

TEST(LeaderboardRungs, BadRungSelectionsExitTwoWithOneLine) {
    ScratchDir dir;
    const fs::path db = dir.path() / "ladder.db";
    ASSERT_EQ(run_binary(ladder(dir.path(), db), dir.path()).status, 0);
    const std::string d = db.string();
    for (const auto& [args, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"leaderboard", "--db", d, "--rung", "4"}, "--rung 4: run 1 has 3 rungs"},
             {{"leaderboard", "--db", d, "--rung", "2", "--task", "synthetic"}, "cannot be combined"},
             {{"leaderboard", "--db", d, "--rung", "0"}, "--rung"},
             {{"leaderboard", "--db", d, "--rung", "1", "--run", "9"}, "run 9 is not a search"}}) {
        auto r = run_binary(args, dir.path());
        EXPECT_EQ(r.status, 2) << args.back() << ": " << r.out << r.err;
        EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}

}  // namespace
}  // namespace actsearch::test
