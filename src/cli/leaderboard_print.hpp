#pragma once

#include <string>
#include <vector>

#include "actsearch/db/store.hpp"
#include "table_format.hpp"

namespace actsearch::cli {

// The leaderboard as an aligned table (task and fidelity shown only when they vary, as a caption
// otherwise), CSV or JSON; rows as Store::leaderboard returns them, best first.
std::string render_leaderboard(const std::vector<db::LeaderboardRow>& rows, OutputFormat format);

// The aligned table on stdout, under a title (the end of a search).
void print_leaderboard(const std::vector<db::LeaderboardRow>& rows, const std::string& title);

}  // namespace actsearch::cli
