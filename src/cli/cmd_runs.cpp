// actsearch runs: the searches and evaluations recorded in a database.
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "candidate_ref.hpp"
#include "commands.hpp"
#include "table_format.hpp"

namespace actsearch::cli {
namespace {

struct RunsOptions {
    std::string db = kDefaultDb;
    std::string format = "table";
};

void run_runs(const RunsOptions& o) {
    const OutputFormat format = output_format_from(o.format);
    auto store = open_for_reading(o.db);
    const auto runs = store->list_runs();

    Table t;
    t.columns = {{"id", Align::Right},   {"status"},   {"strategy"}, {"space"},  {"task"},
                 {"seed", Align::Right}, {"created"},  {"finished"}, {"evaluations", Align::Right},
                 {"best", Align::Right, 4}};
    if (format != OutputFormat::Table) t.columns.push_back({"config"});
    for (const db::RunInfo& r : runs) {
        std::vector<Cell> row = {r.id,   r.status, r.strategy, r.space,
                                 r.task, r.seed,   r.created,  r.finished.empty() ? Cell{} : Cell{r.finished},
                                 r.evaluations,
                                 r.best_score ? Cell{*r.best_score} : Cell{}};
        if (format != OutputFormat::Table) row.emplace_back(r.config_json);
        t.add_row(std::move(row));
    }
    if (format == OutputFormat::Table && runs.empty()) {
        fmt::print("no runs in '{}'\n", o.db);
        return;
    }
    fmt::print("{}", render(t, format));
}

}  // namespace

void add_runs_command(CLI::App& app) {
    auto opts = std::make_shared<RunsOptions>();
    CLI::App* cmd = app.add_subcommand(
        "runs", "List the runs in a database: status, strategy, space, task, evaluation count and best mean score");
    cmd->add_option("--db", opts->db, "Results database")->capture_default_str();
    cmd->add_option("--format", opts->format, "table, csv or json")->capture_default_str();
    cmd->callback([opts] { run_runs(*opts); });
}

}  // namespace actsearch::cli
