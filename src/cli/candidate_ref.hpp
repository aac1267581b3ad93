// How the reporting commands (show, export, plot) find the candidates they are pointed at: an
// expression typed on the command line, a stored candidate id, or a rank on the leaderboard.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actsearch/db/store.hpp"
#include "actsearch/grammar/expr.hpp"
#include "table_format.hpp"

namespace CLI { class App; }

namespace actsearch::cli {

// Opens a database read-only for a reporting command: open_store(path, true) (cli_util.hpp); a missing or
// bad file is bad input (UsageError, exit 2).
std::unique_ptr<db::Store> open_for_reading(const std::string& path);

// " --db 'PATH'" for a hint naming a command, or nothing for the default database.
std::string db_option(const std::string& path);

struct CandidateTarget {
    Expr expr;                                  // what to plot or export
    std::string text;                           // canonical infix
    std::optional<db::CandidateRecord> stored;  // its database row, when there is one
    std::optional<db::LeaderboardRow> row;      // its leaderboard row (--rank)
    int rank = 0;                               // N for --rank N, else 0
    std::string note;                           // how it was found, when not by its own text
};

// Which candidates a command (export, plot) is pointed at: expressions, stored ids, leaderboard ranks
// or the top N, ranked under one leaderboard query (--task, --run, --min-seeds) of --db.
struct CandidateSelection {
    std::vector<std::string> exprs;
    std::vector<std::int64_t> ids;
    std::vector<std::string> ranks;   // "N" or "A-B"
    int top = 0;
    std::string db = "actsearch.db";
    std::optional<std::string> task;
    std::optional<std::int64_t> run;
    int min_seeds = 1;
    int default_top = 0;   // when nothing is selected: the top N (0: nothing selected is an error)
};

// Adds EXPR..., --id, --rank, --top, --db, --task, --run, --min-seeds to a command.
void add_selection_options(CLI::App* cmd, CandidateSelection& s);

// The selected candidates in the order: expressions, ids, ranks. Opens `store` (read-only) when ids or
// ranks need it, or when `open_if_present` and the database exists; expressions are then looked up in
// it too. UsageError "nothing to VERB: ..." when nothing was selected.
std::vector<CandidateTarget> select_targets(const CandidateSelection& s, std::unique_ptr<db::Store>& store,
                                            bool open_if_present, const char* verb);

// An expression from the command line (a parse error is printed with a caret: ReportedError(2)). With a
// store, also looks it up: by canonical text, or else a stored equivalent by functional fingerprint.
CandidateTarget target_from_expression(std::string_view text, db::Store* store);

// A stored candidate; UsageError when the id does not exist.
CandidateTarget target_from_id(db::Store& store, std::int64_t id);

// "3", "1-5" (inclusive) -> ranks in the order given, each >= 1; UsageError otherwise.
std::vector<int> parse_rank_specs(const std::vector<std::string>& specs);

// Ranks as `actsearch leaderboard` shows them under the same query (its top is ignored); UsageError
// for a rank past the end.
std::vector<CandidateTarget> targets_from_ranks(db::Store& store, const std::vector<int>& ranks,
                                                db::LeaderboardQuery query);

// A default C++ identifier for a target: act_rankN for ranks, else derived from the expression.
std::string default_name(const CandidateTarget& t);

// Everything known about a target as one JSON document: the expression (canonical, LaTeX, betas), and
// when stored its candidate row, equivalents, leaderboard rows (per task and fidelity) and evaluations.
Json candidate_json(db::Store* store, const CandidateTarget& t);

}  // namespace actsearch::cli
