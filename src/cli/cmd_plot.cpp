// actsearch plot: f and f' of some activations over [-6, 6], as an SVG, with relu and swish for scale.
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "actsearch/grammar/program.hpp"
#include "candidate_ref.hpp"
#include "commands.hpp"
#include "pareto_report.hpp"
#include "svg_plot.hpp"

namespace actsearch::cli {
namespace {

constexpr std::size_t kPoints = 600;
constexpr double kXMin = -6.0, kXMax = 6.0;
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
    std::ofstream file(o.output, std::ios::binary);
    file << render_pareto_svg(groups[0]);
    file.close();
    if (!file) throw std::runtime_error(fmt::format("cannot write '{}'", o.output));
    fmt::print("{}\n", o.output);
}

struct Curves {
    std::vector<double> f, df;
};

// f and df/dx in single precision, as the networks see them; trainable betas at their initial values.
Curves evaluate(const Expr& e, const std::vector<float>& xs) {
    const Program program(e);
    const std::vector<float>& betas = program.beta_initial_values();
    std::vector<float> dbeta(betas.size(), 0.0f);
    std::vector<float> y(xs.size()), dx(xs.size());
    const std::vector<float> ones(xs.size(), 1.0f);
    program.eval(xs.data(), y.data(), xs.size(), betas.data());
    program.backward(xs.data(), ones.data(), dx.data(), betas.data(), dbeta.empty() ? nullptr : dbeta.data(),
                     ActShape{xs.size(), 1, 1});
    return {std::vector<double>(y.begin(), y.end()), std::vector<double>(dx.begin(), dx.end())};
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
    const std::filesystem::path out(o.output);
    if (const auto dir = out.parent_path(); !dir.empty() && !std::filesystem::is_directory(dir))
        throw UsageError(fmt::format("cannot write '{}': directory '{}' does not exist", o.output, dir.string()));

    if (o.pareto) return run_pareto_plot(o);
    std::unique_ptr<db::Store> store;
    const std::vector<CandidateTarget> targets = select_targets(o.selection, store, false, "plot");
    if (targets.size() > kMaxFunctions)
        throw UsageError(fmt::format("{} functions would not be readable on one plot (at most {})", targets.size(),
                                     kMaxFunctions));

    std::vector<float> xs(kPoints);
    Plot plot;
    for (std::size_t i = 0; i < kPoints; ++i) {
        xs[i] = static_cast<float>(kXMin + (kXMax - kXMin) * double(i) / double(kPoints - 1));
        plot.x.push_back(xs[i]);
    }
    plot.title = targets.size() == 1 ? label_for(targets[0]) : fmt::format("{} activation functions", targets.size());
    // Activations worth comparing live on the scale of x (relu reaches 6) and of slopes near 1.
    plot.panels = {Panel{"f(x)", {}, 3 * kXMax}, Panel{"f'(x)", {}, 10}};
    auto add = [&](const std::string& label, const Expr& e, bool reference) {
        Curves c = evaluate(e, xs);
        plot.panels[0].series.push_back({label, std::move(c.f), reference});
        plot.panels[1].series.push_back({label, std::move(c.df), reference});
    };
    for (const CandidateTarget& t : targets) add(label_for(t), t.expr, false);
    add("relu (reference)", make_unary(Op::Relu, make_leaf_x()), true);
    add("swish (reference)", make_unary(Op::Swish, make_leaf_x()), true);

    std::ofstream file(out, std::ios::binary);
    file << render_svg(plot);
    file.close();
    if (!file) throw std::runtime_error(fmt::format("cannot write '{}'", o.output));
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
