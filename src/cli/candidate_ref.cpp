#include "candidate_ref.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "actsearch/grammar/export.hpp"
#include "actsearch/grammar/parse.hpp"
#include "candidate_info.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "table_format.hpp"

namespace actsearch::cli {

std::unique_ptr<db::Store> open_for_reading(const std::string& path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status))
        throw UsageError(fmt::format("no database at '{}' (run a search or eval first)", path));
    if (std::filesystem::is_directory(status))
        throw UsageError(fmt::format("'{}' is a directory, not a database file", path));
    return std::make_unique<db::Store>(path, /*read_only=*/true);
}

namespace {

// Stored text is canonical infix written by this program, so it parses; a database written by a newer
// grammar (a primitive this build lacks) is the exception.
Expr parse_stored(const db::CandidateRecord& c) {
    ParseResult r = parse(c.expr);
    if (!r.ok())
        throw std::runtime_error(fmt::format("stored expression of candidate {} '{}' does not parse: {}", c.id,
                                             c.expr, r.error().message));
    return r.expr();
}

std::int64_t parse_positive(std::string_view s, std::string_view what) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 1)
        throw UsageError(fmt::format("bad {} '{}' (expected a positive integer)", what, s));
    return v;
}

std::string hex(std::uint64_t v) { return fmt::format("{:016x}", v); }   // as `actsearch parse` prints it

}  // namespace

CandidateTarget target_from_expression(std::string_view text, db::Store* store) {
    CandidateTarget t;
    t.expr = parse_or_report(text);
    const CandidateInfo info = describe(t.expr);
    t.text = info.text;
    if (!store) return t;
    t.stored = find_candidate(*store, info);
    if (t.stored && t.stored->expr != info.text)
        t.note = fmt::format("'{}' is not stored itself; candidate {} '{}' is functionally equivalent "
                             "(same fingerprint)",
                             info.text, t.stored->id, t.stored->expr);
    return t;
}

CandidateTarget target_from_id(db::Store& store, std::int64_t id) {
    CandidateTarget t;
    t.stored = store.candidate(id);
    if (!t.stored) throw UsageError(fmt::format("no candidate with id {} in '{}'", id, store.path()));
    t.expr = parse_stored(*t.stored);
    t.text = t.stored->expr;
    return t;
}

std::vector<int> parse_rank_specs(const std::vector<std::string>& specs) {
    constexpr std::int64_t kMaxRank = 1'000'000;
    std::vector<int> ranks;
    for (const std::string& spec : specs) {
        const auto dash = spec.find('-');
        const std::int64_t first = parse_positive(spec.substr(0, dash), "rank");
        const std::int64_t last = dash == std::string::npos ? first : parse_positive(spec.substr(dash + 1), "rank");
        if (last < first) throw UsageError(fmt::format("bad rank range '{}' (the first rank must come first)", spec));
        if (last > kMaxRank) throw UsageError(fmt::format("rank {} is out of range", last));
        for (std::int64_t r = first; r <= last; ++r) ranks.push_back(static_cast<int>(r));
    }
    return ranks;
}

std::vector<CandidateTarget> targets_from_ranks(db::Store& store, const std::vector<int>& ranks,
                                                db::LeaderboardQuery query) {
    if (ranks.empty()) return {};
    query.top = *std::max_element(ranks.begin(), ranks.end());
    const std::vector<db::LeaderboardRow> rows = store.leaderboard(query);
    std::vector<CandidateTarget> targets;
    for (int rank : ranks) {
        if (rank > static_cast<int>(rows.size())) {
            throw UsageError(fmt::format("no rank {}: the leaderboard{} has {} row{}", rank,
                                         query.task ? fmt::format(" for task '{}'", *query.task) : "", rows.size(),
                                         rows.size() == 1 ? "" : "s"));
        }
        CandidateTarget t = target_from_id(store, rows[static_cast<std::size_t>(rank - 1)].candidate);
        t.row = rows[static_cast<std::size_t>(rank - 1)];
        t.rank = rank;
        targets.push_back(std::move(t));
    }
    return targets;
}

std::string default_name(const CandidateTarget& t) {
    if (t.rank > 0) return fmt::format("act_rank{}", t.rank);
    return make_identifier(t.text);
}

std::string candidate_json(db::Store* store, const CandidateTarget& t) {
    JsonWriter j;
    j.begin_object();
    j.key("expression").value(t.text);
    j.key("latex").value(export_latex(t.expr));
    j.key("betas").value(t.expr.beta_count());
    if (t.rank > 0) j.key("rank").value(t.rank);
    if (!t.note.empty()) j.key("note").value(t.note);

    j.key("candidate");
    if (!t.stored || !store) {
        j.null();
        j.end_object();
        return j.str();
    }
    const db::CandidateRecord& c = *t.stored;
    j.begin_object();
    j.key("id").value(c.id);
    j.key("expr").value(c.expr);
    // Hex strings: JSON numbers lose precision above 2^53.
    j.key("structural_hash").value(hex(c.structural_hash));
    j.key("fingerprint").value(hex(c.fingerprint));
    j.key("valid").value(c.valid);
    j.key("invalid_reason").value(c.invalid_reason);
    j.key("representative");
    if (c.representative) j.value(*c.representative); else j.null();
    j.end_object();

    j.key("equivalents").begin_array();
    for (const db::CandidateRecord& e : store->equivalents_of(c.id)) {
        j.begin_object().key("id").value(e.id).key("expr").value(e.expr);
        j.key("representative");
        if (e.representative) j.value(*e.representative); else j.null();
        j.end_object();
    }
    j.end_array();

    db::LeaderboardQuery q;
    q.candidate = c.id;
    q.top = 0;
    q.min_seeds = 0;
    j.key("scores").begin_array();
    for (const db::LeaderboardRow& r : store->leaderboard(q)) {
        j.begin_object();
        j.key("task").value(r.task);
        j.key("fidelity").value(r.fidelity);
        j.key("mean").value(r.mean);
        j.key("stddev").value(r.stddev);
        j.key("seeds").value(r.seeds);
        j.key("ok").value(r.n_ok);
        j.key("diverged").value(r.n_diverged);
        j.key("invalid").value(r.n_invalid);
        j.key("other").value(r.n_other);
        j.key("best_run");
        if (r.best_run > 0) j.value(r.best_run); else j.null();
        j.end_object();
    }
    j.end_array();

    j.key("evaluations").begin_array();
    for (const db::EvaluationRecord& e : store->evaluations_of(c.id)) {
        j.begin_object();
        j.key("id").value(e.id);
        j.key("candidate").value(e.candidate);
        j.key("run");
        if (e.run > 0) j.value(e.run); else j.null();
        j.key("task").value(e.task);
        j.key("fidelity").value(e.fidelity);
        j.key("seed").value(e.seed);
        j.key("status").value(e.status);
        j.key("val_acc").value(e.val_acc);
        j.key("val_loss").value(e.val_loss);
        j.key("train_loss").value(e.train_loss);
        j.key("seconds").value(e.seconds);
        j.key("message").value(e.message);
        j.key("created").value(e.created);
        j.end_object();
    }
    j.end_array();
    j.end_object();
    return j.str();
}

void add_selection_options(CLI::App* cmd, CandidateSelection& s) {
    cmd->add_option("expr", s.exprs, "Expressions (no database needed)");
    cmd->add_option("--id", s.ids, "Stored candidate ids")->check(CLI::PositiveNumber);
    cmd->add_option("--rank", s.ranks, "Leaderboard ranks: N or a range A-B (as `actsearch leaderboard` ranks them)");
    cmd->add_option("--top", s.top, "The top N of the leaderboard")->check(CLI::NonNegativeNumber);
    cmd->add_option("--db", s.db, "Results database")->capture_default_str();
    cmd->add_option("--task", s.task, "Rank on this task only");
    cmd->add_option("--run", s.run, "Rank on this run's evaluations only")->check(CLI::PositiveNumber);
    cmd->add_option("--min-seeds", s.min_seeds, "Rank only candidates with this many ok seeds")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
}

std::vector<CandidateTarget> select_targets(const CandidateSelection& s, std::unique_ptr<db::Store>& store,
                                            bool open_if_present, const char* verb) {
    std::vector<std::string> rank_specs = s.ranks;
    if (s.top > 0) rank_specs.push_back(fmt::format("1-{}", s.top));
    const std::vector<int> ranks = parse_rank_specs(rank_specs);
    if (s.exprs.empty() && s.ids.empty() && ranks.empty())
        throw UsageError(fmt::format("nothing to {}: give an EXPR, --id ID, --rank N or --top N", verb));
    if (!s.ids.empty() || !ranks.empty() || (open_if_present && std::filesystem::exists(s.db)))
        store = open_for_reading(s.db);

    std::vector<CandidateTarget> targets;
    for (const std::string& e : s.exprs) targets.push_back(target_from_expression(e, store.get()));
    for (std::int64_t id : s.ids) targets.push_back(target_from_id(*store, id));
    if (!ranks.empty()) {
        db::LeaderboardQuery q;
        q.task = s.task;
        q.run = s.run;
        q.min_seeds = s.min_seeds;
        for (CandidateTarget& t : targets_from_ranks(*store, ranks, q)) targets.push_back(std::move(t));
    }
    return targets;
}

}  // namespace actsearch::cli
