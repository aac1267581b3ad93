// The leaderboard as `actsearch leaderboard` and the end of a search show it: mean, std, seeds, the
// 95% confidence interval of the mean and a `tie` column marking the candidates that Welch's t-test
// cannot tell from the best of their task and fidelity (leaderboard_stats.hpp).
#pragma once

#include <string>
#include <vector>

#include "actsearch/db/store.hpp"
#include "table_format.hpp"

namespace actsearch::cli {

// The leaderboard as an aligned table (task and fidelity shown only when they vary, as a caption
// otherwise; a legend of the statistics below), CSV or JSON (the same fields: ci_low, ci_high, tie);
// rows as Store::leaderboard returns them, best first.
std::string render_leaderboard(const std::vector<db::LeaderboardRow>& rows, OutputFormat format);

// The aligned table on stdout, under a title (the end of a search).
void print_leaderboard(const std::vector<db::LeaderboardRow>& rows, const std::string& title);

}  // namespace actsearch::cli
