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
#include "svg_plot.hpp"

namespace actsearch::cli {
namespace {

constexpr std::size_t kPoints = 600;
constexpr double kXMin = -6.0, kXMax = 6.0;
constexpr std::size_t kMaxFunctions = 20;
constexpr std::size_t kMaxLabel = 70;

struct PlotOptions {
    std::vector<std::string> exprs;
    std::vector<std::int64_t> ids;
    std::vector<std::string> ranks;
    int top = 0;
    std::string db = kDefaultDb;
    std::optional<std::string> task;
    std::optional<std::int64_t> run;
    int min_seeds = 1;
    std::string output = "plot.svg";
};

struct Curves {
    std::vector<double> f, df;
};

// f and df/dx in single precision, as the networks see them; trainable betas at 1.
Curves evaluate(const Expr& e, const std::vector<float>& xs) {
    const Program program(e);
    const std::vector<float> betas(static_cast<std::size_t>(program.beta_count()), 1.0f);
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
    std::vector<std::string> rank_specs = o.ranks;
    if (o.top > 0) rank_specs.push_back(fmt::format("1-{}", o.top));
    const std::vector<int> ranks = parse_rank_specs(rank_specs);
    if (o.exprs.empty() && o.ids.empty() && ranks.empty())
        throw UsageError("nothing to plot: give expressions, --id ID, --rank N or --top N");
    const std::filesystem::path out(o.output);
    if (const auto dir = out.parent_path(); !dir.empty() && !std::filesystem::is_directory(dir))
        throw UsageError(fmt::format("cannot write '{}': directory '{}' does not exist", o.output, dir.string()));

    std::unique_ptr<db::Store> store;
    if (!o.ids.empty() || !ranks.empty()) store = open_for_reading(o.db);
    std::vector<CandidateTarget> targets;
    for (const std::string& e : o.exprs) targets.push_back(target_from_expression(e, nullptr));
    for (std::int64_t id : o.ids) targets.push_back(target_from_id(*store, id));
    if (!ranks.empty()) {
        db::LeaderboardQuery q;
        q.task = o.task;
        q.run = o.run;
        q.min_seeds = o.min_seeds;
        for (CandidateTarget& t : targets_from_ranks(*store, ranks, q)) targets.push_back(std::move(t));
    }
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
        "plot", "Plot activations and their derivatives over [-6, 6] as an SVG (betas at 1; relu and swish faint "
                "for reference)");
    cmd->add_option("expr", opts->exprs, "Expressions to plot (no database needed)");
    cmd->add_option("--id", opts->ids, "Stored candidate ids")->check(CLI::PositiveNumber);
    cmd->add_option("--rank", opts->ranks, "Leaderboard ranks: N or a range A-B");
    cmd->add_option("--top", opts->top, "The top N of the leaderboard")->check(CLI::NonNegativeNumber);
    cmd->add_option("--db", opts->db, "Results database")->capture_default_str();
    cmd->add_option("--task", opts->task, "Rank on this task only");
    cmd->add_option("--run", opts->run, "Rank on this run's evaluations only")->check(CLI::PositiveNumber);
    cmd->add_option("--min-seeds", opts->min_seeds, "Rank only candidates with this many ok seeds")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("-o,--output", opts->output, "SVG file to write")->capture_default_str();
    cmd->callback([opts] { run_plot(*opts); });
}

}  // namespace actsearch::cli
