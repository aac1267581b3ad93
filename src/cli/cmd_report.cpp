// actsearch report: one self-contained HTML page about a database's searches (report_html.hpp).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/chrono.h>
#include <fmt/core.h>

#include "actsearch/grammar/parse.hpp"
#include "candidate_ref.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "function_plot.hpp"
#include "report_html.hpp"

namespace actsearch::cli {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kPoints = 400;
constexpr std::size_t kMaxLabel = 70;

struct ReportOptions {
    std::string db = kDefaultDb;
    std::optional<std::int64_t> run;
    std::string output = "report.html";
    int top = 20;
    int plot_top = 5;
};

std::string shorten(std::string label) {
    if (label.size() > kMaxLabel) label = label.substr(0, kMaxLabel - 3) + "...";
    return label;
}

std::string functions_svg(const Leaderboard& board, int n) {
    Plot plot = function_plot(
        fmt::format("the top {} on {}", std::min<std::size_t>(board.rows.size(), std::size_t(n)), board.task), kPoints);
    int rank = 0;
    for (const auto& row : board.rows) {
        if (rank == n) break;
        ++rank;
        const auto parsed = parse(row.expr);
        if (!parsed.ok()) continue;   // stored by another version's grammar: leave it out of the plot
        add_function(plot, shorten(fmt::format("#{} {}  ({:.4f})", rank, row.expr, row.mean)), parsed.expr());
    }
    if (plot.panels[0].series.empty()) return {};
    add_reference_functions(plot);
    return render_svg(plot);
}

// One panel of best-so-far curves over trained candidates 1..longest; a shorter curve ends where its run did.
std::string progress_svg(const std::string& title, const std::vector<std::pair<std::string, std::vector<double>>>& curves) {
    std::size_t longest = 0;
    for (const auto& c : curves) longest = std::max(longest, c.second.size());
    if (longest == 0) return {};
    Plot plot;
    plot.title = title;
    for (std::size_t i = 1; i <= longest; ++i) plot.x.push_back(double(i));
    plot.panels = {Panel{"best mean val_acc so far, against trained candidates", {}, 0}};
    for (const auto& [label, y] : curves) {
        std::vector<double> padded = y;
        padded.resize(longest, kNaN);
        plot.panels[0].series.push_back({shorten(label), std::move(padded), false});
    }
    return render_svg(plot);
}

// Per candidate count, the median over the runs that got that far.
std::vector<double> median_curve(const std::vector<const std::vector<double>*>& runs) {
    std::vector<double> out;
    for (std::size_t i = 0;; ++i) {
        std::vector<double> at;
        for (const auto* r : runs)
            if (i < r->size()) at.push_back((*r)[i]);
        if (at.empty()) return out;
        std::sort(at.begin(), at.end());
        const std::size_t m = at.size() / 2;
        out.push_back(at.size() % 2 ? at[m] : 0.5 * (at[m - 1] + at[m]));
    }
}

std::vector<Leaderboard> leaderboards(db::Store& store, const ReportOptions& o) {
    db::LeaderboardQuery q;
    q.run = o.run;
    q.top = 0;
    std::vector<Leaderboard> boards;
    std::map<std::pair<std::string, std::string>, std::size_t> index;
    for (auto& row : store.leaderboard(q)) {   // best first across all tasks: each board keeps that order
        auto [it, added] = index.try_emplace({row.task, row.fidelity}, boards.size());
        if (added) boards.push_back({row.task, row.fidelity, {}, 0});
        Leaderboard& b = boards[it->second];
        ++b.candidates;
        if (o.top <= 0 || b.rows.size() < std::size_t(o.top)) b.rows.push_back(std::move(row));
    }
    // The board with the most candidates first (the screening task of a search), then by name.
    std::stable_sort(boards.begin(), boards.end(), [](const Leaderboard& a, const Leaderboard& b) {
        return a.candidates != b.candidates ? a.candidates > b.candidates
                                            : std::tie(a.task, a.fidelity) < std::tie(b.task, b.fidelity);
    });
    return boards;
}

void run_report(const ReportOptions& o) {
    check_output_folder(o.output);
    auto store = open_for_reading(o.db);

    ReportData d;
    d.title = std::filesystem::path(o.db).filename().string();
    d.db_path = o.db;
    d.generated = fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(std::time(nullptr)));
    d.version = version();
    d.only_run = o.run;
    for (auto& r : store->list_runs())
        if (!o.run || r.id == *o.run) d.runs.push_back(std::move(r));
    if (o.run && d.runs.empty()) throw UsageError(fmt::format("no run {} in '{}'", *o.run, o.db));

    std::vector<std::pair<std::string, std::vector<double>>> curves;
    std::map<std::string, std::vector<const std::vector<double>*>> by_strategy;
    for (const auto& r : d.runs) {
        const auto evaluations = store->evaluations_of_run(r.id);
        d.outcomes[r.id] = count_outcomes(evaluations);
        curves.emplace_back(fmt::format("run {} ({}, {})", r.id, r.strategy, r.task), best_so_far(r, evaluations));
    }
    for (std::size_t i = 0; i < d.runs.size(); ++i)
        if (!curves[i].second.empty()) by_strategy[d.runs[i].strategy].push_back(&curves[i].second);
    d.progress_svg = progress_svg("best so far, per run", curves);
    std::vector<std::pair<std::string, std::vector<double>>> medians;
    bool repeated = false;
    for (const auto& [strategy, runs] : by_strategy) {
        repeated = repeated || runs.size() > 1;
        medians.emplace_back(fmt::format("{} (median of {} run{})", strategy, runs.size(), runs.size() == 1 ? "" : "s"),
                             median_curve(runs));
    }
    if (repeated) d.strategy_svg = progress_svg("best so far, median per strategy", medians);

    d.leaderboards = leaderboards(*store, o);
    if (!d.leaderboards.empty() && o.plot_top > 0) {
        const Leaderboard& b = d.leaderboards.front();
        d.functions_caption = fmt::format("f(x) and f'(x) over [-6, 6] of the top {} on {} ({}), trainable betas at "
                                          "1; relu and swish faint for reference.",
                                          std::min<std::size_t>(b.rows.size(), std::size_t(o.plot_top)), b.task,
                                          b.fidelity);
        d.functions_svg = functions_svg(b, o.plot_top);
    }

    write_text_file(o.output, render_report_html(d));
    fmt::print("{}\n", o.output);
}

}  // namespace

void add_report_command(CLI::App& app) {
    auto opts = std::make_shared<ReportOptions>();
    CLI::App* cmd = app.add_subcommand(
        "report", "Write one self-contained HTML page about a database: runs and their configuration, leaderboards "
                  "with 95% intervals, the best functions, best-so-far curves, diverged/invalid shares");
    cmd->add_option("--db", opts->db, "Results database")->capture_default_str();
    cmd->add_option("--run", opts->run, "Only this run (its evaluations and leaderboard)")->check(CLI::PositiveNumber);
    cmd->add_option("-o,--output", opts->output, "HTML file to write")->capture_default_str();
    cmd->add_option("--top", opts->top, "Rows per leaderboard (0: all)")->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--plot-top", opts->plot_top, "Functions plotted from the first leaderboard (0: none)")
        ->capture_default_str()
        ->check(CLI::Range(0, 20));
    cmd->callback([opts] { run_report(*opts); });
}

}  // namespace actsearch::cli
