#include "svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace actsearch::cli {

namespace {

// Matplotlib's "tab10": distinguishable, and readable on white.
constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr const char* kReferenceColour = "#9a9a9a";

constexpr double kPanelWidth = 480, kPanelHeight = 360;
constexpr double kMarginLeft = 58, kMarginRight = 18, kMarginTop = 30, kMarginBottom = 34;
constexpr double kTitleHeight = 34, kLegendRow = 20;

std::string xml_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string tick_label(double v) {
    if (std::abs(v) < 1e-12) return "0";
    return fmt::format("{:g}", v);
}

// Maps data to pixels inside one panel's plot area.
struct Frame {
    double left, top, width, height;
    AxisRange x, y;
    double px(double v) const { return left + (v - x.lo) / (x.hi - x.lo) * width; }
    double py(double v) const { return top + height - (v - y.lo) / (y.hi - y.lo) * height; }
};

std::string path_data(const std::vector<double>& xs, const std::vector<double>& ys, const Frame& f) {
    // Points far outside the panel are pulled in (the clip path hides them) so that coordinates stay
    // small, while the slope of a line leaving the panel is kept closely enough.
    const double span = f.y.hi - f.y.lo;
    const double y_min = f.y.lo - 10 * span, y_max = f.y.hi + 10 * span;
    std::string d;
    bool pen_down = false;
    for (std::size_t i = 0; i < xs.size() && i < ys.size(); ++i) {
        if (!std::isfinite(ys[i])) {
            pen_down = false;
            continue;
        }
        const double y = std::clamp(ys[i], y_min, y_max);
        d += fmt::format("{}{:.2f},{:.2f}", pen_down ? "L" : (d.empty() ? "M" : " M"), f.px(xs[i]), f.py(y));
        pen_down = true;
    }
    return d;
}

void draw_panel(std::string& svg, const Panel& panel, const std::vector<double>& xs, const Frame& f, int index) {
    svg += fmt::format(R"(<g class="panel">
<clipPath id="clip{0}"><rect x="{1:.2f}" y="{2:.2f}" width="{3:.2f}" height="{4:.2f}"/></clipPath>
<rect x="{1:.2f}" y="{2:.2f}" width="{3:.2f}" height="{4:.2f}" fill="white" stroke="#444"/>
<text x="{5:.2f}" y="{6:.2f}" text-anchor="middle" font-size="14">{7}</text>
)",
                       index, f.left, f.top, f.width, f.height, f.left + f.width / 2, f.top - 10,
                       xml_escape(panel.title));
    // Grid and tick labels.
    for (double t : nice_ticks(f.x)) {
        const double x = f.px(t);
        svg += fmt::format(R"(<line x1="{0:.2f}" y1="{1:.2f}" x2="{0:.2f}" y2="{2:.2f}" stroke="{3}"/>)"
                           R"(<text x="{0:.2f}" y="{4:.2f}" text-anchor="middle" font-size="11">{5}</text>)"
                           "\n",
                           x, f.top, f.top + f.height, t == 0 ? "#999" : "#e6e6e6", f.top + f.height + 15,
                           tick_label(t));
    }
    for (double t : nice_ticks(f.y)) {
        const double y = f.py(t);
        svg += fmt::format(R"(<line x1="{0:.2f}" y1="{1:.2f}" x2="{2:.2f}" y2="{1:.2f}" stroke="{3}"/>)"
                           R"(<text x="{4:.2f}" y="{5:.2f}" text-anchor="end" font-size="11">{6}</text>)"
                           "\n",
                           f.left, y, f.left + f.width, t == 0 ? "#999" : "#e6e6e6", f.left - 6, y + 4,
                           tick_label(t));
    }
    // References first, so the candidates are drawn over them.
    svg += fmt::format("<g clip-path=\"url(#clip{})\" fill=\"none\">\n", index);
    for (int pass = 0; pass < 2; ++pass) {
        int colour = 0;
        for (const Series& s : panel.series) {
            const bool reference_pass = pass == 0;
            if (s.reference != reference_pass) {
                if (!s.reference) ++colour;
                continue;
            }
            if (s.reference) {
                svg += fmt::format(R"(<path class="reference" d="{}" stroke="{}" stroke-width="1.2" )"
                                   R"(stroke-dasharray="5,4" opacity="0.7"><title>{}</title></path>)"
                                   "\n",
                                   path_data(xs, s.y, f), kReferenceColour, xml_escape(s.label));
            } else {
                svg += fmt::format(R"(<path class="curve" d="{}" stroke="{}" stroke-width="2">)"
                                   R"(<title>{}</title></path>)"
                                   "\n",
                                   path_data(xs, s.y, f), kPalette[colour % std::size(kPalette)],
                                   xml_escape(s.label));
                ++colour;
            }
        }
    }
    svg += "</g>\n</g>\n";
}

}  // namespace

AxisRange robust_range(const std::vector<const std::vector<double>*>& values, double limit) {
    std::vector<double> finite;
    for (const auto* v : values)
        for (double y : *v)
            if (std::isfinite(y)) finite.push_back(y);
    if (finite.empty()) return {-1, 1};
    std::sort(finite.begin(), finite.end());
    const std::size_t n = finite.size();
    const double p_lo = finite[static_cast<std::size_t>(std::floor(0.02 * double(n - 1)))];
    const double p_hi = finite[static_cast<std::size_t>(std::ceil(0.98 * double(n - 1)))];
    const double lo_all = finite.front(), hi_all = finite.back();
    const double span = p_hi - p_lo;
    AxisRange r{p_lo, p_hi};
    // The percentiles cut a curve's genuine ends (x^2 at +-6); only far outliers should be cut.
    if (hi_all - p_hi <= 0.5 * span) r.hi = hi_all;
    if (p_lo - lo_all <= 0.5 * span) r.lo = lo_all;
    if (limit > 0) {
        r.lo = std::max(r.lo, -limit);
        r.hi = std::min(r.hi, limit);
        if (r.hi <= r.lo) r = {-limit, limit};   // everything beyond the limit on one side
    }
    if (r.hi - r.lo < 1e-9 * std::max(1.0, std::abs(r.hi))) {
        r.lo -= 0.5;
        r.hi += 0.5;
    }
    const double pad = 0.05 * (r.hi - r.lo);
    return {r.lo - pad, r.hi + pad};
}

std::vector<double> nice_ticks(AxisRange range, int target) {
    const double span = range.hi - range.lo;
    if (!(span > 0) || !std::isfinite(span) || target < 1) return {};
    const double raw = span / target;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
        step = m * magnitude;
        if (step >= raw) break;
    }
    std::vector<double> ticks;
    for (double k = std::ceil(range.lo / step); k * step <= range.hi + 1e-9 * step; k += 1) {
        const double t = k * step;
        ticks.push_back(std::abs(t) < 1e-12 * step ? 0.0 : t);
    }
    return ticks;
}

std::string render_svg(const Plot& plot) {
    if (plot.panels.empty()) throw std::invalid_argument("a plot needs at least one panel");
    const std::size_t legend_entries = plot.panels.front().series.size();
    const double width = double(plot.panels.size()) * (kMarginLeft + kPanelWidth + kMarginRight);
    const double legend_top = kTitleHeight + kMarginTop + kPanelHeight + kMarginBottom + 8;
    const double height = legend_top + double(legend_entries) * kLegendRow + 10;

    std::string svg = fmt::format(
        R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0:.0f}" height="{1:.0f}" viewBox="0 0 {0:.0f} {1:.0f}" )"
        R"(font-family="Helvetica, Arial, sans-serif">)"
        "\n"
        R"(<rect width="100%" height="100%" fill="white"/>)"
        "\n"
        R"(<text x="{2:.2f}" y="22" text-anchor="middle" font-size="16" font-weight="bold">{3}</text>)"
        "\n",
        width, height, width / 2, xml_escape(plot.title));

    const AxisRange x_range{plot.x.empty() ? -1.0 : plot.x.front(), plot.x.empty() ? 1.0 : plot.x.back()};
    for (std::size_t p = 0; p < plot.panels.size(); ++p) {
        const Panel& panel = plot.panels[p];
        std::vector<const std::vector<double>*> scored;
        for (const Series& s : panel.series)
            if (!s.reference) scored.push_back(&s.y);
        if (scored.empty())
            for (const Series& s : panel.series) scored.push_back(&s.y);
        Frame f{double(p) * (kMarginLeft + kPanelWidth + kMarginRight) + kMarginLeft, kTitleHeight + kMarginTop,
                kPanelWidth, kPanelHeight, x_range, robust_range(scored, panel.y_limit)};
        draw_panel(svg, panel, plot.x, f, static_cast<int>(p));
    }

    // One legend for all panels: the same functions in the same colours.
    svg += "<g class=\"legend\" font-size=\"12\">\n";
    int colour = 0;
    for (std::size_t i = 0; i < legend_entries; ++i) {
        const Series& s = plot.panels.front().series[i];
        const double y = legend_top + double(i) * kLegendRow;
        const std::string stroke = s.reference ? kReferenceColour : kPalette[colour++ % std::size(kPalette)];
        svg += fmt::format(R"(<line x1="{0:.2f}" y1="{1:.2f}" x2="{2:.2f}" y2="{1:.2f}" stroke="{3}" )"
                           R"(stroke-width="{4}"{5}/><text x="{6:.2f}" y="{7:.2f}">{8}</text>)"
                           "\n",
                           kMarginLeft, y, kMarginLeft + 28, stroke, s.reference ? "1.2" : "2",
                           s.reference ? R"( stroke-dasharray="5,4")" : "", kMarginLeft + 36, y + 4,
                           xml_escape(s.label));
    }
    svg += "</g>\n</svg>\n";
    return svg;
}

}  // namespace actsearch::cli
