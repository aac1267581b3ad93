// Rank statistics for judging a proxy task: how well does its ranking of a set of functions agree
// with a reference ranking (the Swish paper's CIFAR-10 results, or a more expensive task)?
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace actsearch::stats {

// Ranks 1..n of `values` (1 = smallest); ties get the mean of the ranks they span.
std::vector<double> average_ranks(std::span<const double> values);

// Pearson correlation; NaN when either side has zero variance or fewer than 2 values.
double pearson(std::span<const double> a, std::span<const double> b);

// Spearman's rho: the Pearson correlation of the average ranks (the tie-corrected form). NaN as above.
double spearman(std::span<const double> a, std::span<const double> b);

struct Interval {
    double low = 0, high = 0;
};

// Percentile bootstrap interval of Spearman's rho: `resamples` resamples of the n pairs with
// replacement (a fixed generator seeded with `seed`, so the interval is reproducible); resamples
// whose rho is undefined (all ranks tied on one side) are skipped. level = 0.95 gives the 2.5th and
// 97.5th percentiles. NaN bounds when fewer than 3 pairs.
Interval bootstrap_spearman(std::span<const double> a, std::span<const double> b, int resamples = 2000,
                            std::uint64_t seed = 1, double level = 0.95);

// Mean, and sample standard deviation (n - 1; 0 for a single value; NaN for none).
double mean(std::span<const double> v);
double sample_stddev(std::span<const double> v);
// Median (the mean of the middle two for even n); NaN for none.
double median(std::vector<double> v);
// The q-quantile, q in [0, 1], by linear interpolation between order statistics (NumPy's default).
double quantile(std::vector<double> v, double q);

}  // namespace actsearch::stats
