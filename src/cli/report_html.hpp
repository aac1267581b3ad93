// `actsearch report`: one self-contained HTML page about the searches in a database (runs and their
// configuration, leaderboards with 95% intervals, plots of the best functions, best-so-far curves,
// outcome shares). Everything is inline (CSS, SVG, a few lines of JavaScript to sort tables): the page
// reads offline and can be attached to an e-mail.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actsearch/db/store.hpp"

namespace actsearch::cli {

// Text for HTML element content or a double-quoted attribute value: & < > " ' escaped.
std::string html_escape(std::string_view text);

// Counts of a run's evaluations by status.
struct OutcomeCounts {
    std::int64_t ok = 0, diverged = 0, invalid = 0, other = 0;
    std::int64_t total() const { return ok + diverged + invalid + other; }
};
OutcomeCounts count_outcomes(const std::vector<db::EvaluationRecord>& evaluations);

// The best mean val_acc so far after each candidate a run trained on its screening task (and fidelity:
// that of its first evaluation on the task), candidates in the order of their first stored evaluation,
// each scored by the mean over its ok seeds (0 when none trained: diverged or failed). Empty when the run
// trained none.
std::vector<double> best_so_far(const db::RunInfo& run, const std::vector<db::EvaluationRecord>& evaluations);

struct Leaderboard {
    std::string task, fidelity;
    std::vector<db::LeaderboardRow> rows;   // best first, already cut to the top
    std::int64_t candidates = 0;            // how many candidates have a score there in all
};

struct ReportData {
    std::string title;                      // e.g. the database's file name
    std::string db_path;
    std::string generated;                  // when, ISO-8601 UTC
    std::string version;                    // actsearch's
    std::optional<std::int64_t> only_run;   // --run
    std::vector<db::RunInfo> runs;
    std::map<std::int64_t, OutcomeCounts> outcomes;   // per run
    std::vector<Leaderboard> leaderboards;
    std::string functions_caption;          // which leaderboard the plotted functions come from
    std::string functions_svg;              // f and f' of its top N (empty: nothing to plot)
    std::string progress_svg;               // best so far per run (empty: no run trained anything)
    std::string strategy_svg;               // best so far, median over runs per strategy (empty: not drawn)
};

// The whole page. Every text from the database goes through html_escape; SVG documents are embedded
// with their element ids made unique.
std::string render_report_html(const ReportData& data);

// Prefixes every id="..." and url(#...) reference in an SVG document, so that several SVGs can share
// one HTML page (each render_svg output uses the same clip-path ids).
std::string prefix_svg_ids(const std::string& svg, const std::string& prefix);

}  // namespace actsearch::cli
