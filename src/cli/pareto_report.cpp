#include "pareto_report.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "actsearch/cost/cost.hpp"
#include "actsearch/cost/pareto.hpp"
#include "actsearch/grammar/fingerprint.hpp"
#include "actsearch/grammar/parse.hpp"
#include "cost_tables.hpp"
#include "svg_plot.hpp"

namespace actsearch::cli {
namespace {

const std::vector<std::pair<std::string, std::uint64_t>>& named_fingerprints() {
    static const auto named = [] {
        std::vector<std::pair<std::string, std::uint64_t>> v;
        for (const char* n : {"relu", "swish", "hard_swish", "gelu", "mish"})
            v.emplace_back(n, fingerprint(parse(std::string(n) + "(x)").expr()).hash);
        return v;
    }();
    return named;
}

}  // namespace

std::vector<ParetoGroup> pareto_groups(db::Store& store, db::LeaderboardQuery q) {
    q.top = 0;
    q.min_seeds = std::max(q.min_seeds, 1);
    const cost::CostTable table = cost_table_for(&store);
    std::map<std::pair<std::string, std::string>, ParetoGroup> groups;
    for (db::LeaderboardRow& r : store.leaderboard(q)) {
        if (!std::isfinite(r.mean)) continue;
        ParetoPoint p;
        const auto rec = store.candidate(r.candidate);
        // Every point priced by the same model and table (this machine's calibration, else the built-in
        // one); the cost stored with a candidate when it was recorded only where the text no longer parses.
        const ParseResult parsed = parse(r.expr);
        p.cost = parsed.ok() ? cost::expr_cost(parsed.expr(), table) : rec && rec->cost ? *rec->cost : NAN;
        if (rec)
            for (const auto& [name, fp] : named_fingerprints())
                if (rec->valid && rec->fingerprint == fp) p.label = name;
        p.row = std::move(r);
        ParetoGroup& g = groups[{p.row.task, p.row.fidelity}];
        g.task = p.row.task;
        g.fidelity = p.row.fidelity;
        g.points.push_back(std::move(p));
    }
    std::vector<ParetoGroup> out;
    for (auto& [key, g] : groups) {
        std::vector<cost::ScoreCost> sc;
        for (const ParetoPoint& p : g.points) sc.push_back({p.row.mean, p.cost});
        g.front = cost::pareto_front(sc);
        out.push_back(std::move(g));
    }
    return out;
}

std::string render_pareto(const std::vector<ParetoGroup>& groups, OutputFormat format) {
    const bool machine = format != OutputFormat::Table;
    std::string text;
    Table all;
    for (const ParetoGroup& g : groups) {
        Table t;
        t.columns = {{"front", Align::Right}, {"cost", Align::Right, 2}, {"mean", Align::Right, 4},
                     {"std", Align::Right, 4}, {"seeds", Align::Right}};
        if (machine) t.columns.insert(t.columns.end(), {{"task"}, {"fidelity"}});
        t.columns.insert(t.columns.end(), {{"id", Align::Right}, {"name"}, {"expression"}});
        std::int64_t k = 0;
        for (std::size_t i : g.front) {
            const ParetoPoint& p = g.points[i];
            std::vector<Cell> row{++k, p.cost, p.row.mean, p.row.stddev, p.row.seeds};
            if (machine) row.insert(row.end(), {p.row.task, p.row.fidelity});
            row.insert(row.end(), {p.row.candidate, p.label, p.row.expr});
            t.add_row(std::move(row));
        }
        if (machine) {
            if (all.columns.empty()) all.columns = t.columns;
            for (auto& r : t.rows) all.rows.push_back(std::move(r));
        } else {
            text += fmt::format("{}task {}, fidelity {}: {} on the front of {} scored candidates (cost relative "
                                "to relu)\n{}",
                                text.empty() ? "" : "\n", g.task, g.fidelity, g.front.size(), g.points.size(),
                                render_text(t));
        }
    }
    if (machine) {
        if (all.columns.empty()) all.columns = {{"front"}, {"cost"}, {"mean"}, {"std"}, {"seeds"}, {"task"},
                                                {"fidelity"}, {"id"}, {"name"}, {"expression"}};
        return render(all, format);
    }
    return text;
}

std::string render_pareto_svg(const ParetoGroup& g) {
    constexpr double W = 720, H = 480, L = 64, R = 24, T = 48, B = 48;
    double cmin = HUGE_VAL, cmax = 0;
    std::vector<double> scores;
    for (const ParetoPoint& p : g.points)
        if (std::isfinite(p.cost) && p.cost > 0) {
            cmin = std::min(cmin, p.cost);
            cmax = std::max(cmax, p.cost);
            scores.push_back(p.row.mean);
        }
    if (scores.empty()) return "";
    const double lx0 = std::floor(std::log10(cmin) * 4) / 4, lx1 = std::ceil(std::log10(cmax) * 4) / 4 + 0.01;
    const AxisRange yr = robust_range({&scores});
    auto px = [&](double c) { return L + (std::log10(c) - lx0) / (lx1 - lx0) * (W - L - R); };
    auto py = [&](double s) { return T + (H - T - B) * (1 - (std::clamp(s, yr.lo, yr.hi) - yr.lo) / (yr.hi - yr.lo)); };
    std::string svg = fmt::format(
        R"svg(<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" viewBox="0 0 {0} {1}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="{2}" y="24" text-anchor="middle" font-size="15">{3}: score against cost ({4} of {5} on the front)</text>
<rect x="{6}" y="{7}" width="{8}" height="{9}" fill="white" stroke="#444"/>
)svg",
        W, H, W / 2, g.task, g.front.size(), g.points.size(), L, T, W - L - R, H - T - B);
    for (int e = int(std::floor(lx0)); e <= int(std::ceil(lx1)); ++e)
        for (double m : {1.0, 2.0, 5.0}) {
            const double c = m * std::pow(10.0, e), lc = std::log10(c);
            if (lc < lx0 || lc > lx1) continue;
            svg += fmt::format(R"svg(<line x1="{0:.1f}" y1="{1}" x2="{0:.1f}" y2="{2}" stroke="#e6e6e6"/>)svg"
                               R"svg(<text x="{0:.1f}" y="{3}" text-anchor="middle" font-size="11">{4:g}</text>)svg" "\n",
                               px(c), T, H - B, H - B + 15, c);
        }
    for (double t : nice_ticks(yr))
        svg += fmt::format(R"svg(<line x1="{0}" y1="{1:.1f}" x2="{2}" y2="{1:.1f}" stroke="#e6e6e6"/>)svg"
                           R"svg(<text x="{3}" y="{4:.1f}" text-anchor="end" font-size="11">{5:g}</text>)svg" "\n",
                           L, py(t), W - R, L - 6, py(t) + 4, t);
    svg += fmt::format(R"svg(<text x="{}" y="{}" text-anchor="middle" font-size="12">cost per element, relative to relu (log scale)</text>)svg"
                       R"svg(<text x="16" y="{}" text-anchor="middle" font-size="12" transform="rotate(-90 16 {})">mean validation accuracy</text>)svg" "\n",
                       L + (W - L - R) / 2, H - 12, T + (H - T - B) / 2, T + (H - T - B) / 2);
    for (const ParetoPoint& p : g.points)
        if (std::isfinite(p.cost) && p.cost > 0 && p.row.mean >= yr.lo)
            svg += fmt::format(R"svg(<circle class="point" cx="{:.1f}" cy="{:.1f}" r="2.5" fill="#9a9a9a" opacity="0.5"><title>{}</title></circle>)svg" "\n",
                               px(p.cost), py(p.row.mean), p.row.expr);
    std::string d;
    for (std::size_t i : g.front)
        d += fmt::format("{}{:.1f},{:.1f}", d.empty() ? "M" : "L", px(g.points[i].cost), py(g.points[i].row.mean));
    svg += fmt::format(R"svg(<path class="front" d="{}" fill="none" stroke="#d62728" stroke-width="1.5"/>)svg" "\n", d);
    for (std::size_t i : g.front)
        svg += fmt::format(R"svg(<circle class="front-point" cx="{:.1f}" cy="{:.1f}" r="4" fill="#d62728"><title>{} ({:.4f}, cost {:.2f})</title></circle>)svg" "\n",
                           px(g.points[i].cost), py(g.points[i].row.mean), g.points[i].row.expr, g.points[i].row.mean,
                           g.points[i].cost);
    for (const ParetoPoint& p : g.points)
        if (!p.label.empty() && std::isfinite(p.cost) && p.cost > 0)
            svg += fmt::format(R"svg(<circle cx="{0:.1f}" cy="{1:.1f}" r="4.5" fill="none" stroke="#1f77b4" stroke-width="1.5"/>)svg"
                               R"svg(<text class="label" x="{2:.1f}" y="{3:.1f}" font-size="12" fill="#1f77b4">{4}</text>)svg" "\n",
                               px(p.cost), py(p.row.mean), px(p.cost) + 7, py(p.row.mean) - 6, p.label);
    return svg + "</svg>\n";
}

}  // namespace actsearch::cli
