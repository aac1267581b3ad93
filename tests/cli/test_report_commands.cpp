// The reporting commands (runs, leaderboard, show, export, plot) run as the real binary over a database
// written through Store, plus unit tests of their output helpers.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actsearch/db/store.hpp"
#include "actsearch/grammar/parse.hpp"
#include "candidate_info.hpp"
#include "candidate_ref.hpp"
#include "commands.hpp"
#include "process.hpp"
#include "svg_plot.hpp"
#include "table_format.hpp"

namespace actsearch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::ProcessResult;
using test::run_binary;

constexpr const char* kMlp = "fmnist-mlp";
constexpr const char* kCnn = "fmnist-cnn";
constexpr const char* kFidelity = "steps=400 width=128 depth=3 lr=0.05 batch=128";

// Strict: throws on anything that is not JSON (a bare nan, a trailing comma), failing the test.
json parse_json(const std::string& text) { return json::parse(text); }

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// RFC 4180 records (no line breaks inside fields in these tests).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    for (const std::string& line : lines_of(text)) {
        std::vector<std::string> fields(1);
        bool quoted = false;
        for (std::size_t i = 0; i < line.size(); ++i) {
            const char c = line[i];
            if (quoted) {
                if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                    fields.back() += '"';
                    ++i;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    fields.back() += c;
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                fields.emplace_back();
            } else {
                fields.back() += c;
            }
        }
        rows.push_back(std::move(fields));
    }
    return rows;
}

void expect_one_line_error(const ProcessResult& r) {
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
}

// Minimal well-formedness: every tag closed in order; returns the number of <path> elements with a
// class attribute equal to `path_class`.
int check_svg(const std::string& svg, const std::string& path_class) {
    EXPECT_EQ(svg.rfind("<svg", 0), 0u);
    std::vector<std::string> open;
    int paths = 0;
    for (std::size_t i = svg.find('<'); i != std::string::npos; i = svg.find('<', i + 1)) {
        const std::size_t end = svg.find('>', i);
        if (end == std::string::npos) {
            ADD_FAILURE() << "unterminated tag at " << i;
            return paths;
        }
        const std::string tag = svg.substr(i + 1, end - i - 1);
        if (tag.empty()) continue;
        if (tag[0] == '/') {
            if (open.empty() || open.back() != tag.substr(1)) {
                ADD_FAILURE() << "unbalanced </" << tag.substr(1) << "> at " << i;
                return paths;
            }
            open.pop_back();
            continue;
        }
        const std::string name = tag.substr(0, tag.find_first_of(" \n/"));
        if (name == "path" && tag.find("class=\"" + path_class + "\"") != std::string::npos) ++paths;
        if (tag.back() != '/') open.push_back(name);
    }
    EXPECT_TRUE(open.empty()) << "unclosed <" << (open.empty() ? "" : open.back()) << ">";
    return paths;
}

// A database as a search and an evaluation would leave it, written through the Store.
class ReportCommands : public ::testing::Test {
protected:
    test::ScratchDir dir;
    std::string db = (dir.path() / "results.db").string();
    std::int64_t run_random = 0, run_rl = 0;
    std::int64_t swish = 0, swish_equivalent = 0, swish_beta = 0, relu = 0, tanh_ = 0, max_tanh = 0, exploding = 0;

    std::int64_t record(db::Store& store, const std::string& text, std::optional<std::int64_t> rep = std::nullopt) {
        ParseResult parsed = parse(text);
        EXPECT_TRUE(parsed.ok()) << text;
        return cli::record_candidate(store, cli::describe(parsed.expr()), rep);
    }

    void score(db::Store& store, std::int64_t cand, std::int64_t run, std::int64_t seed, double acc,
               const std::string& status = "ok", const std::string& task = kMlp) {
        db::EvaluationRecord e;
        e.candidate = cand;
        e.run = run;
        e.task = task;
        e.fidelity = kFidelity;
        e.seed = seed;
        e.status = status;
        e.val_acc = status == "ok" ? acc : 0.1;
        e.val_loss = status == "ok" ? 0.4 : NAN;
        e.train_loss = status == "ok" ? 0.35 : NAN;
        e.seconds = 3.25;
        if (status != "ok") e.message = "loss is not finite at step 17";
        ASSERT_TRUE(store.insert_evaluation(e));
    }

    void SetUp() override {
        db::Store store(db);
        db::RunInfo info;
        info.strategy = "random";
        info.space = "paper-core1";
        info.task = kMlp;
        info.seed = 1;
        info.config_json = R"({"budget": 8, "seeds": 3, "note": "a \"quoted\", comma"})";
        info.version = cli::version();
        run_random = store.create_run(info);
        info.strategy = "rl";
        run_rl = store.create_run(info);

        swish = record(store, "x * sigmoid(x)");
        // Functionally equal, stored as an equivalent of swish (what the search does on a fingerprint hit).
        const auto swish_info = cli::describe(parse("x * sigmoid(x)").expr());
        const auto equivalent_info = cli::describe(parse("x / (1 + exp(-x))").expr());
        ASSERT_EQ(swish_info.fingerprint.hash, equivalent_info.fingerprint.hash);
        swish_equivalent = record(store, "x / (1 + exp(-x))", swish);
        swish_beta = record(store, "x * sigmoid(beta * x)");
        relu = record(store, "relu(x)");
        tanh_ = record(store, "tanh(x)");
        max_tanh = record(store, "max(x, tanh(x))");   // a comma in the expression: CSV must quote it
        exploding = record(store, "exp(exp(x))");

        db::Transaction tx(store);
        for (auto [seed, acc] : {std::pair{1, 0.861}, {2, 0.865}, {3, 0.869}}) score(store, swish, run_random, seed, acc);
        for (auto [seed, acc] : {std::pair{1, 0.858}, {2, 0.860}, {3, 0.862}}) score(store, swish_beta, run_rl, seed, acc);
        for (auto [seed, acc] : {std::pair{1, 0.850}, {2, 0.846}, {3, 0.854}}) score(store, relu, run_random, seed, acc);
        score(store, tanh_, run_random, 1, 0.840);
        score(store, tanh_, run_random, 2, 0.0, "diverged");
        score(store, max_tanh, run_rl, 1, 0.855);
        score(store, max_tanh, run_rl, 2, 0.857);
        score(store, exploding, run_rl, 1, 0.0, "diverged");
        score(store, exploding, run_rl, 2, 0.0, "diverged");
        score(store, relu, run_rl, 1, 0.905, "ok", kCnn);
        tx.commit();
        store.set_run_status(run_random, "finished");
        store.set_run_status(run_rl, "interrupted");
    }

    ProcessResult run(std::vector<std::string> args) {
        args.push_back("--db");
        args.push_back(db);
        return run_binary(args, dir.path(), std::chrono::seconds(60));
    }

    std::string expr_of(std::int64_t id) { return db::Store(db, true).candidate(id)->expr; }
};

TEST_F(ReportCommands, RunsListsBothRunsWithCountsAndBest) {
    ProcessResult r = run({"runs"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 3u) << r.out;
    EXPECT_NE(lines[0].find("evaluations"), std::string::npos);
    EXPECT_NE(lines[1].find("finished"), std::string::npos);
    EXPECT_NE(lines[1].find("random"), std::string::npos);
    EXPECT_NE(lines[1].find("0.8650"), std::string::npos) << "best mean of run 1 is swish's";
    EXPECT_NE(lines[2].find("interrupted"), std::string::npos);

    r = run({"runs", "--format", "json"});
    ASSERT_EQ(r.status, 0) << r.err;
    const json runs = parse_json(r.out);
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[0]["id"].get<std::int64_t>(), run_random);
    EXPECT_EQ(runs[0]["evaluations"].get<int>(), 8);
    // The configuration is an object, not an escaped string.
    ASSERT_TRUE(runs[0]["config"].is_object()) << r.out;
    EXPECT_EQ(runs[0]["config"]["budget"].get<int>(), 8);
    EXPECT_EQ(runs[0]["config"]["note"].get<std::string>(), "a \"quoted\", comma");
    EXPECT_EQ(runs[1]["strategy"].get<std::string>(), "rl");
    EXPECT_EQ(runs[1]["evaluations"].get<int>(), 8);
    EXPECT_NEAR(runs[1]["best"].get<double>(), 0.905, 1e-12);

    r = run({"runs", "--format", "csv"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto csv = parse_csv(r.out);
    ASSERT_EQ(csv.size(), 3u);
    EXPECT_EQ(csv[0].back(), "config");
    EXPECT_EQ(csv[1].back(), R"({"budget": 8, "seeds": 3, "note": "a \"quoted\", comma"})");
}

TEST_F(ReportCommands, LeaderboardTableIsRankedAndAligned) {
    ProcessResult r = run({"leaderboard", "--task", kMlp});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto lines = lines_of(r.out);
    // Caption, header, the five candidates with an ok seed (exp(exp(x)) only diverged), the legend.
    ASSERT_EQ(lines.size(), 8u) << r.out;
    EXPECT_NE(lines[7].find("Welch's t-test"), std::string::npos) << r.out;
    // The 95% interval and the tie column: swish is the best, relu is separated from it, tanh has one seed.
    EXPECT_NE(lines[2].find("0.8551-0.8749"), std::string::npos) << r.out;
    EXPECT_NE(lines[2].find(" best "), std::string::npos) << r.out;
    EXPECT_NE(lines[3].find(" yes "), std::string::npos) << r.out;
    EXPECT_NE(lines[5].find(" no "), std::string::npos) << r.out;
    EXPECT_NE(lines[6].find(" ? "), std::string::npos) << r.out;
    EXPECT_NE(lines[0].find(kMlp), std::string::npos);
    EXPECT_NE(lines[2].find(expr_of(swish)), std::string::npos) << r.out;
    EXPECT_NE(lines[2].find("(+1 equivalent)"), std::string::npos) << r.out;
    EXPECT_NE(lines[2].find("0.8650"), std::string::npos);
    EXPECT_NE(lines[2].find("0.0040"), std::string::npos) << "sample std of .861 .865 .869";
    EXPECT_NE(lines[3].find(expr_of(swish_beta)), std::string::npos);
    EXPECT_NE(lines[4].find(expr_of(max_tanh)), std::string::npos);
    EXPECT_NE(lines[5].find(expr_of(relu)), std::string::npos);
    EXPECT_NE(lines[6].find(expr_of(tanh_)), std::string::npos);
    // Aligned: the expression column starts at the same offset on every row.
    const std::size_t column = lines[1].find("expression");
    for (std::size_t i = 2; i < lines.size(); ++i) EXPECT_NE(lines[i].find_first_not_of(' ', column), column + 100);
    EXPECT_EQ(lines[2].find(expr_of(swish)), column);
    EXPECT_EQ(lines[6].find(expr_of(tanh_)), column);
}

TEST_F(ReportCommands, LeaderboardCsvAndJsonCarryEverything) {
    ProcessResult r = run({"leaderboard", "--format", "csv", "--top", "0"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto csv = parse_csv(r.out);
    ASSERT_EQ(csv.size(), 1u + 6u) << r.out;   // all tasks: relu on the CNN task leads
    const std::vector<std::string> header = {"rank",     "mean",    "std",   "seeds", "ci_low",   "ci_high",
                                             "tie",      "ok",      "diverged", "invalid", "other", "task",
                                             "fidelity", "id",      "best_run", "equivalents", "expression"};
    EXPECT_EQ(csv[0], header);
    EXPECT_EQ(csv[1][11], kCnn);
    EXPECT_EQ(csv[1][13], std::to_string(relu));
    // One seed: no std, no interval (never a zero-width one); the best of its task all the same.
    EXPECT_EQ(csv[1][2], "");
    EXPECT_EQ(csv[1][4], "");
    EXPECT_EQ(csv[1][5], "");
    EXPECT_EQ(csv[1][6], "true");
    bool found_max = false;
    for (const auto& row : csv) {
        ASSERT_EQ(row.size(), header.size()) << "a field with a comma was not quoted";
        if (row.back() == expr_of(max_tanh)) {
            found_max = true;
            EXPECT_NEAR(std::stod(row[1]), 0.856, 1e-12);
            EXPECT_EQ(row[12], kFidelity);
            EXPECT_EQ(row[14], std::to_string(run_rl));
            // .856 +- t(0.975, 1) * .0014142 / sqrt(2) = .856 +- 12.706205 * .001
            EXPECT_NEAR(std::stod(row[4]), 0.856 - 0.012706205, 1e-8);
            EXPECT_NEAR(std::stod(row[5]), 0.856 + 0.012706205, 1e-8);
        }
    }
    EXPECT_TRUE(found_max);

    r = run({"leaderboard", "--format", "json", "--task", kMlp, "--top", "2"});
    ASSERT_EQ(r.status, 0) << r.err;
    const json rows = parse_json(r.out);
    ASSERT_EQ(rows.size(), 2u);
    const json& first = rows[0];
    EXPECT_EQ(first["id"].get<std::int64_t>(), swish);
    EXPECT_EQ(first["expression"].get<std::string>(), expr_of(swish));
    EXPECT_NEAR(first["mean"].get<double>(), 0.865, 1e-12);
    EXPECT_NEAR(first["std"].get<double>(), 0.004, 1e-9);
    EXPECT_EQ(first["seeds"].get<int>(), 3);
    EXPECT_EQ(first["equivalents"].get<int>(), 1);
    EXPECT_EQ(first["best_run"].get<std::int64_t>(), run_random);
    // .865 +- t(0.975, 2) * .004 / sqrt(3) = .865 +- 4.302653 * .0023094 = .865 +- .0099367
    EXPECT_NEAR(first["ci_low"].get<double>(), 0.865 - 0.0099367, 1e-6);
    EXPECT_NEAR(first["ci_high"].get<double>(), 0.865 + 0.0099367, 1e-6);
    EXPECT_EQ(first["tie"], true);   // the best itself
    // swish_beta (.858 .860 .862): t = .005 / sqrt(.004^2/3 + .002^2/3) = 1.9365, df = 2.94, p = 0.15.
    EXPECT_EQ(rows[1]["tie"], true);
}

TEST_F(ReportCommands, LeaderboardFilters) {
    ProcessResult r = run({"leaderboard", "--format", "json", "--min-seeds", "3", "--task", kMlp});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(parse_json(r.out).size(), 3u);   // swish, swish_beta, relu

    r = run({"leaderboard", "--format", "json", "--run", std::to_string(run_rl), "--top", "0"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(parse_json(r.out).size(), 3u);   // swish_beta, max_tanh, relu on the CNN task

    r = run({"leaderboard", "--min-seeds", "4"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("no candidates with at least 4 ok seeds"), std::string::npos) << r.out;

    r = run({"leaderboard", "--format", "json", "--task", "cifar10-cnn"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "[]\n");

    r = run({"leaderboard", "--format", "yaml"});
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);
    r = run({"leaderboard", "--top", "-3"});
    EXPECT_EQ(r.status, 2);
}

TEST_F(ReportCommands, ShowByIdExpressionAndEquivalent) {
    ProcessResult r = run({"show", std::to_string(swish)});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find(fmt::format("candidate {}  {}", swish, expr_of(swish))), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(fmt::format("equivalent     {}  {}", swish_equivalent, expr_of(swish_equivalent))),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("0.8650"), std::string::npos);
    EXPECT_NE(r.out.find("\nevaluations\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(kFidelity), std::string::npos);

    // The equivalent's page shows the representative's evaluations.
    r = run({"show", std::to_string(swish_equivalent), "--format", "csv"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto csv = parse_csv(r.out);
    ASSERT_EQ(csv.size(), 4u) << r.out;
    EXPECT_EQ(csv[0][0], "id");
    for (std::size_t i = 1; i < csv.size(); ++i) EXPECT_EQ(csv[i][1], std::to_string(swish));

    // An expression typed differently but with the same canonical form.
    r = run({"show", "sigmoid(x)*x", "--format", "json"});
    ASSERT_EQ(r.status, 0) << r.err;
    json doc = parse_json(r.out);
    EXPECT_EQ(doc["candidate"]["id"].get<std::int64_t>(), swish);
    EXPECT_EQ(doc["evaluations"].size(), 3u);
    EXPECT_EQ(doc["equivalents"].size(), 1u);

    // Not stored itself, found through its fingerprint.
    r = run({"show", "swish(x)"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("functionally equivalent"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(fmt::format("candidate {}", swish)), std::string::npos) << r.out;
}

TEST_F(ReportCommands, ShowErrors) {
    ProcessResult r = run({"show", "999"});
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);
    EXPECT_NE(r.err.find("no candidate with id 999"), std::string::npos);

    EXPECT_NE(r.err.find("actsearch leaderboard --db"), std::string::npos) << r.err;

    // An unknown expression: how to find the stored candidates, and how to add this one.
    r = run({"show", "sin(x) * cos(x) + 17"});
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);
    EXPECT_NE(r.err.find("`actsearch leaderboard --db '" + db + "'` lists the stored candidates"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("`actsearch eval '"), std::string::npos) << r.err;

    r = run({"show"});
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);
    r = run({"show", "--rank", "99", "--task", kMlp});
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);

    r = run({"show", "sigmoid((x"});
    EXPECT_EQ(r.status, 2);   // the parse error, with a caret
    EXPECT_NE(r.err.find("^"), std::string::npos) << r.err;
}

TEST_F(ReportCommands, ShowByRankAndTop) {
    ProcessResult r = run({"show", "--rank", "1", "--task", kMlp});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.rfind("rank 1\n", 0), 0u) << r.out;
    EXPECT_NE(r.out.find(fmt::format("candidate {}  {}", swish, expr_of(swish))), std::string::npos) << r.out;

    r = run({"show", "--top", "2", "--task", kMlp, "--format", "json"});
    ASSERT_EQ(r.status, 0) << r.err;
    const json docs = parse_json(r.out);
    ASSERT_TRUE(docs.is_array());
    ASSERT_EQ(docs.size(), 2u);
    EXPECT_EQ(docs[0]["rank"].get<int>(), 1);
    EXPECT_EQ(docs[0]["candidate"]["id"].get<std::int64_t>(), swish);
    EXPECT_EQ(docs[1]["candidate"]["id"].get<std::int64_t>(), swish_beta);

    // CSV: the evaluations of both under one header.
    r = run({"show", "--top", "2", "--task", kMlp, "--format", "csv"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(parse_csv(r.out).size(), 1u + 3u + 3u) << r.out;
}

// Every listing command: --format json (and its alias --json) is JSON a strict parser accepts; CSV has
// one header and rows as wide.
TEST_F(ReportCommands, EveryListingCommandWritesParsableJsonAndCsv) {
    const std::vector<std::vector<std::string>> commands = {
        {"parse", "log(x)"},   // non-finite samples: null, never a bare nan
        {"parse", "x*sigmoid(beta*x)"},
        {"eval", "x", "--task", "synthetic", "--steps", "20", "--seeds", "2", "--no-db"},
        {"space", "--space", "hard", "--list", "3", "--count"},
        {"runs", "--db", db},
        {"leaderboard", "--db", db, "--top", "0", "--min-seeds", "0"},
        {"show", "--db", db, "--top", "3"},
        {"show", "--db", db, std::to_string(exploding)},
    };
    for (const auto& command : commands) {
        for (const char* flag : {"--format=json", "--json"}) {
            std::vector<std::string> args = command;
            args.push_back(flag);
            const ProcessResult r = run_binary(args, dir.path(), std::chrono::seconds(120));
            ASSERT_EQ(r.status, 0) << command[0] << " " << flag << ": " << r.err;
            EXPECT_NO_THROW(parse_json(r.out)) << command[0] << " " << flag << ":\n" << r.out;
            EXPECT_EQ(r.out.find("nan"), std::string::npos) << r.out;
        }
        std::vector<std::string> args = command;
        args.insert(args.end(), {"--format", "csv"});
        const ProcessResult r = run_binary(args, dir.path(), std::chrono::seconds(120));
        ASSERT_EQ(r.status, 0) << command[0] << ": " << r.err;
        const auto csv = parse_csv(r.out);
        ASSERT_FALSE(csv.empty()) << command[0];
        for (const auto& row : csv) EXPECT_EQ(row.size(), csv[0].size()) << command[0] << ":\n" << r.out;
    }
    // parse 'log(x)': the values it cannot take are null.
    const json doc = parse_json(run_binary({"parse", "log(x)", "--json"}, dir.path()).out);
    EXPECT_TRUE(doc["samples"][0]["f"].is_null());
    EXPECT_NEAR(doc["samples"][6]["f"].get<double>(), std::log(3.0), 1e-6);
    // Only the three formats, and not two at once.
    for (const std::vector<std::string>& bad : {std::vector<std::string>{"parse", "x", "--format", "xml"},
                                                std::vector<std::string>{"space", "--format", "yaml"},
                                                std::vector<std::string>{"parse", "x", "--format", "csv", "--json"}}) {
        const ProcessResult r = run_binary(bad, dir.path());
        EXPECT_EQ(r.status, 2) << bad[0];
        expect_one_line_error(r);
    }
}

TEST_F(ReportCommands, ExportedHeaderCompilesAndComputesSwish) {
    const fs::path header = dir.path() / "act.hpp";
    ProcessResult r = run({"export", "--rank", "1", "--task", kMlp, "-o", header.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    const std::string text = test::read_file(header);
    EXPECT_NE(text.find("act_rank1"), std::string::npos);
    EXPECT_NE(text.find("0.8650"), std::string::npos) << "the score is in the comment";

    const fs::path driver = dir.path() / "driver.cpp";
    std::ofstream(driver) << "#include \"act.hpp\"\n#include <cstdio>\n"
                             "int main() {\n"
                             "    const double y = actsearch_export::act_rank1<double>(1.0);\n"
                             "    const double dy = actsearch_export::act_rank1_grad<double>(1.0, nullptr);\n"
                             "    std::printf(\"%.6f %.6f\\n\", y, dy);\n"
                             "}\n";
    const fs::path exe = dir.path() / "driver";
    const std::string compile = fmt::format("{} -std=c++17 -Wall -Wextra -Werror -I{} {} -o {} 2>&1", ACTSEARCH_CXX,
                                            dir.path().string(), driver.string(), exe.string());
    ASSERT_EQ(std::system(compile.c_str()), 0) << compile;
    ProcessResult out = test::Child({exe.string()}, dir.path()).wait(std::chrono::seconds(30));
    ASSERT_EQ(out.status, 0);
    // swish(1) = sigmoid(1); swish'(1) = sigmoid(1) (1 + 1 - sigmoid(1)).
    const double s = 1.0 / (1.0 + std::exp(-1.0));
    EXPECT_EQ(out.out, fmt::format("{:.6f} {:.6f}\n", s, s * (2.0 - s)));
}

TEST_F(ReportCommands, ExportTopThreeIntoOneHeader) {
    const fs::path header = dir.path() / "top.hpp";
    ProcessResult r = run({"export", "--top", "3", "--task", kMlp, "-o", header.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    const std::string text = test::read_file(header);
    for (const char* name : {"act_rank1", "act_rank2", "act_rank3"})
        EXPECT_NE(text.find(fmt::format("inline T {}(", name)), std::string::npos) << name;
    EXPECT_EQ(text.find("act_rank4"), std::string::npos);

    const fs::path driver = dir.path() / "top.cpp";
    std::ofstream(driver) << "#include \"top.hpp\"\nint main() {\n"
                             "    float b[1];\n"
                             "    return actsearch_export::act_rank2<float>(0.5f, 1.0f) > 0.0f &&\n"
                             "           actsearch_export::act_rank2_grad<float>(0.5f, 1.0f, b) > 0.0f ? 0 : 1;\n"
                             "}\n";
    const std::string compile = fmt::format("{} -std=c++17 -Wall -Wextra -Werror -fsyntax-only -I{} {} 2>&1",
                                            ACTSEARCH_CXX, dir.path().string(), driver.string());
    EXPECT_EQ(std::system(compile.c_str()), 0) << compile;
}

TEST_F(ReportCommands, ExportFormats) {
    // An expression needs no database.
    ProcessResult r = run_binary({"export", "x * sigmoid(beta * x)", "--format", "torch", "--name", "swish_beta",
                                  "--db", (dir.path() / "none.db").string()},
                                 dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("nn.Module"), std::string::npos);
    EXPECT_NE(r.out.find("swish_beta"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir.path() / "none.db"));

    r = run({"export", "--id", std::to_string(relu), "--format", "latex"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("\\"), std::string::npos) << r.out;

    r = run({"export", "--id", std::to_string(swish), "--format", "json"});
    ASSERT_EQ(r.status, 0) << r.err;
    json doc = parse_json(r.out);
    EXPECT_EQ(doc["expression"].get<std::string>(), expr_of(swish));
    EXPECT_EQ(doc["candidate"]["id"].get<std::int64_t>(), swish);
    EXPECT_TRUE(doc["candidate"]["representative"].is_null());
    EXPECT_EQ(doc["evaluations"].size(), 3u);
    ASSERT_EQ(doc["scores"].size(), 1u);
    EXPECT_NEAR(doc["scores"][0]["mean"].get<double>(), 0.865, 1e-12);
    EXPECT_NEAR(doc["scores"][0]["ci_high"].get<double>(), 0.865 + 0.0099367, 1e-6);
    EXPECT_EQ(doc["equivalents"][0]["id"].get<std::int64_t>(), swish_equivalent);
}

// Parameters with initial values (beta(0.25)) travel through the database's expression text: show,
// export (every format) and the report display them, and parse --json lists them.
TEST_F(ReportCommands, InitialValuesOfBetasAreStoredShownAndExported) {
    std::int64_t prelu = 0, aptx = 0;
    {
        db::Store store(db);
        prelu = record(store, "max(x, 0) + beta(0.25)*min(x, 0)");
        aptx = record(store, "(beta(1) + tanh(beta2(1)*x))*beta3(0.5)*x");
        // Not the same candidate as the plain-beta form.
        EXPECT_NE(prelu, record(store, "max(x, 0) + beta*min(x, 0)"));
        for (auto [seed, acc] : {std::pair{1, 0.871}, {2, 0.873}}) score(store, prelu, run_random, seed, acc);
        score(store, aptx, run_random, 1, 0.870);
    }
    EXPECT_EQ(expr_of(prelu), "max(x, 0) + beta(0.25)*min(x, 0)");
    const std::string aptx_text = expr_of(aptx);
    EXPECT_NE(aptx_text.find("(0.5)"), std::string::npos) << aptx_text;

    ProcessResult r = run({"show", std::to_string(prelu)});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find(fmt::format("candidate {}  max(x, 0) + beta(0.25)*min(x, 0)", prelu)), std::string::npos) << r.out;
    r = run({"show", "min(x, 0)*beta(0.25) + relu(x)", "--format", "json"});   // found by fingerprint
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(parse_json(r.out)["candidate"]["id"].get<std::int64_t>(), prelu);

    r = run({"export", "--id", std::to_string(aptx), "--format", "json"});
    ASSERT_EQ(r.status, 0) << r.err;
    json doc = parse_json(r.out);
    EXPECT_EQ(doc["expression"].get<std::string>(), aptx_text);
    EXPECT_EQ(doc["betas"].get<int>(), 3);
    std::vector<double> initial = doc["beta_initial"].get<std::vector<double>>();
    std::sort(initial.begin(), initial.end());
    EXPECT_EQ(initial, (std::vector<double>{0.5, 1.0, 1.0}));
    EXPECT_NE(doc["latex"].get<std::string>().find("= 0.5"), std::string::npos) << doc["latex"];

    r = run({"export", "--id", std::to_string(prelu), "--format", "cpp", "--name", "prelu"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("inline T prelu(T x, T beta = T(0.25))"), std::string::npos) << r.out;
    r = run({"export", "--id", std::to_string(prelu), "--format", "torch"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("nn.Parameter(torch.full((num_channels,), 0.25))"), std::string::npos) << r.out;
    r = run({"export", "--id", std::to_string(prelu), "--format", "latex"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("\\beta = 0.25 \\text{ initially}"), std::string::npos) << r.out;

    r = run({"leaderboard"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("beta(0.25)"), std::string::npos) << r.out;

    const std::string page = (dir.path() / "report.html").string();
    r = run({"report", "-o", page});
    ASSERT_EQ(r.status, 0) << r.err;
    std::ifstream in(page);
    const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(html.find("max(x, 0) + beta(0.25)*min(x, 0)"), std::string::npos);

    r = run_binary({"parse", "(beta(1) + tanh(beta2(1)*x))*beta3(0.5)*x", "--format", "json"}, dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    doc = parse_json(r.out);
    EXPECT_EQ(doc["canonical"].get<std::string>(), aptx_text);
    initial = doc["beta_initial"].get<std::vector<double>>();
    std::sort(initial.begin(), initial.end());
    EXPECT_EQ(initial, (std::vector<double>{0.5, 1.0, 1.0}));
    // At the initial values APTx is (1 + tanh(x)) x / 2: f(1) = 0.8808.
    for (const json& sample : doc["samples"])
        if (sample["x"].get<double>() == 1.0) {
            EXPECT_NEAR(sample["f"].get<double>(), (1 + std::tanh(1.0)) / 2, 1e-6);
        }
    r = run_binary({"parse", "beta(0.5)*x + beta(2)"}, dir.path());
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("beta is given two initial values, 0.5 and 2"), std::string::npos) << r.err;
}

TEST_F(ReportCommands, ExportErrors) {
    ProcessResult r = run({"export", "--rank", "99", "--task", kMlp});
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);
    EXPECT_NE(r.err.find("no rank 99"), std::string::npos) << r.err;

    r = run({"export", "relu(x)", "-o", (dir.path() / "missing" / "a.hpp").string()});
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);
    EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;

    r = run({"export", "relu(x)", "--name", "not an identifier"});
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);

    r = run({"export", "relu(x)", "--format", "fortran"});
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);

    r = run({"export", "--rank", "3-1"});
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);

    r = run({"export"});
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);

    r = run({"export", "--id", "4242"});
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);
}

TEST_F(ReportCommands, PlotWritesAWellFormedSvg) {
    const fs::path svg = dir.path() / "plot.svg";
    ProcessResult r = run({"plot", "--rank", "1-2", "--task", kMlp, "sqrt(x)", "-o", svg.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, svg.string() + "\n");
    const std::string text = test::read_file(svg);
    // Three functions in two panels (f and f'), and relu and swish as references in both.
    EXPECT_EQ(check_svg(text, "curve"), 3 * 2);
    EXPECT_EQ(check_svg(text, "reference"), 2 * 2);
    EXPECT_NE(text.find(fmt::format("#1 {}", expr_of(swish))), std::string::npos);
    EXPECT_NE(text.find("f&apos;(x)"), std::string::npos);
}

TEST_F(ReportCommands, PlotWithNoSelectionPlotsTheTopFive) {
    const fs::path svg = dir.path() / "top.svg";
    ProcessResult r = run({"plot", "--task", kMlp, "-o", svg.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(check_svg(test::read_file(svg), "curve"), 5 * 2);
    // Fewer than five ranked: as many as there are.
    r = run({"plot", "--task", kMlp, "--min-seeds", "3", "-o", svg.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(check_svg(test::read_file(svg), "curve"), 3 * 2);
}

TEST_F(ReportCommands, PlotErrors) {
    ProcessResult r = run({"plot", "--task", "no-such-task", "-o", (dir.path() / "p.svg").string()});
    EXPECT_EQ(r.status, 2);   // nothing selected and nothing ranked
    expect_one_line_error(r);
    r = run_binary({"plot", "--db", (dir.path() / "none.db").string()}, dir.path());
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);
    r = run({"plot", "relu(x)", "-o", (dir.path() / "no" / "p.svg").string()});
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);
    r = run({"plot", "--id", "777", "-o", (dir.path() / "p.svg").string()});
    EXPECT_EQ(r.status, 2);
    expect_one_line_error(r);
}

TEST_F(ReportCommands, MissingAndBrokenDatabases) {
    const std::string missing = (dir.path() / "nothing.db").string();
    for (const char* command : {"runs", "leaderboard"}) {
        ProcessResult r = run_binary({command, "--db", missing}, dir.path());
        EXPECT_EQ(r.status, 2) << command;
        expect_one_line_error(r);
        EXPECT_NE(r.err.find(fmt::format("no database at '{}' (run a search or eval first)", missing)),
                  std::string::npos)
            << r.err;
        EXPECT_FALSE(fs::exists(missing)) << "a reading command must not create the database";
    }
    ProcessResult r = run_binary({"show", "1", "--db", missing}, dir.path());
    EXPECT_EQ(r.status, 2);

    const std::string garbage = (dir.path() / "garbage.db").string();
    {
        std::ofstream out(garbage, std::ios::binary);
        for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((i * 7919 + 13) % 251));
    }
    for (const char* command : {"runs", "leaderboard"}) {
        r = run_binary({command, "--db", garbage}, dir.path());
        EXPECT_EQ(r.status, 2) << command;   // a bad database is bad input
        expect_one_line_error(r);
        EXPECT_NE(r.err.find("not a readable actsearch database"), std::string::npos) << r.err;
    }
}

// ---- The output helpers, directly ----------------------------------------------------------------

TEST(TableFormat, TextCsvAndJson) {
    cli::Table t;
    t.columns = {{"name"}, {"score", cli::Align::Right, 2}, {"n", cli::Align::Right}};
    t.add_row({std::string("a, \"b\""), 0.5, std::int64_t{3}});
    t.add_row({std::string("longer name"), NAN, cli::Cell{}});
    EXPECT_THROW(t.add_row({std::string("short")}), std::logic_error);

    EXPECT_EQ(cli::render_text(t), "name         score  n\n"
                                   "a, \"b\"        0.50  3\n"
                                   "longer name      -  -\n");
    EXPECT_EQ(cli::render_csv(t), "name,score,n\n"
                                  "\"a, \"\"b\"\"\",0.5,3\n"
                                  "longer name,,\n");
    EXPECT_EQ(cli::render_json(t), "[\n"
                                   "  {\"name\":\"a, \\\"b\\\"\",\"score\":0.5,\"n\":3},\n"
                                   "  {\"name\":\"longer name\",\"score\":null,\"n\":null}\n"
                                   "]\n");
    EXPECT_THROW(cli::output_format_from("xml"), cli::UsageError);
}

TEST(TableFormat, JsonCellsAndDocuments) {
    // Non-finite numbers are null (JSON has neither NaN nor infinity); truth values stay booleans.
    EXPECT_EQ(cli::json_line(cli::to_json(cli::Cell{double(NAN)})), "null");
    EXPECT_EQ(cli::json_line(cli::to_json(cli::Cell{double(INFINITY)})), "null");
    EXPECT_EQ(cli::json_line(cli::to_json(cli::Cell{true})), "true");
    EXPECT_EQ(cli::json_line(cli::to_json(cli::Cell{std::int64_t{-3}})), "-3");
    cli::Json doc = {{"s", "tab\there \"q\" \x01"}, {"list", {1, 2.5, INFINITY}}, {"bad", std::string("\xff")}};
    const json back = parse_json(cli::json_text(doc));
    EXPECT_EQ(back["s"].get<std::string>(), "tab\there \"q\" \x01");
    ASSERT_EQ(back["list"].size(), 3u);
    EXPECT_TRUE(back["list"][2].is_null());
    EXPECT_FALSE(back["bad"].get<std::string>().empty());   // invalid UTF-8 is replaced, not thrown on
    // Keys keep the order they were written in.
    EXPECT_LT(cli::json_text(doc).find("\"s\""), cli::json_text(doc).find("\"list\""));
}

TEST(SvgPlot, TicksAndRanges) {
    EXPECT_EQ(cli::nice_ticks({-6, 6}), (std::vector<double>{-6, -4, -2, 0, 2, 4, 6}));
    const std::vector<double> unit = cli::nice_ticks({0, 1}, 5);
    ASSERT_EQ(unit.size(), 6u);
    for (std::size_t i = 0; i < unit.size(); ++i) EXPECT_NEAR(unit[i], 0.2 * double(i), 1e-12);
    EXPECT_TRUE(cli::nice_ticks({1, 1}).empty());

    std::vector<double> line;
    for (int i = 0; i <= 100; ++i) line.push_back(i);
    cli::AxisRange r = cli::robust_range({&line});
    EXPECT_LT(r.lo, 0);   // no outliers: the whole curve, padded
    EXPECT_GT(r.hi, 100);
    line.back() = 1e9;    // one far outlier is clipped
    line.push_back(NAN);
    r = cli::robust_range({&line});
    EXPECT_LT(r.hi, 200);
    const std::vector<double> constant(50, 3.0);
    r = cli::robust_range({&constant});
    EXPECT_LT(r.lo, 3.0);
    EXPECT_GT(r.hi, 3.0);
}

TEST(SvgPlot, NonFiniteValuesBreakTheLine) {
    cli::Plot plot;
    plot.title = "a <title> & more";
    plot.x = {0, 1, 2, 3, 4};
    plot.panels = {cli::Panel{"f(x)", {{"gap", {0, 1, NAN, 3, 4}, false}, {"ref", {0, 1, 2, 3, 4}, true}}}};
    const std::string svg = cli::render_svg(plot);
    EXPECT_EQ(check_svg(svg, "curve"), 1);
    EXPECT_EQ(check_svg(svg, "reference"), 1);
    const std::size_t d = svg.find("class=\"curve\" d=\"");
    ASSERT_NE(d, std::string::npos);
    const std::string path = svg.substr(d, svg.find('"', d + 17) - d);
    EXPECT_EQ(std::count(path.begin(), path.end(), 'M'), 2) << path;
    EXPECT_NE(svg.find("a &lt;title&gt; &amp; more"), std::string::npos);
}

TEST(SvgPlot, YLimitKeepsAnExplodingCurveFromFlatteningTheOthers) {
    cli::Plot plot;
    plot.x.resize(100);
    std::vector<double> exploding(100), tame(100);
    for (int i = 0; i < 100; ++i) {
        plot.x[i] = -6 + 0.12 * i;
        exploding[i] = std::exp(plot.x[i] * 3);   // up to ~6e7
        tame[i] = std::tanh(plot.x[i]);
    }
    plot.panels = {cli::Panel{"f(x)", {{"exploding", exploding, false}, {"tame", tame, false}}, 18}};
    const std::string svg = cli::render_svg(plot);
    // The y tick labels (right-aligned) stay within the limit.
    const std::string marker = "text-anchor=\"end\" font-size=\"11\">";
    int ticks = 0;
    for (std::size_t i = svg.find(marker); i != std::string::npos; i = svg.find(marker, i + 1)) {
        const double v = std::stod(svg.substr(i + marker.size()));
        EXPECT_LE(std::abs(v), 18.0);
        ++ticks;
    }
    EXPECT_GE(ticks, 3);
}

TEST(CandidateRef, RankSpecs) {
    EXPECT_EQ(cli::parse_rank_specs({"3", "1-2"}), (std::vector<int>{3, 1, 2}));
    EXPECT_THROW(cli::parse_rank_specs({"0"}), cli::UsageError);
    EXPECT_THROW(cli::parse_rank_specs({"2-1"}), cli::UsageError);
    EXPECT_THROW(cli::parse_rank_specs({"x"}), cli::UsageError);
    EXPECT_THROW(cli::parse_rank_specs({"1-"}), cli::UsageError);
    EXPECT_THROW(cli::parse_rank_specs({"1-99999999999"}), cli::UsageError);
}

}  // namespace
}  // namespace actsearch
