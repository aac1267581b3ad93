#include "candidate_ref.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "actsearch/grammar/export.hpp"
#include "actsearch/grammar/parse.hpp"
#include "candidate_info.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "cost_tables.hpp"
#include "leaderboard_stats.hpp"
#include "table_format.hpp"
#include "task_options.hpp"

namespace actsearch::cli {

std::unique_ptr<db::Store> open_for_reading(const std::string& path) { return open_store(path, /*read_only=*/true); }

std::string db_option(const std::string& path) {
    return path == kDefaultDb ? std::string() : fmt::format(" --db '{}'", path);
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
    if (!t.stored)
        throw UsageError(fmt::format("no candidate with id {} in '{}' (`actsearch leaderboard{}` lists them)", id,
                                     store.path(), db_option(store.path())));
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

Json candidate_json(db::Store* store, const CandidateTarget& t) {
    Json j = Json::object();
    j["expression"] = t.text;
    j["latex"] = export_latex(t.expr);
    j["betas"] = t.expr.beta_count();
    j["beta_initial"] = t.expr.beta_initial_values();   // what each beta starts training at
    j["cost"] = cost::expr_cost(t.expr, cost_table_for(store));   // relative to relu(x) = 1
    if (t.rank > 0) j["rank"] = t.rank;
    if (!t.note.empty()) j["note"] = t.note;
    if (!t.stored || !store) {
        j["candidate"] = nullptr;
        return j;
    }
    auto id_or_null = [](std::optional<std::int64_t> id) { return id ? Json(*id) : Json(nullptr); };
    const db::CandidateRecord& c = *t.stored;
    // Hex strings: JSON numbers lose precision above 2^53.
    j["candidate"] = {{"id", c.id},
                      {"expr", c.expr},
                      {"structural_hash", hex(c.structural_hash)},
                      {"fingerprint", hex(c.fingerprint)},
                      {"valid", c.valid},
                      {"invalid_reason", c.invalid_reason},
                      {"representative", id_or_null(c.representative)},
                      {"cost", c.cost ? Json(*c.cost) : Json(nullptr)},
                      {"hardened_from", id_or_null(c.hardened_from)}};

    Json& equivalents = j["equivalents"] = Json::array();
    for (const db::CandidateRecord& e : store->equivalents_of(c.id))
        equivalents.push_back({{"id", e.id}, {"expr", e.expr}, {"representative", id_or_null(e.representative)}});

    db::LeaderboardQuery q;
    q.candidate = c.id;
    q.top = 0;
    q.min_seeds = 0;
    Json& scores = j["scores"] = Json::array();
    for (const db::LeaderboardRow& r : store->leaderboard(q)) {
        const auto ci = mean_interval(r.mean, r.stddev, r.n_ok);
        scores.push_back({{"task", r.task},
                          {"fidelity", r.fidelity},
                          {"mean", r.mean},
                          {"stddev", r.n_ok > 1 ? Json(r.stddev) : Json(nullptr)},
                          {"seeds", r.seeds},
                          {"ci_low", ci ? Json(ci->low) : Json(nullptr)},
                          {"ci_high", ci ? Json(ci->high) : Json(nullptr)},
                          {"ok", r.n_ok},
                          {"diverged", r.n_diverged},
                          {"invalid", r.n_invalid},
                          {"other", r.n_other},
                          {"best_run", r.best_run > 0 ? Json(r.best_run) : Json(nullptr)}});
    }

    Json& evaluations = j["evaluations"] = Json::array();
    for (const db::EvaluationRecord& e : store->evaluations_of(c.id)) {
        evaluations.push_back({{"id", e.id},
                               {"candidate", e.candidate},
                               {"run", e.run > 0 ? Json(e.run) : Json(nullptr)},
                               {"task", e.task},
                               {"fidelity", e.fidelity},
                               {"seed", e.seed},
                               {"status", e.status},
                               {"val_acc", e.val_acc},
                               {"val_loss", e.val_loss},
                               {"train_loss", e.train_loss},
                               {"seconds", e.seconds},
                               {"message", e.message},
                               {"created", e.created}});
    }
    return j;
}

void add_selection_options(CLI::App* cmd, CandidateSelection& s) {
    cmd->add_option("expr", s.exprs, "Expressions (no database needed)");
    int_range(cmd->add_option("--id", s.ids, "Stored candidate ids"), 1, std::numeric_limits<std::int64_t>::max());
    cmd->add_option("--rank", s.ranks, "Leaderboard ranks: N or a range A-B (as `actsearch leaderboard` ranks them)");
    int_range(cmd->add_option("--top", s.top, "The top N of the leaderboard"), 0, limits::kTop);
    cmd->add_option("--db", s.db, "Results database")->capture_default_str();
    cmd->add_option("--task", s.task, "Rank on this task only");
    int_range(cmd->add_option("--run", s.run, "Rank on this run's evaluations only"), 1,
              std::numeric_limits<std::int64_t>::max());
    int_range(cmd->add_option("--min-seeds", s.min_seeds, "Rank only candidates with this many ok seeds")
                  ->capture_default_str(),
              0, limits::kSeeds);
}

std::vector<CandidateTarget> select_targets(const CandidateSelection& s, std::unique_ptr<db::Store>& store,
                                            bool open_if_present, const char* verb) {
    std::vector<std::string> rank_specs = s.ranks;
    if (s.top > 0) rank_specs.push_back(fmt::format("1-{}", s.top));
    std::vector<int> ranks = parse_rank_specs(rank_specs);
    const bool by_default = s.exprs.empty() && s.ids.empty() && ranks.empty() && s.default_top > 0;
    if (s.exprs.empty() && s.ids.empty() && ranks.empty() && !by_default)
        throw UsageError(fmt::format("nothing to {}: give an EXPR, --id ID, --rank N or --top N", verb));
    if (!s.ids.empty() || !ranks.empty() || by_default || (open_if_present && std::filesystem::exists(s.db)))
        store = open_for_reading(s.db);

    db::LeaderboardQuery q;
    q.task = s.task;
    q.run = s.run;
    q.min_seeds = s.min_seeds;
    if (by_default) {   // the top N, or as many as there are
        q.top = s.default_top;
        const std::size_t n = store->leaderboard(q).size();
        if (n == 0)
            throw UsageError(fmt::format("nothing to {}: the leaderboard of '{}' is empty (give an EXPR)", verb, s.db));
        for (std::size_t r = 1; r <= n; ++r) ranks.push_back(static_cast<int>(r));
    }
    std::vector<CandidateTarget> targets;
    for (const std::string& e : s.exprs) targets.push_back(target_from_expression(e, store.get()));
    for (std::int64_t id : s.ids) targets.push_back(target_from_id(*store, id));
    if (!ranks.empty())   // store is open whenever ranks are asked for; it may be null otherwise
        for (CandidateTarget& t : targets_from_ranks(*store, ranks, q)) targets.push_back(std::move(t));
    return targets;
}

}  // namespace actsearch::cli
