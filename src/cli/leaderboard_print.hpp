#pragma once

#include <string>
#include <vector>

#include "actsearch/db/store.hpp"

namespace actsearch::cli {

// An aligned leaderboard on stdout, under a title.
void print_leaderboard(const std::vector<db::LeaderboardRow>& rows, const std::string& title);

}  // namespace actsearch::cli
