// `--task FILE.task` end to end: a search on a user's task file over each data format, results kept
// when the file is renamed, and bad task files refused with exit 2 and one line.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "../engine/data_writers.hpp"
#include "actsearch/db/store.hpp"
#include "process.hpp"

namespace actsearch::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kRecipe = "[recipe]\nsteps = 30\nwidth = 8\ndepth = 1\nlr = 0.1\nbatch = 16\n";

fs::path tiny_space(const fs::path& dir) {
    const fs::path p = dir / "tiny.space";
    std::ofstream(p) << "name: tiny\nunits: 1\nunary: x, tanh(x), relu(x)\nbinary: x1 + x2, max(x1, x2)\n";
    return p;
}

fs::path write_task(const fs::path& dir, const std::string& format, const std::string& network = "kind = \"mlp\"") {
    test_data::Examples shape;
    shape.height = shape.width = 4;
    const std::string text = "name = \"user\"\n[network]\n" + network + "\n" +
                             test_data::write_format(format, dir, shape) + kRecipe;
    const fs::path p = dir / (format + ".task");
    std::ofstream(p) << text;
    return p;
}

std::vector<db::EvaluationRecord> evaluations(const fs::path& db) {
    db::Store store(db.string(), /*read_only=*/true);
    std::vector<db::EvaluationRecord> all;
    for (const auto& run : store.list_runs())
        for (const auto& e : store.evaluations_of_run(run.id)) all.push_back(e);
    return all;
}

std::vector<std::string> search(const fs::path& space, const fs::path& task, const fs::path& db) {
    return {"search", "--space", space.string(), "--strategy", "random", "--task", task.string(), "--budget", "4",
            "--db", db.string(), "--threads", "2", "--seed", "3"};
}

}  // namespace

TEST(TaskFiles, SearchRunsOnAUserTaskFileInEveryFormat) {
    for (const std::string& format : test_data::formats()) {
        ScratchDir dir;
        const fs::path db = dir.path() / "results.db";
        const fs::path task = write_task(dir.path(), format,
                                         format == "cifar" ? "kind = \"cnn\"\nlayers = [1, \"pool\", 2]" : "kind = \"mlp\"");
        const auto r = run_binary(search(tiny_space(dir.path()), task, db), dir.path(), 120s);
        ASSERT_EQ(r.status, 0) << format << ": " << r.err;
        const auto all = evaluations(db);
        ASSERT_EQ(all.size(), 4u) << format;
        std::set<std::string> tasks;
        for (const auto& e : all) {
            tasks.insert(e.task);
            EXPECT_EQ(e.fidelity, "steps=30 width=8 depth=1 lr=0.1 batch=16") << format;
            if (e.status == "ok") {
                EXPECT_GT(e.val_acc, 0.0) << format;
            }
        }
        ASSERT_EQ(tasks.size(), 1u) << format;
        EXPECT_TRUE(std::regex_match(*tasks.begin(), std::regex("user@[0-9a-f]{12}"))) << *tasks.begin();
        EXPECT_GE(std::count_if(all.begin(), all.end(), [](const auto& e) { return e.status == "ok"; }), 3) << format;
    }
}

// Renamed and moved, with its data, the file is the same task: a repeated search reuses every result.
TEST(TaskFiles, RenamedTaskFileKeepsItsResults) {
    ScratchDir dir;
    const fs::path db = dir.path() / "results.db";
    const fs::path space = tiny_space(dir.path());
    fs::create_directories(dir.path() / "a");
    const fs::path task = write_task(dir.path() / "a", "npy-f4");
    ASSERT_EQ(run_binary(search(space, task, db), dir.path(), 120s).status, 0);
    const std::size_t first = evaluations(db).size();
    fs::rename(dir.path() / "a", dir.path() / "b");
    const auto r = run_binary(search(space, dir.path() / "b" / "renamed.task", db), dir.path(), 120s);
    EXPECT_NE(r.status, 0) << "b/renamed.task does not exist yet";
    fs::rename(dir.path() / "b" / "npy-f4.task", dir.path() / "b" / "renamed.task");
    const auto again = run_binary(search(space, dir.path() / "b" / "renamed.task", db), dir.path(), 120s);
    ASSERT_EQ(again.status, 0) << again.err;
    const auto all = evaluations(db);
    std::set<std::string> tasks;
    for (const auto& e : all) tasks.insert(e.task);
    EXPECT_EQ(tasks.size(), 1u) << "the renamed file stored under another task";
    EXPECT_EQ(all.size(), first) << "the renamed file's search trained again instead of reusing";
}

// Every kind of bad task file: exit 2 and one line, from eval, search and a --rung.
TEST(TaskFiles, BadTaskFilesExitTwoWithOneLine) {
    ScratchDir dir;
    const fs::path good = write_task(dir.path(), "npy-u1");
    std::ifstream in(good);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    struct Case {
        std::string from, to, message;
    };
    const std::vector<Case> cases = {
        {"kind = \"mlp\"", "kind = \"mlp\"\nhidden = 3", "unknown key 'hidden'"},
        {"x.npy", "absent.npy", "absent.npy' not found"},
        {"shape = \\[1, 4, 4\\]", "shape = [1, 4, 5]", "holds an array of shape (120, 1, 4, 4)"},
        {"classes = 3", "classes = 2", "label 2 at index 2 is not in [0, 2)"},
        {"rows = \\[90, 120\\]", "rows = [90, 90]", "empty split"},
        {"rows = \\[90, 120\\]", "rows = [100, 200]", "holds 120 images"},
        {"width = 8", "width = 100000", "'width' must be between 1 and 1024"},
        {"steps = 30", "steps = 30 30", "bad.task:"},
    };
    const fs::path space = tiny_space(dir.path());
    for (const Case& c : cases) {
        const fs::path bad = dir.path() / "bad.task";
        std::ofstream(bad) << std::regex_replace(text, std::regex(c.from), c.to);
        for (const auto& args : std::vector<std::vector<std::string>>{
                 {"eval", "relu(x)", "--task", bad.string(), "--no-db"},
                 {"search", "--space", space.string(), "--task", bad.string(), "--budget", "2", "--db",
                  (dir.path() / "x.db").string()},
                 // (a search with --rung opens its database before it reads the rungs' tasks, file or not,
                 // and removes it again when it refuses them)
                 {"search", "--space", space.string(), "--rung", "synthetic", "--rung", bad.string() + ":seeds=2",
                  "--budget", "2", "--db", (dir.path() / "rungs.db").string()}}) {
            const auto r = run_binary(args, dir.path(), 60s);
            EXPECT_EQ(r.status, 2) << c.to << " " << args[0] << ": " << r.err;
            EXPECT_NE(r.err.find(c.message), std::string::npos) << c.to << ": " << r.err;
            EXPECT_NE(r.err.find("bad.task"), std::string::npos) << r.err;
            EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
            EXPECT_EQ(r.out, "");
        }
    }
    EXPECT_FALSE(fs::exists(dir.path() / "x.db")) << "a refused search must not create the database";
    EXPECT_FALSE(fs::exists(dir.path() / "rungs.db")) << "a refused search must not leave a database it created";
    // A database that was there is kept, runs or not.
    std::ofstream(dir.path() / "bad.task") << "name = 3\n";
    ASSERT_EQ(run_binary({"search", "--space", space.string(), "--task", "synthetic", "--budget", "1", "--db",
                          (dir.path() / "kept.db").string(), "--quiet"},
                         dir.path(), 60s).status, 0);
    const auto r = run_binary({"search", "--space", space.string(), "--rung", "synthetic", "--rung",
                               (dir.path() / "bad.task").string(), "--budget", "2", "--db", (dir.path() / "kept.db").string()},
                              dir.path(), 60s);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_TRUE(fs::exists(dir.path() / "kept.db"));
}

}  // namespace actsearch::test
