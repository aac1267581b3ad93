#include "actsearch/stats/means.hpp"

#include <algorithm>
#include <cmath>

#include <boost/math/distributions/students_t.hpp>

namespace actsearch::stats {

double t_critical(double df, double level) {
    const boost::math::students_t dist(df);
    return boost::math::quantile(dist, 0.5 + level / 2);
}

double t_two_sided_p(double t, double df) {
    if (std::isinf(t)) return 0.0;
    const boost::math::students_t dist(df);
    return std::min(1.0, 2 * boost::math::cdf(boost::math::complement(dist, std::abs(t))));
}

std::optional<Interval> mean_interval(double mean, double stddev, std::int64_t n, double level) {
    if (n < 2 || !std::isfinite(mean) || !std::isfinite(stddev)) return std::nullopt;
    const double half = t_critical(double(n - 1), level) * stddev / std::sqrt(double(n));
    return Interval{mean - half, mean + half};
}

std::optional<WelchTest> welch_test(const Sample& a, const Sample& b) {
    if (a.n < 2 || b.n < 2) return std::nullopt;
    for (double v : {a.mean, a.stddev, b.mean, b.stddev})
        if (!std::isfinite(v)) return std::nullopt;
    const double va = a.stddev * a.stddev / double(a.n), vb = b.stddev * b.stddev / double(b.n);
    const double diff = a.mean - b.mean;
    WelchTest w;
    if (va + vb == 0) {   // no spread on either side: the means either agree or they do not
        w.df = double(a.n + b.n - 2);
        w.t = diff == 0 ? 0.0 : std::copysign(INFINITY, diff);
        w.p = diff == 0 ? 1.0 : 0.0;
        return w;
    }
    w.t = diff / std::sqrt(va + vb);
    w.df = (va + vb) * (va + vb) / (va * va / double(a.n - 1) + vb * vb / double(b.n - 1));
    w.p = t_two_sided_p(w.t, w.df);
    return w;
}

}  // namespace actsearch::stats
