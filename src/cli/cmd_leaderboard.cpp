// actsearch leaderboard: candidates ranked by mean validation accuracy over seeds.
#include <optional>
#include <set>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "candidate_ref.hpp"
#include "commands.hpp"
#include "table_format.hpp"

namespace actsearch::cli {
namespace {

struct LeaderboardOptions {
    std::string db = kDefaultDb;
    std::optional<std::string> task;
    std::optional<std::int64_t> run;
    std::optional<std::string> fidelity;
    int top = 20;
    int min_seeds = 1;
    std::string format = "table";
};

void run_leaderboard(const LeaderboardOptions& o) {
    const OutputFormat format = output_format_from(o.format);
    auto store = open_for_reading(o.db);
    db::LeaderboardQuery q;
    q.task = o.task;
    q.run = o.run;
    q.fidelity = o.fidelity;
    q.top = o.top;
    q.min_seeds = o.min_seeds;
    const auto rows = store->leaderboard(q);

    if (format == OutputFormat::Table && rows.empty()) {
        fmt::print("no candidates with at least {} ok seed{}{}{} in '{}'\n", o.min_seeds, o.min_seeds == 1 ? "" : "s",
                   o.task ? fmt::format(" on task '{}'", *o.task) : "", o.run ? fmt::format(" in run {}", *o.run) : "",
                   o.db);
        return;
    }
    // In the aligned table, task and fidelity (a long text) are shown only when they vary.
    std::set<std::string> tasks, fidelities;
    for (const auto& r : rows) {
        tasks.insert(r.task);
        fidelities.insert(r.fidelity);
    }
    const bool machine = format != OutputFormat::Table;
    const bool show_task = machine || tasks.size() > 1;
    const bool show_fidelity = machine || fidelities.size() > 1;

    Table t;
    t.columns = {{"rank", Align::Right}, {"mean", Align::Right, 4}, {"std", Align::Right, 4},
                 {"seeds", Align::Right}, {"ok", Align::Right},     {"diverged", Align::Right},
                 {"invalid", Align::Right}, {"other", Align::Right}};
    if (show_task) t.columns.push_back({"task"});
    if (show_fidelity) t.columns.push_back({"fidelity"});
    t.columns.push_back({"id", Align::Right});
    if (machine) {
        t.columns.push_back({"best_run", Align::Right});
        t.columns.push_back({"equivalents", Align::Right});
    }
    t.columns.push_back({"expression"});

    std::int64_t rank = 0;
    for (const auto& r : rows) {
        std::vector<Cell> row;
        row.reserve(t.columns.size());
        row.emplace_back(++rank);
        row.emplace_back(r.mean);
        row.push_back(r.n_ok > 0 ? Cell{r.stddev} : Cell{});
        for (std::int64_t v : {r.seeds, r.n_ok, r.n_diverged, r.n_invalid, r.n_other}) row.emplace_back(v);
        if (show_task) row.emplace_back(r.task);
        if (show_fidelity) row.emplace_back(r.fidelity);
        row.emplace_back(r.candidate);
        if (machine) {
            row.push_back(r.best_run > 0 ? Cell{r.best_run} : Cell{});
            row.emplace_back(r.equivalents);
            row.emplace_back(r.expr);
        } else {
            row.emplace_back(r.equivalents > 0 ? fmt::format("{}  (+{} equivalent{})", r.expr, r.equivalents, r.equivalents == 1 ? "" : "s") : r.expr);
        }
        t.add_row(std::move(row));
    }
    std::string text = render(t, format);
    if (format == OutputFormat::Table && (!show_task || !show_fidelity)) {
        std::string caption = !show_task ? "task " + rows.front().task : "";
        if (!show_fidelity) caption += (caption.empty() ? "fidelity " : ", fidelity ") + rows.front().fidelity;
        text = caption + "\n" + text;
    }
    fmt::print("{}", text);
}

}  // namespace

void add_leaderboard_command(CLI::App& app) {
    auto opts = std::make_shared<LeaderboardOptions>();
    CLI::App* cmd = app.add_subcommand(
        "leaderboard", "Candidates ranked by mean validation accuracy over seeds (equivalent expressions share a row)");
    cmd->add_option("--db", opts->db, "Results database")->capture_default_str();
    cmd->add_option("--task", opts->task, "Only this task");
    cmd->add_option("--run", opts->run, "Only evaluations made by this run")->check(CLI::PositiveNumber);
    cmd->add_option("--fidelity", opts->fidelity, "Only this fidelity (as stored, e.g. 'steps=400 width=128 ...')");
    cmd->add_option("--top", opts->top, "Rows to show (0: all)")->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--min-seeds", opts->min_seeds, "Only candidates with at least this many ok seeds")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--format", opts->format, "table, csv or json")->capture_default_str();
    cmd->callback([opts] { run_leaderboard(*opts); });
}

}  // namespace actsearch::cli
