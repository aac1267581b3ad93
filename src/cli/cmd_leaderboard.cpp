// actsearch leaderboard: candidates ranked by mean validation accuracy over seeds, with the 95% interval
// of each mean and the candidates tied with the best (leaderboard_print.hpp).
#include <limits>
#include <optional>
#include <map>
#include <set>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "actsearch/driver/rungs.hpp"
#include "candidate_ref.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "leaderboard_print.hpp"
#include "pareto_report.hpp"
#include "table_format.hpp"
#include "task_options.hpp"

namespace actsearch::cli {
namespace {

struct LeaderboardOptions {
    std::string db = kDefaultDb;
    std::optional<std::string> task;
    std::optional<std::int64_t> run;
    std::optional<std::string> fidelity;
    int top = 20;
    int min_seeds = 1;
    std::optional<int> rung;
    bool all = false;
    std::string format = "table";
    bool pareto = false;
};

// The rung a view shows: with --rung K, rung K of --run (default: the latest search); with neither
// --rung, --all, --task nor --fidelity, the highest rung of --run (default: the latest search) when that
// search has a ladder. Otherwise nothing (the query as given). Sets the query and the rung's hardened
// twins; returns the title.
std::optional<std::string> select_rung(db::Store& store, const LeaderboardOptions& o, db::LeaderboardQuery& q,
                                       TwinOf& twins) {
    if (o.rung && (o.all || o.task || o.fidelity))
        throw UsageError("--rung selects a rung's task and fidelity: it cannot be combined with --all, --task or --fidelity");
    if (!o.rung && (o.all || o.task || o.fidelity || o.pareto)) return std::nullopt;
    const std::int64_t run = o.run ? *o.run : driver::latest_search_run(store);
    if (run == 0) {
        if (o.rung) throw UsageError(fmt::format("--rung: no search run in '{}'", o.db));
        return std::nullopt;
    }
    const auto rungs = driver::rungs_of_run(store, run);
    if (rungs.empty()) {
        if (o.rung) throw UsageError(fmt::format("--rung: run {} is not a search (see actsearch runs)", run));
        return std::nullopt;
    }
    if (!o.rung && rungs.size() == 1 && rungs[0].twins.empty()) return std::nullopt;
    if (o.rung && static_cast<std::size_t>(*o.rung) > rungs.size())
        throw UsageError(fmt::format("--rung {}: run {} has {} rung{}", *o.rung, run, rungs.size(),
                                     rungs.size() == 1 ? "" : "s"));
    const std::size_t r = o.rung ? static_cast<std::size_t>(*o.rung - 1) : rungs.size() - 1;
    const auto view = rung_query(rungs[r], run, o.top);
    q.task = view.task;
    q.fidelity = view.fidelity;
    q.members = view.members;
    q.run = view.run;
    twins = rungs[r].twins;
    std::string title = rung_title(rungs, r, run, 0);
    if (!o.rung)
        title += rungs.size() > 1 ? fmt::format("; --rung 1..{} for the others, --all for every task", rungs.size())
                                  : std::string("; --all for every task");
    return title;
}

// The engines behind the rows shown: the trained evaluations of each row's group of equivalent candidates
// at the row's task and fidelity (with --run R, only those run R made, as the rows count them).
std::vector<db::EngineCount> engines_of_rows(db::Store& store, const std::vector<db::LeaderboardRow>& rows,
                                             const std::optional<std::int64_t>& run) {
    std::map<std::string, std::int64_t> counts;
    for (const db::LeaderboardRow& row : rows)
        for (const db::EvaluationRecord& e : store.evaluations_of(row.candidate))
            if (e.task == row.task && e.fidelity == row.fidelity && (e.status == "ok" || e.status == "diverged") &&
                (!run || e.run == *run))
                ++counts[e.engine];
    std::vector<db::EngineCount> out;
    for (const auto& [engine, n] : counts) out.push_back({engine, n});
    std::stable_sort(out.begin(), out.end(),
                     [](const db::EngineCount& a, const db::EngineCount& b) { return a.evaluations > b.evaluations; });
    return out;
}

void run_leaderboard(const LeaderboardOptions& o) {
    const OutputFormat format = output_format_from(o.format);
    auto store = open_store(o.db, /*read_only=*/true);
    db::LeaderboardQuery q;
    q.task = o.task;
    q.run = o.run;
    q.fidelity = o.fidelity;
    q.top = o.top;
    q.min_seeds = o.min_seeds;
    TwinOf twins;
    const auto title = select_rung(*store, o, q, twins);
    if (o.pareto) {
        const auto groups = pareto_groups(*store, q);
        if (format == OutputFormat::Table && groups.empty()) {
            fmt::print("no scored candidates{} in '{}'\n", o.task ? fmt::format(" on task '{}'", *o.task) : "", o.db);
            return;
        }
        fmt::print("{}", render_pareto(groups, format));
        return;
    }
    const auto rows = store->leaderboard(q);

    if (format == OutputFormat::Table && rows.empty()) {
        fmt::print("no candidates with at least {} ok seed{}{}{} in '{}'\n", o.min_seeds, o.min_seeds == 1 ? "" : "s",
                   q.task ? fmt::format(" on task '{}'", *q.task) : "", title ? fmt::format(" in {}", *title) : o.run ? fmt::format(" in run {}", *o.run) : "",
                   o.db);
        return;
    }
    if (format == OutputFormat::Table && title) fmt::print("{}\n", *title);
    fmt::print("{}", render_leaderboard(rows, format, twins));
    // Rows whose evaluations come from several engines: said beside the table (on stderr for the
    // machine-readable formats, which stay as they are).
    if (const std::string note = mixed_engines_note(engines_of_rows(*store, rows, q.run)); !note.empty())
        fmt::print(format == OutputFormat::Table ? stdout : stderr, "{}\n", note);
}

}  // namespace

void add_leaderboard_command(CLI::App& app) {
    auto opts = std::make_shared<LeaderboardOptions>();
    CLI::App* cmd = app.add_subcommand(
        "leaderboard", "Candidates ranked by mean validation accuracy over seeds (equivalent expressions share a row)");
    cmd->add_option("--db", opts->db, "Results database")->capture_default_str();
    cmd->add_option("--task", opts->task, "Rank this task only (a search's screen or promotion task)");
    int_range(cmd->add_option("--run", opts->run, "Only evaluations made by this run"), 1,
              std::numeric_limits<std::int64_t>::max());
    cmd->add_option("--fidelity", opts->fidelity, "Only this fidelity (as stored, e.g. 'steps=400 width=128 ...')");
    int_range(cmd->add_option("--rung", opts->rung,
                              "Rung K of --run's ladder (default run: the latest search): the candidates that "
                              "finished it, on its task and fidelity. Without --rung, --all, --task or --fidelity the "
                              "highest rung of that run is shown"),
              1, 64);
    cmd->add_flag("--all", opts->all, "Every task and fidelity (of --run, if given) instead of a search's highest rung");
    int_range(cmd->add_option("--top", opts->top, "Rows to show (0: all)")->capture_default_str(), 0, limits::kTop);
    int_range(cmd->add_option("--min-seeds", opts->min_seeds, "Only candidates with at least this many ok seeds")
                  ->capture_default_str(),
              0, limits::kSeeds);
    add_format_option(cmd, opts->format);
    cmd->add_flag("--pareto", opts->pareto,
                  "The non-dominated candidates on (score, cost) per task and fidelity, cheapest first (--top ignored)");
    cmd->callback([opts] { run_leaderboard(*opts); });
}

}  // namespace actsearch::cli
