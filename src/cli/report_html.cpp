#include "report_html.hpp"

#include <cmath>
#include <map>
#include <regex>

#include <fmt/format.h>

#include "actsearch/stats/means.hpp"

namespace actsearch::cli {

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

OutcomeCounts count_outcomes(const std::vector<db::EvaluationRecord>& evaluations) {
    OutcomeCounts c;
    for (const auto& e : evaluations) {
        if (e.status == "over_budget") continue;   // skipped by --max-cost: never evaluated
        if (e.status == "ok") ++c.ok;
        else if (e.status == "diverged") ++c.diverged;
        else if (e.status == "invalid") ++c.invalid;
        else ++c.other;
    }
    return c;
}

std::vector<double> best_so_far(const db::RunInfo& run, const std::vector<db::EvaluationRecord>& evaluations) {
    // Candidates in the order of their first evaluation; each one's mean over its ok seeds (0 when none
    // trained to a score), as the leaderboard ranks them.
    std::string fidelity;
    std::vector<std::int64_t> order;
    std::map<std::int64_t, std::pair<double, int>> sums;   // candidate -> (sum of ok val_acc, ok seeds)
    for (const auto& e : evaluations) {
        // Invalid candidates and those over --max-cost are never trained.
        if (e.task != run.task || e.status == "invalid" || e.status == "over_budget") continue;
        if (fidelity.empty()) fidelity = e.fidelity;
        if (e.fidelity != fidelity) continue;                        // another rung of the same task
        auto [it, added] = sums.try_emplace(e.candidate, 0.0, 0);
        if (added) order.push_back(e.candidate);
        if (e.status == "ok" && std::isfinite(e.val_acc)) {
            it->second.first += e.val_acc;
            ++it->second.second;
        }
    }
    std::vector<double> out;
    double best = 0;
    for (std::int64_t c : order) {
        const auto [sum, n] = sums[c];
        if (n > 0) best = std::max(best, sum / n);
        out.push_back(best);
    }
    return out;
}

std::string prefix_svg_ids(const std::string& svg, const std::string& prefix) {
    static const std::regex id(R"(id="([^"]*)\")"), url(R"(url\(#([^)]*)\))");
    std::string out = std::regex_replace(svg, id, "id=\"" + prefix + "$1\"");
    return std::regex_replace(out, url, "url(#" + prefix + "$1)");
}

namespace {

constexpr const char* kStyle = R"(
body{font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;margin:0 auto;max-width:1200px;padding:0 20px 40px}
h1{font-size:24px;margin:24px 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}.meta{color:#666}nav a{margin-right:14px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f4f4f4;cursor:pointer;user-select:none;white-space:nowrap}th.sorted-asc::after{content:" \25B2"}th.sorted-desc::after{content:" \25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}code{font:12px ui-monospace,Menlo,Consolas,monospace}code.cfg{word-break:break-all}
svg{max-width:100%;height:auto}.bar{display:flex;width:260px;height:14px;border:1px solid #ccc}.bar span{display:block;height:100%}
.ok{background:#2ca02c}.diverged{background:#d62728}.invalid{background:#ff7f0e}.other{background:#7f7f7f}
.key span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}.note{color:#555;max-width:900px}
)";

// Click a column header to sort by it (numbers numerically); the page works without it.
constexpr const char* kScript = R"(
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var asc = !th.classList.contains('sorted-asc');
      table.querySelectorAll('th').forEach(function (h) { h.classList.remove('sorted-asc', 'sorted-desc'); });
      th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
      var key = function (r) { var t = r.cells[col].getAttribute('data-sort') || r.cells[col].textContent;
                               var n = parseFloat(t); return isNaN(n) ? t : n; };
      rows.sort(function (a, b) { var x = key(a), y = key(b);
        var c = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === 'number' ? -1 : 1);
        return asc ? c : -c; });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
document.documentElement.setAttribute('data-sortable', String(document.querySelectorAll('table.sortable').length));
)";

std::string num(double v, int digits = 4) {
    return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "&ndash;";
}

std::string td_num(const std::string& text) { return "<td class=\"num\">" + text + "</td>"; }

std::string header_row(std::initializer_list<const char*> names) {
    std::string s = "<thead><tr>";
    for (const char* n : names) s += fmt::format("<th>{}</th>", n);
    return s + "</tr></thead>\n<tbody>\n";
}

void runs_section(std::string& h, const ReportData& d) {
    h += "<section id=\"runs\">\n<h2>Runs</h2>\n";
    if (d.runs.empty()) {
        h += "<p>No runs in this database (evaluations made by <code>actsearch eval</code> only).</p>\n</section>\n";
        return;
    }
    h += "<table class=\"sortable\">"
         + header_row({"run", "status", "strategy", "space", "task", "seed", "created", "finished", "evaluations",
                       "best mean", "version", "configuration"});
    for (const auto& r : d.runs) {
        h += fmt::format("<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td>{}"
                         "<td>{}</td><td>{}</td>{}{}<td>{}</td><td><code class=\"cfg\">{}</code></td></tr>\n",
                         r.id, html_escape(r.status), html_escape(r.strategy), html_escape(r.space),
                         html_escape(r.task), td_num(std::to_string(r.seed)), html_escape(r.created),
                         html_escape(r.finished), td_num(std::to_string(r.evaluations)),
                         td_num(r.best_score ? num(*r.best_score) : "&ndash;"), html_escape(r.version),
                         html_escape(r.config_json));
    }
    h += "</tbody></table>\n</section>\n";
}

void leaderboard_section(std::string& h, const ReportData& d) {
    h += "<section id=\"leaderboard\">\n<h2>Leaderboard</h2>\n<p class=\"note\">Mean validation accuracy over "
         "the seeds that trained; the 95% interval is the Student t interval of the mean (mean &plusmn; "
         "t<sub>0.975, n&minus;1</sub>&middot;sd/&radic;n), shown from two seeds on. Scores at different tasks "
         "or fidelities are never averaged together.</p>\n";
    if (d.leaderboards.empty()) h += "<p>No candidate has a score yet.</p>\n";
    for (const auto& b : d.leaderboards) {
        h += fmt::format("<h3>{} <span class=\"meta\">{} &middot; top {} of {}</span></h3>\n", html_escape(b.task),
                         html_escape(b.fidelity), b.rows.size(), b.candidates);
        h += "<table class=\"sortable\">" + header_row({"rank", "mean", "95% interval", "std", "seeds", "ok",
                                                          "diverged", "invalid", "other", "id", "expression"});
        int rank = 0;
        for (const auto& r : b.rows) {
            const auto ci = stats::mean_interval(r.mean, r.stddev, r.seeds);   // 95%, over the seeds
            h += fmt::format("<tr>{}{}<td class=\"num\" data-sort=\"{}\">{}</td>{}{}{}{}{}{}{}<td><code>{}</code></td>"
                             "</tr>\n",
                             td_num(std::to_string(++rank)), td_num(num(r.mean)), ci ? ci->low : r.mean,
                             ci ? fmt::format("[{}, {}]", num(ci->low), num(ci->high)) : std::string("&ndash;"),
                             td_num(num(r.stddev)), td_num(std::to_string(r.seeds)), td_num(std::to_string(r.n_ok)),
                             td_num(std::to_string(r.n_diverged)), td_num(std::to_string(r.n_invalid)),
                             td_num(std::to_string(r.n_other)), td_num(std::to_string(r.candidate)),
                             html_escape(r.expr));
        }
        h += "</tbody></table>\n";
    }
    h += "</section>\n";
}

void figure_section(std::string& h, const char* id, const char* title, const std::string& caption,
                    std::initializer_list<const std::string*> svgs, const char* empty) {
    h += fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n", id, title);
    if (svgs.size() == 0 || (*svgs.begin())->empty()) {
        h += fmt::format("<p>{}</p>\n</section>\n", empty);
        return;
    }
    h += fmt::format("<p class=\"note\">{}</p>\n", caption);
    int n = 0;
    for (const std::string* svg : svgs)
        if (!svg->empty()) h += "<figure>" + prefix_svg_ids(*svg, fmt::format("{}{}-", id, n++)) + "</figure>\n";
    h += "</section>\n";
}

void outcomes_section(std::string& h, const ReportData& d) {
    h += "<section id=\"outcomes\">\n<h2>Outcomes</h2>\n<p class=\"note\">What became of each run's "
         "evaluations: trained to a score (ok), diverged (the loss became NaN or exploded), invalid "
         "(non-finite on the probe points, never trained), other (timeout, error).<span class=\"key\">"
         "<span class=\"ok\"></span>ok<span class=\"diverged\"></span>diverged<span class=\"invalid\"></span>"
         "invalid<span class=\"other\"></span>other</span></p>\n";
    h += "<table class=\"sortable\">" + header_row({"run", "strategy", "evaluations", "ok", "diverged", "invalid",
                                                      "other", "diverged share", "invalid share", "shares"});
    for (const auto& r : d.runs) {
        const auto it = d.outcomes.find(r.id);
        const OutcomeCounts c = it == d.outcomes.end() ? OutcomeCounts{} : it->second;
        const double n = double(std::max<std::int64_t>(c.total(), 1));
        auto pct = [&](std::int64_t k) { return 100.0 * double(k) / n; };
        std::string bar = "<div class=\"bar\">";
        for (auto [cls, k] : {std::pair{"ok", c.ok}, {"diverged", c.diverged}, {"invalid", c.invalid},
                              {"other", c.other}})
            if (k > 0) bar += fmt::format("<span class=\"{}\" style=\"width:{:.2f}%\" title=\"{} {}\"></span>", cls,
                                          pct(k), k, cls);
        bar += "</div>";
        h += fmt::format("<tr>{}<td>{}</td>{}{}{}{}{}{}{}<td>{}</td></tr>\n", td_num(std::to_string(r.id)),
                         html_escape(r.strategy), td_num(std::to_string(c.total())), td_num(std::to_string(c.ok)),
                         td_num(std::to_string(c.diverged)), td_num(std::to_string(c.invalid)),
                         td_num(std::to_string(c.other)), td_num(fmt::format("{:.1f}%", pct(c.diverged))),
                         td_num(fmt::format("{:.1f}%", pct(c.invalid))), bar);
    }
    h += "</tbody></table>\n</section>\n";
}

}  // namespace

std::string render_report_html(const ReportData& d) {
    std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    h += fmt::format("<title>actsearch report: {}</title>\n<style>{}</style>\n</head>\n<body>\n",
                     html_escape(d.title), kStyle);
    h += fmt::format("<header><h1>actsearch report: {}</h1>\n<p class=\"meta\">database <code>{}</code>{} &middot; "
                     "generated {} by actsearch {}</p>\n",
                     html_escape(d.title), html_escape(d.db_path),
                     d.only_run ? fmt::format(" &middot; run {} only", *d.only_run) : "", html_escape(d.generated),
                     html_escape(d.version));
    h += "<nav><a href=\"#runs\">Runs</a><a href=\"#leaderboard\">Leaderboard</a><a href=\"#functions\">Functions</a>"
         "<a href=\"#progress\">Best so far</a><a href=\"#outcomes\">Outcomes</a></nav></header>\n<main>\n";
    runs_section(h, d);
    leaderboard_section(h, d);
    figure_section(h, "functions", "Functions", html_escape(d.functions_caption), {&d.functions_svg},
                   "No scored candidate to plot.");
    figure_section(h, "progress", "Best so far",
                   "The best mean validation accuracy each run had found after each candidate it trained on its "
                   "screening task (candidates in the order the run first stored them; the mean over their ok "
                   "seeds, 0 when none trained); below it, when a strategy ran more than once, the median over its "
                   "runs.",
                   {&d.progress_svg, &d.strategy_svg}, "No run has trained a candidate yet.");
    outcomes_section(h, d);
    h += fmt::format("</main>\n<script>{}</script>\n</body>\n</html>\n", kScript);
    return h;
}

}  // namespace actsearch::cli
