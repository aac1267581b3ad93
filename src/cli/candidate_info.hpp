// What the grammar knows of a candidate before any training, and how it is written to the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "actsearch/db/store.hpp"
#include "actsearch/engine/evaluate.hpp"
#include "actsearch/grammar/expr.hpp"
#include "actsearch/grammar/fingerprint.hpp"

namespace actsearch::cli {

struct CandidateInfo {
    Expr canonical;
    std::string text;            // canonical infix: the database key
    std::uint64_t hash = 0;      // structural hash of the canonical form
    Fingerprint fingerprint;
};

CandidateInfo describe(const Expr& e);

// Inserts (or finds) the candidate row; `representative` is the trained candidate it is equivalent to.
std::int64_t record_candidate(db::Store& store, const CandidateInfo& c,
                              std::optional<std::int64_t> representative = std::nullopt);

db::EvaluationRecord make_evaluation(std::int64_t candidate, std::int64_t run, const std::string& task,
                                     const std::string& fidelity, std::uint64_t seed, const engine::EvalResult& r);

}  // namespace actsearch::cli
