#include "actsearch/driver/candidate.hpp"

#include "actsearch/grammar/print.hpp"
#include "actsearch/driver/cost_tables.hpp"

namespace actsearch::driver {

CandidateInfo describe(const Expr& e) {
    CandidateInfo c;
    c.canonical = canonicalize(e);
    c.text = to_infix(c.canonical);
    c.hash = structural_hash(c.canonical);
    c.fingerprint = fingerprint(c.canonical);
    return c;
}

std::int64_t record_candidate(db::Store& store, const CandidateInfo& c, std::optional<std::int64_t> representative,
                              const cost::CostTable* table) {
    db::CandidateRecord rec;
    rec.expr = c.text;
    rec.structural_hash = c.hash;
    rec.fingerprint = c.fingerprint.hash;
    rec.valid = c.fingerprint.valid;
    rec.invalid_reason = c.fingerprint.reason;
    rec.representative = representative;
    rec.cost = table ? cost::expr_cost(c.canonical, *table) : cost::expr_cost(c.canonical, cost_table_for(&store));
    return store.upsert_candidate(rec);
}

StoredCandidate store_candidate(db::Store& store, const CandidateInfo& c, const cost::CostTable* table) {
    StoredCandidate out;
    std::optional<std::int64_t> rep;
    if (auto existing = store.candidate_by_expr(c.text)) {
        out.candidate = existing->id;
        rep = existing->representative;
    } else {
        if (c.fingerprint.valid)
            if (auto eq = store.candidate_by_fingerprint(c.fingerprint.hash)) rep = eq->id;
        out.candidate = record_candidate(store, c, rep, table);
    }
    out.target = rep.value_or(out.candidate);
    out.target_expr = rep ? store.candidate(*rep)->expr : c.text;
    return out;
}

StoredCandidate store_twin(db::Store& store, const CandidateInfo& c, std::int64_t origin,
                           const cost::CostTable* table) {
    StoredCandidate out = store_candidate(store, c, table);
    db::CandidateRecord rec = *store.candidate(out.candidate);
    if (!rec.hardened_from && out.candidate != origin) {   // an existing row keeps its own origin
        rec.hardened_from = origin;
        store.upsert_candidate(rec);
    }
    return out;
}

std::optional<db::CandidateRecord> find_candidate(db::Store& store, const CandidateInfo& c) {
    if (auto row = store.candidate_by_expr(c.text)) return row;
    if (c.fingerprint.valid) return store.candidate_by_fingerprint(c.fingerprint.hash);
    return std::nullopt;
}

db::EvaluationRecord make_evaluation(std::int64_t candidate, std::int64_t run, const std::string& task,
                                     const std::string& fidelity, std::uint64_t seed, const engine::EvalResult& r,
                                     const std::string& engine) {
    db::EvaluationRecord e;
    e.candidate = candidate;
    e.run = run;
    e.task = task;
    e.fidelity = fidelity;
    e.seed = static_cast<std::int64_t>(seed);
    e.status = engine::to_string(r.status);
    e.val_acc = r.val_acc;
    e.val_loss = r.val_loss;
    e.train_loss = r.train_loss;
    e.seconds = r.seconds;
    e.message = r.message;
    // Rows of candidates that were never trained (invalid on the probe points) leave it unrecorded.
    if (r.status == engine::EvalStatus::Ok || r.status == engine::EvalStatus::Diverged) e.engine = engine;
    return e;
}

engine::EvalResult result_of(const db::EvaluationRecord& e) {
    engine::EvalResult r;
    r.status = engine::status_from_string(e.status);
    r.val_acc = e.val_acc;
    r.val_loss = e.val_loss;
    r.train_loss = e.train_loss;
    r.seconds = e.seconds;
    r.message = e.message;
    return r;
}

}  // namespace actsearch::driver
