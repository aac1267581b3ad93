// actsearch fidelity end to end on the synthetic task: the built-in reference, a user's CSV, another
// task in the database as the reference, reuse of stored evaluations, and malformed references.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actsearch/stats/rank.hpp"
#include "process.hpp"

namespace actsearch::test {
namespace {

namespace fs = std::filesystem;

nlohmann::json run_json(const std::vector<std::string>& args, const fs::path& dir) {
    const ProcessResult r = run_binary(args, dir);
    EXPECT_EQ(r.status, 0) << r.err;
    return nlohmann::json::parse(r.out);
}

TEST(Fidelity, BuiltInReferenceStoredAndReused) {
    ScratchDir dir;
    const std::string db = (dir.path() / "f.db").string();
    const std::vector<std::string> args{"fidelity", "--task", "synthetic", "--steps", "60", "--seeds", "2",
                                        "--db", db, "--format", "json", "--threads", "2"};
    const nlohmann::json first = run_json(args, dir.path());
    ASSERT_EQ(first["functions"].size(), 16u);   // the Swish paper's 16 functions
    EXPECT_EQ(first["trained"], 32);
    EXPECT_EQ(first["reused"], 0);
    // The summary follows from the per-function scores.
    std::vector<double> ref, score;
    int diverged = 0;
    for (const auto& f : first["functions"]) {
        ref.push_back(f["reference"]);
        score.push_back(f["score"]);
        diverged += f["diverged"].get<int>();
        ASSERT_EQ(f["seeds"].size(), 2u);
    }
    EXPECT_NEAR(first["spearman"].get<double>(), stats::spearman(ref, score), 1e-12);
    EXPECT_NEAR(first["diverged_share"].get<double>(), diverged / 32.0, 1e-12);
    EXPECT_LE(first["spearman_ci95"][0].get<double>(), first["spearman"].get<double>());
    EXPECT_GE(first["spearman_ci95"][1].get<double>(), first["spearman"].get<double>());
    EXPECT_NE(first["reference"].get<std::string>().find("Swish paper"), std::string::npos);

    // Run again: every evaluation comes from the database, and the report is the same.
    const nlohmann::json second = run_json(args, dir.path());
    EXPECT_EQ(second["trained"], 0);
    EXPECT_EQ(second["reused"], 32);
    EXPECT_EQ(second["spearman"], first["spearman"]);
    EXPECT_EQ(second["functions"], first["functions"]);
    EXPECT_TRUE(second["cpu_seconds_per_eval"].is_null());   // nothing trained now

    // The table names the summary figures.
    const ProcessResult table = run_binary({"fidelity", "--task", "synthetic", "--steps", "60", "--seeds", "2", "--db",
                                            db}, dir.path());
    ASSERT_EQ(table.status, 0) << table.err;
    EXPECT_NE(table.out.find("Spearman"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("median per-seed std"), std::string::npos) << table.out;
}

// Every trained evaluation records the engine that trained it; a ranking whose evaluations come from
// several engines (an older database trained by another engine revision) says so beside the table.
TEST(Fidelity, EnginesBehindTheEvaluationsAreRecordedAndAMixIsSaid) {
    ScratchDir dir;
    const std::string db = (dir.path() / "f.db").string();
    const std::vector<std::string> args{"fidelity", "--task", "synthetic", "--steps", "30", "--seeds", "2",
                                        "--db", db, "--format", "json", "--threads", "2"};
    const nlohmann::json first = run_json(args, dir.path());
    int trained = 0;   // ok or diverged
    for (const auto& f : first["functions"]) trained += f["ok"].get<int>() + f["diverged"].get<int>();
    ASSERT_GT(trained, 5);
    ASSERT_EQ(first["engines"].size(), 1u) << first["engines"];
    const std::string engine = first["engines"][0]["engine"];
    EXPECT_EQ(engine.rfind("engine ", 0), 0u) << engine;
    EXPECT_NE(engine.find("oneDNN "), std::string::npos) << engine;
    EXPECT_EQ(first["engines"][0]["evaluations"], trained);
    // Reused from the store, the same engine.
    EXPECT_EQ(run_json(args, dir.path())["engines"], first["engines"]);

    // One engine: no note, in the fidelity table nor in the leaderboard.
    const std::vector<std::string> table_args{"fidelity", "--task", "synthetic", "--steps", "30", "--seeds", "2",
                                              "--db", db};
    for (const ProcessResult& r : {run_binary(table_args, dir.path()), run_binary({"leaderboard", "--db", db}, dir.path())}) {
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_NE(r.out.find("relu(x)"), std::string::npos) << r.out;
        EXPECT_EQ(r.out.find("note:"), std::string::npos) << r.out;
    }

    // show lists each evaluation's engine.
    const ProcessResult show = run_binary({"show", "relu(x)", "--db", db}, dir.path());
    ASSERT_EQ(show.status, 0) << show.err;
    EXPECT_NE(show.out.find(engine), std::string::npos) << show.out;

    // Five rows as an older version left them (no engine recorded), three from another engine revision.
    ASSERT_EQ(std::system(("sqlite3 '" + db + "' \"UPDATE evaluations SET engine = NULL WHERE id IN (SELECT id FROM "
                           "evaluations WHERE status = 'ok' ORDER BY id LIMIT 5); UPDATE evaluations SET engine = "
                           "'engine 2, oneDNN 2.6.3' WHERE id IN (SELECT id FROM evaluations WHERE status = 'ok' AND "
                           "engine IS NOT NULL ORDER BY id LIMIT 3)\"")
                              .c_str()),
              0);
    const nlohmann::json mixed = run_json(args, dir.path());
    ASSERT_EQ(mixed["engines"].size(), 3u) << mixed["engines"];
    EXPECT_EQ(mixed["engines"][0]["engine"], engine);
    EXPECT_EQ(mixed["engines"][0]["evaluations"], trained - 8);
    EXPECT_EQ(mixed["engines"][1]["evaluations"], 5);
    EXPECT_TRUE(mixed["engines"][1]["engine"].is_null());
    EXPECT_EQ(mixed["engines"][2]["engine"], "engine 2, oneDNN 2.6.3");
    EXPECT_EQ(mixed["engines"][2]["evaluations"], 3);
    EXPECT_EQ(mixed["spearman"], first["spearman"]);   // the scores themselves are untouched

    const std::string expected = "note: these evaluations were trained by 3 engines (" + engine + ": " +
                                 std::to_string(trained - 8) + "; not recorded: 5; engine 2, oneDNN 2.6.3: 3)";
    const ProcessResult table = run_binary(table_args, dir.path());
    ASSERT_EQ(table.status, 0) << table.err;
    EXPECT_NE(table.out.find(expected), std::string::npos) << table.out;
    const ProcessResult board = run_binary({"leaderboard", "--db", db}, dir.path());
    ASSERT_EQ(board.status, 0) << board.err;
    EXPECT_NE(board.out.find(expected), std::string::npos) << board.out;
    // Machine-readable output stays parseable: the note goes to stderr.
    for (const std::vector<std::string>& args_json :
         {std::vector<std::string>{"leaderboard", "--db", db, "--format", "json"},
          std::vector<std::string>{"fidelity", "--task", "synthetic", "--steps", "30", "--seeds", "2", "--db", db,
                                   "--format", "json"}}) {
        const ProcessResult r = run_binary(args_json, dir.path());
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_NO_THROW((void)nlohmann::json::parse(r.out)) << r.out;
        EXPECT_NE(r.err.find(expected), std::string::npos) << args_json[0] << ": " << r.err;
    }
}

TEST(Fidelity, UserCsvAndAnotherTaskAsReference) {
    ScratchDir dir;
    const fs::path csv = dir.path() / "mine.csv";
    std::ofstream(csv) << "# my own results\n"
                          "expr,score,name\n"
                          "relu(x),0.9,ReLU\n"
                          "\"max(x, tanh(x))\",0.8,quoted\n"
                          "max(x, sigmoid(x)),0.7,unquoted commas inside parentheses\n"
                          "x,0.5,identity\n";
    const std::string db = (dir.path() / "f.db").string();
    const nlohmann::json expensive = run_json({"fidelity", "--task", "synthetic", "--steps", "120", "--seeds", "2",
                                               "--reference", csv.string(), "--db", db, "--format", "json"},
                                              dir.path());
    ASSERT_EQ(expensive["functions"].size(), 4u);
    EXPECT_EQ(expensive["functions"][1]["expr"], "max(x, tanh(x))");
    EXPECT_EQ(expensive["functions"][2]["reference"], 0.7);

    // The 120-step results become the reference of a 30-step proxy.
    const nlohmann::json cheap =
        run_json({"fidelity", "--task", "synthetic", "--steps", "30", "--seeds", "2", "--reference", csv.string(),
                  "--reference-task", "synthetic", "--reference-fidelity", expensive["fidelity"], "--db", db,
                  "--format", "json"},
                 dir.path());
    ASSERT_EQ(cheap["functions"].size(), 4u);
    for (std::size_t i = 0; i < 4; ++i)
        EXPECT_NEAR(cheap["functions"][i]["reference"].get<double>(), expensive["functions"][i]["score"].get<double>(),
                    1e-12);
    EXPECT_NE(cheap["reference"].get<std::string>().find("task synthetic"), std::string::npos);

    // Two fidelities of the reference task and none chosen: ambiguous, bad input.
    const ProcessResult ambiguous = run_binary({"fidelity", "--task", "synthetic", "--steps", "30", "--reference",
                                                csv.string(), "--reference-task", "synthetic", "--db", db},
                                               dir.path());
    EXPECT_EQ(ambiguous.status, 2);
    EXPECT_NE(ambiguous.err.find("--reference-fidelity"), std::string::npos) << ambiguous.err;
}

// The harness trains through the search's executor: every seed's score is the one `eval` gives the same
// function, with one thread or several.
TEST(Fidelity, ScoresAreThoseOfEvalAtAnyThreadCount) {
    ScratchDir dir;
    const fs::path csv = dir.path() / "fns.csv";
    const std::vector<std::string> functions{"x * sigmoid(beta * x)", "max(x, 0.5 * tanh(x))", "x / (1 + exp(-x))",
                                             "relu(x) - 0.25"};
    std::ofstream out(csv);
    out << "expr,score\n";
    for (std::size_t i = 0; i < functions.size(); ++i) out << '"' << functions[i] << "\"," << i << "\n";
    out.close();
    const std::vector<std::string> common{"--task", "synthetic", "--steps", "60", "--seeds", "2", "--seed", "5",
                                          "--format", "json"};
    auto fidelity = [&](const std::string& threads) {
        std::vector<std::string> args{"fidelity", "--reference", csv.string(), "--no-db", "--threads", threads};
        args.insert(args.end(), common.begin(), common.end());
        return run_json(args, dir.path());
    };
    const nlohmann::json one = fidelity("1"), two = fidelity("2");
    EXPECT_EQ(one["functions"].size(), functions.size());
    int compared = 0;
    for (std::size_t i = 0; i < functions.size(); ++i) {
        std::vector<std::string> args{"eval", functions[i], "--no-db"};
        args.insert(args.end(), common.begin(), common.end());
        const nlohmann::json eval = run_json(args, dir.path());
        ASSERT_EQ(eval["seeds"].size(), 2u);
        for (std::size_t s = 0; s < 2; ++s) {
            const nlohmann::json& want = eval["seeds"][s];
            for (const nlohmann::json* got : {&one["functions"][i]["seeds"][s], &two["functions"][i]["seeds"][s]}) {
                EXPECT_EQ((*got)["seed"], want["seed"]) << functions[i];
                EXPECT_EQ((*got)["status"], want["status"]) << functions[i];
                EXPECT_EQ((*got)["val_acc"], want["val_acc"]) << functions[i] << " seed " << want["seed"];
                ++compared;
            }
        }
    }
    EXPECT_EQ(compared, int(functions.size()) * 2 * 2);
}

TEST(Fidelity, MalformedReferencesExitTwoWithTheLine) {
    ScratchDir dir;
    const std::vector<std::pair<std::string, std::string>> cases{
        {"expr,value\nrelu(x),1\nx,2\nx^2,3\n", "'expr' column"},
        {"expr,score\nrelu(x),high\nx,2\nx^2,3\n", "bad.csv:2: score 'high'"},
        {"expr,score\nrelu(x),1\nx,2\n", "at least 3"},
        {"expr,score\nrelu(x),1,extra\nx,2\nx^2,3\n", "bad.csv:2: 3 fields"},
        {"expr,score\nrelu(x),1\nx,2\nfrobnicate(x),3\n", "frobnicate"},
        {"", "no header"},
    };
    for (const auto& [text, expected] : cases) {
        const fs::path csv = dir.path() / "bad.csv";
        std::ofstream(csv) << text;
        const ProcessResult r = run_binary({"fidelity", "--task", "synthetic", "--steps", "5", "--reference",
                                            csv.string(), "--no-db"}, dir.path());
        EXPECT_EQ(r.status, 2) << text;
        EXPECT_NE(r.err.find(expected), std::string::npos) << text << "\n" << r.err;
    }
    const ProcessResult missing = run_binary({"fidelity", "--task", "synthetic", "--reference",
                                              (dir.path() / "none.csv").string(), "--no-db"}, dir.path());
    EXPECT_EQ(missing.status, 2);
    EXPECT_NE(missing.err.find("none.csv"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace actsearch::test
