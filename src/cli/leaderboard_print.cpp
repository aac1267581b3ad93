#include "leaderboard_print.hpp"

#include <set>

#include <fmt/format.h>

#include "leaderboard_stats.hpp"

namespace actsearch::cli {
namespace {

constexpr const char* kLegend =
    "95% ci: Student t interval of the mean over seeds; tie: not distinguishable from the best (Welch's "
    "t-test, 5%); ?: needs two ok seeds";

Cell tie_text(Tie t) {
    switch (t) {
        case Tie::Best: return std::string("best");
        case Tie::Yes: return std::string("yes");
        case Tie::No: return std::string("no");
        case Tie::Unknown: break;
    }
    return std::string("?");
}

Cell tie_value(Tie t) {   // CSV and JSON: true (the best too), false, or missing when unknown
    if (t == Tie::Unknown) return Cell{};
    return t != Tie::No;
}

}  // namespace

std::string render_leaderboard(const std::vector<db::LeaderboardRow>& rows, OutputFormat format,
                               const TwinOf& twin_of) {
    if (rows.empty() && format == OutputFormat::Table) return "";
    // In the aligned table, task and fidelity (a long text) are shown only when they vary.
    std::set<std::string> tasks, fidelities;
    for (const auto& r : rows) {
        tasks.insert(r.task);
        fidelities.insert(r.fidelity);
    }
    const bool machine = format != OutputFormat::Table;
    const bool show_task = machine || tasks.size() > 1;
    const bool show_fidelity = machine || fidelities.size() > 1;
    const std::vector<RowStats> stats = leaderboard_stats(rows);

    Table t;
    t.columns = {{"rank", Align::Right}, {"mean", Align::Right, 4}, {"std", Align::Right, 4},
                 {"seeds", Align::Right}};
    if (machine) {
        t.columns.push_back({"ci_low", Align::Right});
        t.columns.push_back({"ci_high", Align::Right});
    } else {
        t.columns.push_back({"95% ci", Align::Right});
    }
    t.columns.push_back({"tie", Align::Left});
    for (const char* c : {"ok", "diverged", "invalid", "other"}) t.columns.push_back({c, Align::Right});
    if (show_task) t.columns.push_back({"task"});
    if (show_fidelity) t.columns.push_back({"fidelity"});
    t.columns.push_back({"id", Align::Right});
    if (machine) {
        t.columns.push_back({"best_run", Align::Right});
        t.columns.push_back({"equivalents", Align::Right});
        if (!twin_of.empty()) t.columns.push_back({"twin_of", Align::Right});
    }
    t.columns.push_back({"expression"});

    for (std::size_t i = 0; i < rows.size(); ++i) {
        const db::LeaderboardRow& r = rows[i];
        const RowStats& s = stats[i];
        std::vector<Cell> row;
        row.reserve(t.columns.size());
        row.emplace_back(static_cast<std::int64_t>(i + 1));
        row.emplace_back(r.mean);
        // One value has no spread: its std is unknown, not zero.
        row.push_back(r.n_ok > 1 ? Cell{r.stddev} : Cell{});
        row.emplace_back(r.seeds);
        if (machine) {
            row.push_back(s.ci ? Cell{s.ci->low} : Cell{});
            row.push_back(s.ci ? Cell{s.ci->high} : Cell{});
            row.push_back(tie_value(s.tie));
        } else {
            row.push_back(s.ci ? Cell{fmt::format("{:.4f}-{:.4f}", s.ci->low, s.ci->high)} : Cell{std::string("?")});
            row.push_back(tie_text(s.tie));
        }
        for (std::int64_t v : {r.n_ok, r.n_diverged, r.n_invalid, r.n_other}) row.emplace_back(v);
        if (show_task) row.emplace_back(r.task);
        if (show_fidelity) row.emplace_back(r.fidelity);
        row.emplace_back(r.candidate);
        const auto origin = twin_of.find(r.candidate);
        if (machine) {
            row.push_back(r.best_run > 0 ? Cell{r.best_run} : Cell{});
            row.emplace_back(r.equivalents);
            if (!twin_of.empty()) row.push_back(origin != twin_of.end() ? Cell{origin->second} : Cell{});
            row.emplace_back(r.expr);
        } else {
            std::string expr = r.expr;
            if (r.equivalents > 0)
                expr += fmt::format("  (+{} equivalent{})", r.equivalents, r.equivalents == 1 ? "" : "s");
            if (origin != twin_of.end()) expr += fmt::format("  (twin of {})", origin->second);
            row.emplace_back(std::move(expr));
        }
        t.add_row(std::move(row));
    }
    std::string text = render(t, format);
    if (format == OutputFormat::Table) {
        if (!show_task || !show_fidelity) {
            std::string caption = !show_task ? "task " + rows.front().task : "";
            if (!show_fidelity) caption += (caption.empty() ? "fidelity " : ", fidelity ") + rows.front().fidelity;
            text = caption + "\n" + text;
        }
        text += std::string(kLegend) + "\n";
    }
    return text;
}

void print_leaderboard(const std::vector<db::LeaderboardRow>& rows, const std::string& title,
                       const TwinOf& twin_of) {
    fmt::print("\n{}\n", title);
    if (rows.empty()) {
        fmt::print("  (no scored candidates)\n");
        return;
    }
    fmt::print("{}", render_leaderboard(rows, OutputFormat::Table, twin_of));
}


db::LeaderboardQuery rung_query(const driver::RungView& rung, std::int64_t run, int top) {
    db::LeaderboardQuery q;
    q.task = rung.task;
    q.fidelity = rung.fidelity;
    q.top = top;
    if (!rung.members.empty()) {
        q.members = rung.members;
        for (const auto& [twin, origin] : rung.twins) q.members->push_back(twin);
    } else
        q.run = run;
    return q;
}

std::string rung_title(const std::vector<driver::RungView>& rungs, std::size_t rung, std::int64_t run, int top) {
    const driver::RungView& r = rungs.at(rung);
    const std::string shown = top > 0 ? fmt::format("top {} on {}", top, r.task) : r.task;
    std::string admitted = "every candidate";
    if (rung > 0)
        admitted = r.keep < 1 ? fmt::format("best {:g}% of rung {}", 100 * r.keep, rung)
                              : fmt::format("best {:g} of rung {}", r.keep, rung);
    const std::string twins =
        r.twins.empty() ? "" : fmt::format(", and {} hardened twin{}", r.twins.size(), r.twins.size() == 1 ? "" : "s");
    if (rungs.size() == 1) return fmt::format("{}{} (run {})", shown, twins, run);
    return fmt::format("rung {} of {}: {}, {} seed{}, {}{} (run {})", rung + 1, rungs.size(), shown, r.seeds,
                       r.seeds == 1 ? "" : "s", admitted, twins, run);
}

}  // namespace actsearch::cli
