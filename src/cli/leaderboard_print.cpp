#include "leaderboard_print.hpp"

#include <fmt/format.h>

namespace actsearch::cli {

void print_leaderboard(const std::vector<db::LeaderboardRow>& rows, const std::string& title) {
    fmt::print("\n{}\n", title);
    if (rows.empty()) {
        fmt::print("  (no scored candidates)\n");
        return;
    }
    fmt::print("{:>4}  {:>7}  {:>7}  {:>5}  {:>6}  {}\n", "rank", "mean", "std", "seeds", "id", "expression");
    int rank = 0;
    for (const auto& r : rows)
        fmt::print("{:>4}  {:>7.4f}  {:>7.4f}  {:>5}  {:>6}  {}{}\n", ++rank, r.mean, r.stddev, r.seeds, r.candidate,
                   r.expr, r.equivalents > 0 ? fmt::format("  (+{} equivalent)", r.equivalents) : "");
}

}  // namespace actsearch::cli
