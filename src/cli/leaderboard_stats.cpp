#include "leaderboard_stats.hpp"

#include <cmath>
#include <map>
#include <string>
#include <utility>


namespace actsearch::cli {

Tie tie_with_best(const Sample& row, const Sample& best, double alpha) {
    if (row.n < 1 || !std::isfinite(row.mean)) return Tie::No;
    const auto w = stats::welch_test(row, best);
    if (!w) return Tie::Unknown;
    return w->p >= alpha ? Tie::Yes : Tie::No;
}

std::vector<RowStats> leaderboard_stats(const std::vector<db::LeaderboardRow>& rows) {
    auto sample = [](const db::LeaderboardRow& r) { return Sample{r.mean, r.stddev, r.n_ok}; };
    std::map<std::pair<std::string, std::string>, std::size_t> best;   // (task, fidelity) -> row index
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (rows[i].n_ok > 0 && std::isfinite(rows[i].mean)) best.try_emplace({rows[i].task, rows[i].fidelity}, i);
    std::vector<RowStats> out(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const db::LeaderboardRow& r = rows[i];
        out[i].ci = mean_interval(r.mean, r.stddev, r.n_ok);
        const auto b = best.find({r.task, r.fidelity});
        if (b == best.end())
            out[i].tie = Tie::No;   // no ok evaluation in this group at all
        else if (b->second == i)
            out[i].tie = Tie::Best;
        else
            out[i].tie = tie_with_best(sample(r), sample(rows[b->second]));
    }
    return out;
}

}  // namespace actsearch::cli
