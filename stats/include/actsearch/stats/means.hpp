// Comparing means over seeds: the Student t confidence interval of a mean and Welch's t-test of two
// means (the noise-aware leaderboard, src/cli/leaderboard_stats.hpp, is built on them).
#pragma once

#include <cstdint>
#include <optional>

#include "actsearch/stats/rank.hpp"   // Interval

namespace actsearch::stats {

// The t with P(|T| <= t) = level for Student's t with df degrees of freedom (df > 0, 0 < level < 1);
// e.g. t_critical(4) = 2.776 for a 95% interval of five values.
double t_critical(double df, double level = 0.95);

// Two-sided p-value of a t statistic with df degrees of freedom: P(|T| >= |t|).
double t_two_sided_p(double t, double df);

// mean +- t_critical(n - 1, level) * stddev / sqrt(n), stddev being the sample one (n - 1); nullopt
// when n < 2 (one value says nothing about the spread) or an input is not finite.
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

// Welch's unequal-variances t-test of equal means; nullopt when a side has fewer than two values or a
// value is not finite. Both spreads zero: p = 1 for equal means, 0 otherwise.
std::optional<WelchTest> welch_test(const Sample& a, const Sample& b);

}  // namespace actsearch::stats
