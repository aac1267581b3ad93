// The end of `actsearch search`: what the session did, one leaderboard per rung, and the hardened twins
// (--harden-top) beside their origins with score and cost.
#include <optional>
#include <string>

#include <fmt/format.h>

#include "cli_util.hpp"
#include "leaderboard_print.hpp"
#include "progress.hpp"
#include "search_driver.hpp"

namespace actsearch::cli {
namespace {

// Mean score (and seeds) of a candidate's group on a task and fidelity; nullopt when none trained.
std::optional<db::LeaderboardRow> score_of(db::Store& store, std::int64_t candidate, const driver::Scorer& sc) {
    db::LeaderboardQuery q;
    q.task = sc.task;
    q.fidelity = sc.fidelity;
    q.candidate = candidate;
    q.top = 1;
    q.min_seeds = 1;
    const auto rows = store.leaderboard(q);
    if (rows.empty()) return std::nullopt;
    return rows.front();
}

std::string score_text(const std::optional<db::LeaderboardRow>& r) {
    return r ? fmt::format("{:.4f} ({})", r->mean, r->seeds) : std::string("-");
}

void print_twins(db::Store& store, const driver::SearchSpec& spec, const driver::Outcome& out) {
    if (out.twins.empty()) return;
    const driver::Scorer& sc = spec.rungs.back().scorer;
    fmt::print("\nhardened twins of the best {} on {} (score: mean over seeds (seeds); cost relative to relu = 1; "
               "max error on [-6, 6])\n",
               spec.cost.harden_top, sc.task);
    fmt::print("{:>15}  {:>6}  {:>8}  {:<36}  {}\n", "score", "cost", "max err", "method", "expression");
    std::int64_t origin = 0;
    for (const driver::HardenedTwin& t : out.twins) {
        if (t.origin != origin) {
            origin = t.origin;
            const auto row = store.candidate(origin);
            fmt::print("{:>15}  {:>6.2f}  {:>8}  {:<36}  {}\n", score_text(score_of(store, origin, sc)), t.origin_cost,
                       "", "origin", row ? row->expr : "?");
        }
        const auto row = store.candidate(t.twin);
        const std::string method = t.method.size() > 36 ? t.method.substr(0, 33) + "..." : t.method;
        fmt::print("{:>15}  {:>6.2f}  {:>8.4f}  {:<36}  {}\n", score_text(score_of(store, t.twin, sc)), t.cost,
                   t.max_error, method, row ? row->expr : "?");
    }
}

}  // namespace

void print_search_summary(db::Store& store, const SearchConfig& cfg, const driver::SearchSpec& spec,
                          const driver::Outcome& out) {
    const auto& p = out.progress;
    // The screen's counts as before; the evaluations of the rungs above it after them.
    const std::size_t screened = p.rungs[0].jobs, upper = p.trained_now - screened - p.twin_jobs;
    fmt::print("run {} {}: {} trained this session ({} in the run), {} reused, {} invalid{}, {} rounds, {}{}{}{}\n",
               out.run, out.interrupted ? "interrupted" : (out.exhausted ? "finished (space exhausted)" : "finished"),
               screened, p.trained, p.reused, p.invalid,
               p.over_budget ? fmt::format(", {} over --max-cost (not trained)", p.over_budget) : "", p.rounds,
               format_seconds(p.elapsed),
               screened > 0 ? fmt::format(", {:.1f} trained/min", 60.0 * double(screened) / p.elapsed) : "",
               upper > 0 ? fmt::format("; {} evaluations on the rungs above", upper) : "",
               p.twin_jobs > 0 ? fmt::format("; {} evaluations of hardened twins", p.twin_jobs) : "");
    if (out.interrupted) fmt::print("resume with: the same command again (or --resume {})\n", out.run);
    if (spec.cost.weight != 0)
        fmt::print("the strategy and the promotions saw score * (cost / {})^{} (the leaderboards show the score)\n",
                   spec.cost.target, spec.cost.weight);
    // One leaderboard per rung, the highest last: each lists the candidates that finished that rung.
    const auto rungs = driver::rungs_of_run(store, out.run);
    for (std::size_t r = 0; r < rungs.size(); ++r)
        print_leaderboard(store.leaderboard(rung_query(rungs[r], out.run, cfg.top)), rung_title(rungs, r, out.run, cfg.top),
                          rungs[r].twins);
    print_twins(store, spec, out);
}

}  // namespace actsearch::cli
