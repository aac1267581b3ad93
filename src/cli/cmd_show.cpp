// actsearch show ID|EXPR... | --rank N | --top N: everything recorded about candidates and their
// equivalents.
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "candidate_ref.hpp"
#include "commands.hpp"
#include "cost_tables.hpp"
#include "leaderboard_stats.hpp"
#include "table_format.hpp"

namespace actsearch::cli {
namespace {

struct ShowOptions {
    CandidateSelection selection;
    std::string format = "table";
};

bool is_id(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

Table evaluations_table(db::Store& store, std::int64_t candidate) {
    Table t;
    t.columns = {{"id", Align::Right},       {"candidate", Align::Right}, {"run", Align::Right},
                 {"task"},                   {"fidelity"},                {"seed", Align::Right},
                 {"status"},                 {"val_acc", Align::Right, 4}, {"val_loss", Align::Right, 4},
                 {"train_loss", Align::Right, 4}, {"seconds", Align::Right, 2}, {"engine"}, {"message"}};
    for (const db::EvaluationRecord& e : store.evaluations_of(candidate)) {
        t.add_row({e.id, e.candidate, e.run > 0 ? Cell{e.run} : Cell{}, e.task, e.fidelity, e.seed, e.status,
                   e.val_acc, e.val_loss, e.train_loss, e.seconds, e.engine.empty() ? Cell{} : Cell{e.engine},
                   e.message});
    }
    return t;
}

Table scores_table(db::Store& store, std::int64_t candidate) {
    db::LeaderboardQuery q;
    q.candidate = candidate;
    q.top = 0;
    q.min_seeds = 0;
    Table t;
    t.columns = {{"task"}, {"fidelity"}, {"mean", Align::Right, 4}, {"std", Align::Right, 4},
                 {"seeds", Align::Right}, {"95% ci", Align::Right}, {"ok", Align::Right},
                 {"diverged", Align::Right}, {"invalid", Align::Right}, {"other", Align::Right},
                 {"best_run", Align::Right}};
    for (const db::LeaderboardRow& r : store.leaderboard(q)) {
        const auto ci = mean_interval(r.mean, r.stddev, r.n_ok);
        t.add_row({r.task, r.fidelity, r.mean, r.n_ok > 1 ? Cell{r.stddev} : Cell{}, r.seeds,
                   ci ? Cell{fmt::format("{:.4f}-{:.4f}", ci->low, ci->high)} : Cell{std::string("?")}, r.n_ok,
                   r.n_diverged, r.n_invalid, r.n_other, r.best_run > 0 ? Cell{r.best_run} : Cell{}});
    }
    return t;
}

void print_page(db::Store& store, const CandidateTarget& t) {
    const db::CandidateRecord& c = *t.stored;
    if (!t.note.empty()) fmt::print("{}\n\n", t.note);
    if (t.rank > 0) fmt::print("rank {}\n", t.rank);
    fmt::print("candidate {}  {}\n", c.id, c.expr);
    fmt::print("  structural hash {:016x}, fingerprint {:016x}, {}\n", c.structural_hash, c.fingerprint,
               c.valid ? "valid" : "INVALID: " + c.invalid_reason);
    fmt::print("  cost {:.2f} x relu per element{}\n", c.cost ? *c.cost : cost::expr_cost(t.expr, cost_table_for(&store)),
               c.cost ? "" : " (computed now: not stored)");
    if (c.hardened_from) fmt::print("  hardened twin of candidate {}\n", *c.hardened_from);
    // A search can find dozens of spellings of one function; the JSON output lists them all.
    constexpr std::size_t kMaxEquivalentsShown = 10;
    const auto equivalents = store.equivalents_of(c.id);
    for (std::size_t i = 0; i < equivalents.size() && i < kMaxEquivalentsShown; ++i) {
        const db::CandidateRecord& e = equivalents[i];
        const bool is_rep = c.representative && *c.representative == e.id;
        fmt::print("  {} {}  {}\n", is_rep ? "representative" : "equivalent    ", e.id, e.expr);
    }
    if (equivalents.size() > kMaxEquivalentsShown)
        fmt::print("  ... and {} more equivalents (--format json lists them all)\n",
                   equivalents.size() - kMaxEquivalentsShown);
    if (c.representative) fmt::print("  (its results are its representative's)\n");

    const Table scores = scores_table(store, c.id);
    if (scores.rows.empty()) {
        fmt::print("\nno evaluations\n");
        // A search with --max-cost skipped it (status over_budget): never trained.
        for (const auto& e : store.evaluations_of(c.id))
            if (e.status == "over_budget" && e.candidate == c.id) {
                fmt::print("(skipped as over --max-cost by run {} on {})\n", e.run, e.task);
                break;
            }
        return;
    }
    fmt::print("\nscores\n{}", render_text(scores));
    fmt::print("\nevaluations\n{}", render_text(evaluations_table(store, c.id)));
}

void run_show(ShowOptions o) {
    const OutputFormat format = output_format_from(o.format);
    CandidateSelection& s = o.selection;
    // Digits name a stored candidate; anything else is an expression.
    std::vector<std::string> exprs;
    for (const std::string& e : s.exprs) {
        if (!is_id(e)) {
            exprs.push_back(e);
            continue;
        }
        std::int64_t id = 0;
        try {
            id = std::stoll(e);
        } catch (const std::out_of_range&) {
            id = 0;   // no such id: reported below like any other
        }
        s.ids.push_back(id);
    }
    s.exprs = exprs;
    // Only stored candidates have something to show: the database is needed whatever was selected.
    std::unique_ptr<db::Store> store = open_for_reading(s.db);
    const std::vector<CandidateTarget> targets = select_targets(s, store, true, "show");
    for (const CandidateTarget& t : targets) {
        if (t.stored) continue;
        throw UsageError(fmt::format("'{}' is not in '{}' (no candidate with this canonical form or an equivalent "
                                     "fingerprint): `actsearch leaderboard{}` lists the stored candidates; "
                                     "`actsearch eval '{}'{}` adds it",
                                     t.text, s.db, db_option(s.db), t.text, db_option(s.db)));
    }

    if (format == OutputFormat::Json) {
        if (targets.size() == 1) {
            fmt::print("{}", json_text(candidate_json(store.get(), targets[0])));
            return;
        }
        Json all = Json::array();
        for (const CandidateTarget& t : targets) all.push_back(candidate_json(store.get(), t));
        fmt::print("{}", json_text(all));
        return;
    }
    if (format == OutputFormat::Csv) {   // the evaluations of every selected candidate, one header
        Table all;
        for (const CandidateTarget& t : targets) {
            Table one = evaluations_table(*store, t.stored->id);
            all.columns = one.columns;
            for (auto& row : one.rows) all.rows.push_back(std::move(row));
        }
        if (all.columns.empty()) all.columns = evaluations_table(*store, 0).columns;
        fmt::print("{}", render_csv(all));
        return;
    }
    for (std::size_t i = 0; i < targets.size(); ++i) {
        if (i > 0) fmt::print("\n\n");
        print_page(*store, targets[i]);
    }
}

}  // namespace

void add_show_command(CLI::App& app) {
    auto opts = std::make_shared<ShowOptions>();
    CLI::App* cmd = app.add_subcommand(
        "show", "Every evaluation of candidates and their equivalents, with their scores per task and fidelity");
    add_selection_options(cmd, opts->selection);
    cmd->get_option("expr")->description(
        "Candidate ids (digits only) or expressions, looked up by canonical form and else by functional "
        "fingerprint");
    add_format_option(cmd, opts->format, "table, csv (the evaluations) or json (everything)");
    cmd->callback([opts] { run_show(*opts); });
}

}  // namespace actsearch::cli
