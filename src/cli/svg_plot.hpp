// Line plots as hand-written SVG: side-by-side panels over one x grid, a shared legend, grid and ticks.
// Enough for `actsearch plot` (f and f' of a few activations); no plotting library needed.
#pragma once

#include <string>
#include <vector>

namespace actsearch::cli {

struct Series {
    std::string label;
    std::vector<double> y;    // one value per Plot::x; a non-finite value breaks the line there
    bool reference = false;   // drawn faint and dashed, and ignored when choosing the y-range
};

struct Panel {
    std::string title;
    std::vector<Series> series;   // the same functions in the same order in every panel
    // The y-range never extends past +-y_limit (when positive): one exploding curve (exp(x) reaches 403
    // on [-6, 6]) must not flatten all the others into a line.
    double y_limit = 0;
};

struct Plot {
    std::string title;
    std::vector<double> x;        // increasing
    std::vector<Panel> panels;
};

// A standalone SVG document. Each series is one <path> (class "curve" or "reference") per panel.
std::string render_svg(const Plot& plot);

struct AxisRange {
    double lo = 0, hi = 0;
};

// The y-range for some curves: the 2nd-98th percentile of the finite values, widened to the true
// extremes when those are not far outliers, then padded; [-1, 1] when there is nothing finite, and a
// constant function gets a unit-wide range around its value. A positive `limit` caps the range to
// [-limit, limit] before padding.
AxisRange robust_range(const std::vector<const std::vector<double>*>& values, double limit = 0);

// Round tick positions (multiples of 1, 2 or 5 times a power of ten) inside the range, about `target`.
std::vector<double> nice_ticks(AxisRange range, int target = 6);

}  // namespace actsearch::cli
