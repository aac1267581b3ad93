// Configuration files: `search --config FILE` means exactly what the same options on the command line
// mean, and `runs --show RUN --format toml` gives back a file that repeats the run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "actsearch/db/store.hpp"
#include "process.hpp"

namespace actsearch::test {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kOptions{"--strategy", "evolution", "--task", "synthetic", "--steps", "80",
                                        "--lr", "0.1", "--budget", "10", "--seeds", "2", "--seed", "5",
                                        "--round", "4", "--promote", "2", "--promote-task", "synthetic",
                                        "--promote-steps", "120", "--promote-seeds", "1"};

fs::path tiny_space(const fs::path& dir) {
    const fs::path p = dir / "tiny.space";
    std::ofstream(p) << "name: tiny\nunits: 1\nunary: x, tanh(x), relu(x), sin(x), x^2\n"
                        "binary: x1 + x2, x1 * x2, max(x1, x2)\n";
    return p;
}

// Every evaluation as (expr, task, fidelity, seed) -> (status, val_acc): what a repeat must reproduce.
std::map<std::string, std::string> results(const fs::path& db) {
    db::Store store(db.string(), /*read_only=*/true);
    std::map<std::string, std::string> out;
    for (const auto& run : store.list_runs())
        for (const auto& e : store.evaluations_of_run(run.id)) {
            const auto c = store.candidate(e.candidate);
            out[c->expr + " | " + e.task + " | " + e.fidelity + " | " + std::to_string(e.seed)] =
                e.status + " " + std::to_string(e.val_acc);
        }
    return out;
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

TEST(ConfigFile, ReproducesTheCommandLine) {
    ScratchDir dir;
    const fs::path space = tiny_space(dir.path());
    const fs::path db1 = dir.path() / "cli.db", db2 = dir.path() / "file.db", db3 = dir.path() / "shown.db";
    const std::vector<std::string> common{"--threads", "2", "--quiet"};
    auto r = run_binary(with(with({"search", "--space", space.string(), "--db", db1.string()}, kOptions), common),
                        dir.path());
    ASSERT_EQ(r.status, 0) << r.err;

    // The same options written by hand in a file.
    const fs::path toml = dir.path() / "search.toml";
    std::ofstream(toml) << "# the command line above\nspace = \"" << space.string() << "\"\n"
                        << "strategy = \"evolution\"\ntask = \"synthetic\"\nsteps = 80\nlr = 0.1\nbudget = 10\n"
                           "seeds = 2\nseed = 5\nround = 4\npromote = 2\npromote-task = \"synthetic\"\n"
                           "promote-steps = 120\npromote-seeds = 1\n";
    r = run_binary(with({"search", "--config", toml.string(), "--db", db2.string()}, common), dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    const auto expected = results(db1);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(results(db2), expected);
    db::Store s1(db1.string(), true), s2(db2.string(), true);
    EXPECT_EQ(s1.run(1)->config_json, s2.run(1)->config_json);   // the same run key

    // The same file against the first database: the same run is found again, nothing new is trained.
    r = run_binary(with({"search", "--config", toml.string(), "--db", db1.string()}, {"--threads", "2"}), dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("resuming run 1"), std::string::npos) << r.err;
    EXPECT_EQ(db::Store(db1.string(), true).list_runs().size(), 1u);
    EXPECT_EQ(results(db1), expected);

    // The run's own configuration, printed back, repeats it in a fresh database.
    r = run_binary({"runs", "--db", db1.string(), "--show", "1", "--format", "toml"}, dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char* line : {"steps = 80", "lr = 0.1", "budget = 10", "promote = 2", "promote-steps = 120",
                             "width = ", "batch = "})   // resolved: the task's default width and batch too
        EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
    EXPECT_EQ(r.out.find("threads"), std::string::npos);
    const fs::path shown = dir.path() / "shown.toml";
    std::ofstream(shown) << r.out;
    r = run_binary(with({"search", "--config", shown.string(), "--db", db3.string()}, common), dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(results(db3), expected);
    EXPECT_EQ(db::Store(db3.string(), true).run(1)->config_json, s1.run(1)->config_json);
}

TEST(ConfigFile, CommandLineWinsAndBadFilesAreExitTwo) {
    ScratchDir dir;
    const fs::path space = tiny_space(dir.path());
    const fs::path toml = dir.path() / "search.toml";
    std::ofstream(toml) << "space = \"" << space.string() << "\"\nstrategy = \"random\"\ntask = \"synthetic\"\n"
                        << "steps = 40\nbudget = 3\npromote = 0\n";
    const fs::path db = dir.path() / "a.db";
    auto r = run_binary({"search", "--config", toml.string(), "--budget", "5", "--strategy", "exhaustive", "--db",
                         db.string(), "--quiet"},
                        dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    {
        db::Store store(db.string(), true);
        ASSERT_EQ(store.list_runs().size(), 1u);
        EXPECT_EQ(store.list_runs()[0].strategy, "exhaustive");
        EXPECT_EQ(store.list_runs()[0].evaluations, 5);   // budget 5 from the command line, not 3
    }
    r = run_binary({"search", "--help"}, dir.path());
    EXPECT_NE(r.out.find("--config"), std::string::npos);
    EXPECT_NE(r.out.find("budget = 400"), std::string::npos);   // the example

    std::ofstream(dir.path() / "unknown.toml") << "no-such-option = 3\n";
    std::ofstream(dir.path() / "badvalue.toml") << "strategy = \"annealing\"\n";
    for (const char* file : {"unknown.toml", "badvalue.toml", "missing.toml"}) {
        r = run_binary({"search", "--config", (dir.path() / file).string(), "--db", db.string()}, dir.path());
        EXPECT_EQ(r.status, 2) << file << ": " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
    r = run_binary({"runs", "--db", db.string(), "--show", "7", "--format", "toml"}, dir.path());
    EXPECT_EQ(r.status, 2) << r.err;
}

}  // namespace
}  // namespace actsearch::test
