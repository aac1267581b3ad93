// actsearch plot: f and f' of some activations over [-6, 6], as an SVG, with relu and swish for scale.
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "candidate_ref.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "function_plot.hpp"
#include "pareto_report.hpp"

namespace actsearch::cli {
namespace {

constexpr std::size_t kPoints = 600;
constexpr std::size_t kMaxFunctions = 20;
constexpr std::size_t kMaxLabel = 70;

struct PlotOptions {
    CandidateSelection selection;
    std::string output = "plot.svg";
    bool pareto = false;
    std::optional<std::string> fidelity;   // --pareto only
};

// plot --pareto: score against cost for one (task, fidelity) of the database.
void run_pareto_plot(const PlotOptions& o) {
    const CandidateSelection& s = o.selection;
    if (!s.exprs.empty() || !s.ids.empty() || !s.ranks.empty() || s.top > 0)
        throw UsageError("--pareto plots the whole leaderboard: give --db/--task/--fidelity/--run, not candidates");
    auto store = open_for_reading(s.db);
    db::LeaderboardQuery q;
    q.task = s.task;
    q.run = s.run;
    q.fidelity = o.fidelity;
    q.min_seeds = s.min_seeds;
    const auto groups = pareto_groups(*store, q);
    if (groups.empty()) throw UsageError(fmt::format("no scored candidates to plot in '{}'", s.db));
    if (groups.size() > 1)
        throw UsageError(fmt::format("{} task/fidelity pairs in '{}' (e.g. task {}, fidelity '{}'): choose one with "
                                     "--task and --fidelity",
                                     groups.size(), s.db, groups[0].task, groups[0].fidelity));
    write_text_file(o.output, render_pareto_svg(groups[0]));
    fmt::print("{}\n", o.output);
}

std::string label_for(const CandidateTarget& t) {
    std::string label = t.rank > 0 ? fmt::format("#{} {}", t.rank, t.text)
                        : t.stored   ? fmt::format("[{}] {}", t.stored->id, t.text)
                                     : t.text;
    if (t.row) label += fmt::format("  ({:.4f})", t.row->mean);
    if (label.size() > kMaxLabel) label = label.substr(0, kMaxLabel - 3) + "...";
    return label;
}

void run_plot(const PlotOptions& o) {
    check_output_folder(o.output);

    if (o.pareto) return run_pareto_plot(o);
    std::unique_ptr<db::Store> store;
    const std::vector<CandidateTarget> targets = select_targets(o.selection, store, false, "plot");
    if (targets.size() > kMaxFunctions)
        throw UsageError(fmt::format("{} functions would not be readable on one plot (at most {})", targets.size(),
                                     kMaxFunctions));

    Plot plot = function_plot(
        targets.size() == 1 ? label_for(targets[0]) : fmt::format("{} activation functions", targets.size()), kPoints);
    for (const CandidateTarget& t : targets) add_function(plot, label_for(t), t.expr);
    add_reference_functions(plot);
    write_text_file(o.output, render_svg(plot));
    fmt::print("{}\n", o.output);
}

}  // namespace

void add_plot_command(CLI::App& app) {
    auto opts = std::make_shared<PlotOptions>();
    CLI::App* cmd = app.add_subcommand(
        "plot", "Plot activations and their derivatives over [-6, 6] as an SVG (betas at their initial values; relu "
                "and swish faint "
                "for reference); with nothing selected, the top 5 of the leaderboard");
    opts->selection.default_top = 5;
    add_selection_options(cmd, opts->selection);
    cmd->add_option("-o,--output", opts->output, "SVG file to write")->capture_default_str();
    cmd->add_flag("--pareto", opts->pareto,
                  "Score against cost (log scale) of every scored candidate, the Pareto front highlighted");
    cmd->add_option("--fidelity", opts->fidelity, "With --pareto: only this fidelity (as stored)");
    cmd->callback([opts] { run_plot(*opts); });
}

}  // namespace actsearch::cli
