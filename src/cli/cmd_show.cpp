// actsearch show ID|EXPR: everything recorded about one candidate and its equivalents.
#include <algorithm>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "candidate_ref.hpp"
#include "commands.hpp"
#include "table_format.hpp"

namespace actsearch::cli {
namespace {

struct ShowOptions {
    std::string candidate;
    std::string db = kDefaultDb;
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
                 {"train_loss", Align::Right, 4}, {"seconds", Align::Right, 2}, {"message"}};
    for (const db::EvaluationRecord& e : store.evaluations_of(candidate)) {
        t.add_row({e.id, e.candidate, e.run > 0 ? Cell{e.run} : Cell{}, e.task, e.fidelity, e.seed, e.status,
                   e.val_acc, e.val_loss, e.train_loss, e.seconds, e.message});
    }
    return t;
}

Table scores_table(db::Store& store, std::int64_t candidate) {
    db::LeaderboardQuery q;
    q.candidate = candidate;
    q.top = 0;
    q.min_seeds = 0;
    Table t;
    t.columns = {{"task"},
                 {"fidelity"},
                 {"mean", Align::Right, 4},
                 {"std", Align::Right, 4},
                 {"seeds", Align::Right},
                 {"ok", Align::Right},
                 {"diverged", Align::Right},
                 {"invalid", Align::Right},
                 {"other", Align::Right},
                 {"best_run", Align::Right}};
    for (const db::LeaderboardRow& r : store.leaderboard(q)) {
        t.add_row({r.task, r.fidelity, r.mean, r.n_ok > 0 ? Cell{r.stddev} : Cell{}, r.seeds, r.n_ok,
                   r.n_diverged, r.n_invalid, r.n_other, r.best_run > 0 ? Cell{r.best_run} : Cell{}});
    }
    return t;
}

void run_show(const ShowOptions& o) {
    const OutputFormat format = output_format_from(o.format);
    auto store = open_for_reading(o.db);
    CandidateTarget t;
    if (is_id(o.candidate)) {
        std::int64_t id = 0;
        try {
            id = std::stoll(o.candidate);
        } catch (const std::out_of_range&) {
            throw UsageError(fmt::format("no candidate with id {} in '{}'", o.candidate, o.db));
        }
        t = target_from_id(*store, id);
    } else {
        t = target_from_expression(o.candidate, store.get());
        if (!t.stored)
            throw UsageError(fmt::format("'{}' is not in '{}' (no candidate with this canonical form or an "
                                         "equivalent fingerprint)",
                                         t.text, o.db));
    }
    const db::CandidateRecord& c = *t.stored;

    if (format == OutputFormat::Json) {
        fmt::print("{}", candidate_json(store.get(), t));
        return;
    }
    if (format == OutputFormat::Csv) {
        fmt::print("{}", render_csv(evaluations_table(*store, c.id)));
        return;
    }

    if (!t.note.empty()) fmt::print("{}\n\n", t.note);
    fmt::print("candidate {}  {}\n", c.id, c.expr);
    fmt::print("  structural hash {:016x}, fingerprint {:016x}, {}\n", c.structural_hash, c.fingerprint,
               c.valid ? "valid" : "INVALID: " + c.invalid_reason);
    // A search can find dozens of spellings of one function; the JSON output lists them all.
    constexpr std::size_t kMaxEquivalentsShown = 10;
    const auto equivalents = store->equivalents_of(c.id);
    for (std::size_t i = 0; i < equivalents.size() && i < kMaxEquivalentsShown; ++i) {
        const db::CandidateRecord& e = equivalents[i];
        const bool is_rep = c.representative && *c.representative == e.id;
        fmt::print("  {} {}  {}\n", is_rep ? "representative" : "equivalent    ", e.id, e.expr);
    }
    if (equivalents.size() > kMaxEquivalentsShown)
        fmt::print("  ... and {} more equivalents (--format json lists them all)\n",
                   equivalents.size() - kMaxEquivalentsShown);
    if (c.representative) fmt::print("  (its results are its representative's)\n");

    const Table scores = scores_table(*store, c.id);
    if (scores.rows.empty()) {
        fmt::print("\nno evaluations\n");
        return;
    }
    fmt::print("\nscores\n{}", render_text(scores));
    fmt::print("\nevaluations\n{}", render_text(evaluations_table(*store, c.id)));
}

}  // namespace

void add_show_command(CLI::App& app) {
    auto opts = std::make_shared<ShowOptions>();
    CLI::App* cmd = app.add_subcommand(
        "show", "Every evaluation of one candidate and its equivalents, with its scores per task and fidelity");
    cmd->add_option("candidate", opts->candidate,
                    "A candidate id (digits only) or an expression, looked up by canonical form and else by "
                    "functional fingerprint")
        ->required();
    cmd->add_option("--db", opts->db, "Results database")->capture_default_str();
    cmd->add_option("--format", opts->format, "table, csv (the evaluations) or json (everything)")
        ->capture_default_str();
    cmd->callback([opts] { run_show(*opts); });
}

}  // namespace actsearch::cli
