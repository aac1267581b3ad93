// The leaderboard as `actsearch leaderboard` and the end of a search show it: mean, std, seeds, the
// 95% confidence interval of the mean and a `tie` column marking the candidates that Welch's t-test
// cannot tell from the best of their task and fidelity (leaderboard_stats.hpp).
#pragma once

#include <string>
#include <vector>

#include "actsearch/db/store.hpp"
#include "actsearch/driver/rungs.hpp"
#include "table_format.hpp"

namespace actsearch::cli {

// The leaderboard as an aligned table (task and fidelity shown only when they vary, as a caption
// otherwise; a legend of the statistics below), CSV or JSON (the same fields: ci_low, ci_high, tie);
// rows as Store::leaderboard returns them, best first. `twin_of` (hardened twin -> its origin, as
// RungView::twins) marks the twins: "(twin of ID)" after the expression in the table, a `twin_of`
// column in CSV and JSON (only when there are twins).
using TwinOf = decltype(driver::RungView::twins);
std::string render_leaderboard(const std::vector<db::LeaderboardRow>& rows, OutputFormat format,
                               const TwinOf& twin_of = {});

// The aligned table on stdout, under a title (the end of a search).
void print_leaderboard(const std::vector<db::LeaderboardRow>& rows, const std::string& title,
                       const TwinOf& twin_of = {});

// The leaderboard of one rung of a stored search (0-based): the candidates that finished that rung,
// over all their seeds on its task and fidelity. A run saved before rung members were kept: its own
// evaluations on the rung's task and fidelity. The last rung's hardened twins (search --harden-top) are
// listed with its members.
db::LeaderboardQuery rung_query(const driver::RungView& rung, std::int64_t run, int top);

// "rung 2 of 3: top 10 on fmnist-cnn, 2 seeds, best 5% of rung 1 (run 4)", or "top 10 on fmnist-mlp
// (run 4)" for a search of one rung (top <= 0: no "top N on").
std::string rung_title(const std::vector<driver::RungView>& rungs, std::size_t rung, std::int64_t run, int top);

}  // namespace actsearch::cli
