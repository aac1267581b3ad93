// The statistics of the noise-aware leaderboard: a confidence interval of each mean, and which
// candidates are statistically indistinguishable from the best (the tests themselves are in
// stats/include/actsearch/stats/means.hpp).
//
// Scores are validation accuracies over seeds, n values per candidate (the ok evaluations).
// - Interval: mean +- t * s / sqrt(n), with t the 97.5% quantile of Student's t with n - 1 degrees of
//   freedom (a 95% two-sided interval). With one value the spread is unknown, and so is the interval
//   (never shown as zero width).
// - Tie: Welch's unequal-variances t-test of a candidate against the best of its (task, fidelity), two-
//   sided at the 5% level. A candidate is tied with the best when the test does not reject equal means
//   (p >= 0.05). It needs two values on both sides; otherwise the tie is unknown. No correction is made
//   for comparing many candidates with the best: a tie means "these seeds cannot tell them apart", not
//   "the same function".
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "actsearch/db/store.hpp"
#include "actsearch/stats/means.hpp"

namespace actsearch::cli {

using stats::Interval;
using stats::mean_interval;
using stats::Sample;

enum class Tie { Best, Yes, No, Unknown };

// `row` against `best` (the same candidate's row gives Tie::Best, decided by the caller): Yes when
// Welch's test does not reject equal means at `alpha`, No when it does or the row has no finite mean,
// Unknown when the test cannot be made (fewer than two values on a side).
Tie tie_with_best(const Sample& row, const Sample& best, double alpha = 0.05);

struct RowStats {
    std::optional<Interval> ci;   // 95%
    Tie tie = Tie::Unknown;
};

// One entry per row, rows as Store::leaderboard returns them (best first). The best of each (task,
// fidelity) is its first row with a finite mean: rows of different tasks or fidelities are never compared.
std::vector<RowStats> leaderboard_stats(const std::vector<db::LeaderboardRow>& rows);

}  // namespace actsearch::cli
