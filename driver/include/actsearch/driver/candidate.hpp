// The resolve step: what the grammar knows of a candidate before any training (canonical form,
// fingerprint), and how it is written to the store and matched with stored equivalents.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "actsearch/cost/cost.hpp"
#include "actsearch/db/store.hpp"
#include "actsearch/engine/evaluate.hpp"
#include "actsearch/grammar/expr.hpp"
#include "actsearch/grammar/fingerprint.hpp"

namespace actsearch::driver {

struct CandidateInfo {
    Expr canonical;
    std::string text;            // canonical infix: the database key
    std::uint64_t hash = 0;      // structural hash of the canonical form
    Fingerprint fingerprint;
};

CandidateInfo describe(const Expr& e);

// Inserts (or finds) the candidate row; `representative` is the trained candidate it is equivalent to.
// Its cost comes from `table`, or when null from cost_table_for(&store) (a query per call: a loop over
// many candidates passes its table, computed once).
std::int64_t record_candidate(db::Store& store, const CandidateInfo& c,
                              std::optional<std::int64_t> representative = std::nullopt,
                              const cost::CostTable* table = nullptr);

// The candidate's row and the row whose results count for it: its representative when it is (or is now
// recorded as) functionally equivalent to a candidate stored earlier, itself otherwise.
struct StoredCandidate {
    std::int64_t candidate = 0;
    std::int64_t target = 0;
    std::string target_expr;   // canonical text of the target: what to train
};
StoredCandidate store_candidate(db::Store& store, const CandidateInfo& c, const cost::CostTable* table = nullptr);

// store_candidate for a hardened twin of `origin`: also fills the row's hardened_from when it has none.
StoredCandidate store_twin(db::Store& store, const CandidateInfo& c, std::int64_t origin,
                           const cost::CostTable* table = nullptr);

// Read-only lookup: the stored row with this canonical text, or else a stored equivalent (same
// fingerprint) that was trained itself.
std::optional<db::CandidateRecord> find_candidate(db::Store& store, const CandidateInfo& c);

// `engine` (engine::identity(), or empty when the score was not trained) is recorded for a result that
// training produced (ok or diverged).
db::EvaluationRecord make_evaluation(std::int64_t candidate, std::int64_t run, const std::string& task,
                                     const std::string& fidelity, std::uint64_t seed, const engine::EvalResult& r,
                                     const std::string& engine);

// The inverse of make_evaluation: a stored evaluation as the engine's result.
engine::EvalResult result_of(const db::EvaluationRecord& e);

}  // namespace actsearch::driver
