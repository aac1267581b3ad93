// actsearch runs: the searches and evaluations recorded in a database.
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cli_util.hpp"
#include "commands.hpp"
#include "config_file.hpp"
#include "table_format.hpp"

namespace actsearch::cli {
namespace {

struct RunsOptions {
    std::string db = kDefaultDb;
    std::string format = "table";
    std::optional<std::int64_t> show;
};

void run_runs(const RunsOptions& o) {
    if (o.show) {   // one run's configuration as a file for `search --config` (config_file.hpp)
        if (o.format != "toml" && o.format != "table") throw UsageError("runs --show prints a TOML file: --format toml");
        auto store = open_store(o.db, /*read_only=*/true);
        fmt::print("{}", run_config_toml(*store, *o.show));
        return;
    }
    if (o.format == "toml") throw UsageError("--format toml prints one run's configuration: give --show RUN");
    const OutputFormat format = output_format_from(o.format);
    auto store = open_store(o.db, /*read_only=*/true);
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
    if (format != OutputFormat::Json) {
        fmt::print("{}", render(t, format));
        return;
    }
    // The configuration is a JSON document itself: an object in JSON output (text in CSV), or the
    // stored text if it does not parse.
    Json rows = to_json(t);
    for (Json& row : rows) {
        const std::string text = row["config"].get<std::string>();
        Json config = Json::parse(text, nullptr, /*allow_exceptions=*/false);
        row["config"] = config.is_discarded() ? Json(text) : std::move(config);
    }
    fmt::print("{}", render_json(rows));
}

}  // namespace

void add_runs_command(CLI::App& app) {
    auto opts = std::make_shared<RunsOptions>();
    CLI::App* cmd = app.add_subcommand(
        "runs", "List the runs in a database: status, strategy, space, task, evaluation count and best mean score");
    cmd->add_option("--db", opts->db, "Results database")->capture_default_str();
    // As add_format_option (table_format.hpp), plus toml for --show (config_file.hpp).
    CLI::Option* format = cmd->add_option("--format", opts->format, "table, csv or json (config as an object); toml "
                                                                    "with --show")
                              ->capture_default_str()
                              ->check(CLI::IsMember({"table", "csv", "json", "toml"}));
    cmd->add_flag_callback("--json", [opts] { opts->format = "json"; }, "Same as --format json")->excludes(format);
    cmd->add_option("--show", opts->show, "Print this run's configuration as a file for search --config")
        ->check(CLI::PositiveNumber);
    cmd->callback([opts] { run_runs(*opts); });
}

}  // namespace actsearch::cli
