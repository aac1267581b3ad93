#include "actsearch/stats/rank.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "actsearch/numeric/rng.hpp"

namespace actsearch::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_same_size(std::span<const double> a, std::span<const double> b) {
    if (a.size() != b.size()) throw std::invalid_argument("rank statistics: the two samples differ in size");
}

}  // namespace

std::vector<double> average_ranks(std::span<const double> values) {
    const std::size_t n = values.size();
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return values[i] < values[j]; });
    std::vector<double> ranks(n);
    for (std::size_t i = 0; i < n;) {
        std::size_t j = i + 1;
        while (j < n && values[order[j]] == values[order[i]]) ++j;
        const double rank = 0.5 * double(i + 1 + j);   // mean of ranks i+1 .. j
        for (std::size_t k = i; k < j; ++k) ranks[order[k]] = rank;
        i = j;
    }
    return ranks;
}

double pearson(std::span<const double> a, std::span<const double> b) {
    check_same_size(a, b);
    const std::size_t n = a.size();
    if (n < 2) return kNaN;
    const double ma = mean(a), mb = mean(b);
    double sab = 0, saa = 0, sbb = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    if (saa <= 0 || sbb <= 0) return kNaN;
    return sab / std::sqrt(saa * sbb);
}

double spearman(std::span<const double> a, std::span<const double> b) {
    check_same_size(a, b);
    const std::vector<double> ra = average_ranks(a), rb = average_ranks(b);
    return pearson(ra, rb);
}

Interval bootstrap_spearman(std::span<const double> a, std::span<const double> b, int resamples, std::uint64_t seed,
                            double level) {
    check_same_size(a, b);
    const std::size_t n = a.size();
    if (n < 3 || resamples < 1) return {kNaN, kNaN};
    std::vector<double> rhos;
    rhos.reserve(std::size_t(resamples));
    std::vector<double> ra(n), rb(n);
    numeric::SplitMix64 rng(seed);
    for (int r = 0; r < resamples; ++r) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = rng.below(n);
            ra[i] = a[k];
            rb[i] = b[k];
        }
        const double rho = spearman(ra, rb);
        if (std::isfinite(rho)) rhos.push_back(rho);
    }
    if (rhos.empty()) return {kNaN, kNaN};
    const double tail = 0.5 * (1.0 - level);
    return {quantile(rhos, tail), quantile(rhos, 1.0 - tail)};
}

double mean(std::span<const double> v) {
    if (v.empty()) return kNaN;
    return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}

double sample_stddev(std::span<const double> v) {
    if (v.empty()) return kNaN;
    if (v.size() == 1) return 0.0;
    const double m = mean(v);
    double ss = 0;
    for (double x : v) ss += (x - m) * (x - m);
    return std::sqrt(ss / double(v.size() - 1));
}

double median(std::vector<double> v) { return quantile(std::move(v), 0.5); }

double quantile(std::vector<double> v, double q) {
    if (v.empty()) return kNaN;
    std::sort(v.begin(), v.end());
    const double pos = std::clamp(q, 0.0, 1.0) * double(v.size() - 1);
    const std::size_t lo = std::size_t(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

}  // namespace actsearch::stats
