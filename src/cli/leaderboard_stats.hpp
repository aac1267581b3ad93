// The statistics of the noise-aware leaderboard: a confidence interval of each mean, and which
// candidates are statistically indistinguishable from the best.
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

namespace actsearch::cli {

// The t with P(|T| <= t) = level for Student's t with df degrees of freedom (df > 0, 0 < level < 1);
// e.g. t_critical(4) = 2.776 for a 95% interval of five values.
double t_critical(double df, double level = 0.95);

// Two-sided p-value of a t statistic with df degrees of freedom: P(|T| >= |t|).
double t_two_sided_p(double t, double df);

struct Interval {
    double low = 0, high = 0;
};

// mean +- t_critical(n - 1, level) * stddev / sqrt(n), stddev being the sample one (n - 1); nullopt
// when n < 2 or an input is not finite.
std::optional<Interval> mean_interval(double mean, double stddev, std::int64_t n, double level = 0.95);

// A mean over n values with sample standard deviation stddev.
struct Sample {
    double mean = 0, stddev = 0;
    std::int64_t n = 0;
};

struct WelchTest {
    double t = 0;    // (a.mean - b.mean) / sqrt(a.s^2/a.n + b.s^2/b.n)
    double df = 0;   // Welch-Satterthwaite degrees of freedom
    double p = 1;    // two-sided
};

// Welch's t-test of equal means; nullopt when a side has fewer than two values or a value is not finite.
// Both spreads zero: p = 1 for equal means, 0 otherwise.
std::optional<WelchTest> welch_test(const Sample& a, const Sample& b);

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
