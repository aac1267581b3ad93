// --harden-top K: after the last rung, the best K of that rung get cheap twins (cost/harden.hpp), and
// the twins are evaluated on the last rung with its seeds, so that a leaderboard shows each function
// beside its twin. Everything is re-derived from the ladder's state and the store, so a resumed run
// hardens the same candidates and trains only what is missing.
#include <algorithm>

#include <fmt/format.h>

#include "actsearch/driver/rungs.hpp"
#include "actsearch/driver/search_loop.hpp"
#include "actsearch/grammar/parse.hpp"

namespace actsearch::driver {

std::vector<cost::Twin> pick_twins(const std::vector<cost::Twin>& twins, double origin_cost) {
    std::vector<cost::Twin> out;
    const cost::Twin* fit = nullptr;   // the cheapest fit within kTwinMaxError (the first of equal costs)
    for (const cost::Twin& t : twins) {
        if (!(t.cost < origin_cost)) continue;   // a twin dearer than its origin is no twin
        if (t.method.rfind("substitution", 0) == 0) out.push_back(t);
        else if (t.max_error <= kTwinMaxError && (!fit || t.cost < fit->cost)) fit = &t;
    }
    if (fit) out.push_back(*fit);
    return out;
}

namespace {

// cost::harden's twins, as many as pick_twins needs, without fitting what it could not take (each fit is
// a Nelder-Mead search, ~0.5 s): the substitution; the hard_tanh fits with 1, 2, ... terms up to the
// first within kTwinMaxError (computed together: each starts from the one before, so the largest costs
// as much as all); then the relu fits with 2, 3, ... knots until one is within kTwinMaxError or costs as
// much as the origin or the accurate hard_tanh fit (more terms cost more).
std::vector<cost::Twin> candidate_twins(const Expr& origin, double origin_cost, const cost::CostTable& table) {
    cost::HardenOptions options;
    options.knots.clear();
    std::vector<cost::Twin> out;
    double bound = origin_cost;
    // Keeps `t` and says whether to stop: it is within kTwinMaxError, or costs as much as `bound`.
    auto keep = [&](const cost::Twin& t) {
        out.push_back(t);
        if (t.method.rfind("substitution", 0) == 0) return false;
        if (t.cost >= bound) return true;
        if (t.max_error > kTwinMaxError) return false;
        bound = t.cost;
        return true;
    };
    for (const cost::Twin& t : cost::harden(origin, options, table))   // the substitution, then the clamps
        if (keep(t)) break;
    for (int k : cost::HardenOptions{}.knots) {
        cost::HardenOptions fit;
        fit.knots = {k};
        fit.clamps.clear();
        fit.substitution = false;
        const std::vector<cost::Twin> one = cost::harden(origin, fit, table);
        if (!one.empty() && keep(one.front())) break;   // empty: the fit is the origin itself
    }
    return out;
}

}  // namespace

bool SearchLoop::harden_final(std::vector<HardenedTwin>& twins) {
    twins.clear();
    const std::size_t last = spec_.rungs.size() - 1;
    const Scorer& sc = spec_.rungs[last].scorer;
    // The best K of the last rung, as the ladder ranks them (with a cost weight: by the shaped reward).
    std::vector<Ladder::Member> best;
    for (const Ladder::Member& m : ladder_.members(last))
        if (m.ok) best.push_back(m);
    std::stable_sort(best.begin(), best.end(), [](const auto& a, const auto& b) { return a.reward > b.reward; });
    if (best.size() > static_cast<std::size_t>(spec_.cost.harden_top))
        best.resize(static_cast<std::size_t>(spec_.cost.harden_top));

    Round round;
    db::Transaction tx(store_);
    for (const Ladder::Member& m : best) {
        const auto row = store_.candidate(m.id);
        if (!row) throw std::runtime_error(fmt::format("run {}: candidate {} is not in the database", run_, m.id));
        auto parsed = parse(row->expr);
        if (!parsed.ok()) continue;   // stored by an older grammar: nothing to harden
        const Expr origin = describe(parsed.expr()).canonical;
        const double origin_cost = cost::expr_cost(origin, table_);
        for (const cost::Twin& t : pick_twins(candidate_twins(origin, origin_cost, table_), origin_cost)) {
            const CandidateInfo info = describe(t.expr);
            if (!info.fingerprint.valid) continue;
            const StoredCandidate stored = store_twin(store_, info, m.id, &table_);
            if (stored.target == m.id) continue;   // functionally the origin itself
            Entry e;
            e.rung = last;
            e.twin = true;
            e.candidate = stored.candidate;
            e.target = stored.target;
            e.expr = stored.target_expr;
            e.cost = e.target_cost = t.cost;
            e.results.resize(static_cast<std::size_t>(spec_.rungs[last].rule.seeds));
            lookup(e);
            round.entries.push_back(std::move(e));
            twins.push_back({m.id, stored.candidate, stored.target, t.method, t.max_error, t.cost, origin_cost});
        }
    }
    store_.save_state(run_, "twins", twins_state(twins));   // the last rung's view lists them (rungs.hpp)
    tx.commit();
    add_jobs(round);
    if (listener_ && !round.jobs.empty())
        listener_->message(fmt::format("hardening the best {} of {}: {} twins ({} evaluations)", best.size(), sc.task,
                                       round.entries.size(), round.jobs.size()));
    train(round);
    return std::all_of(round.entries.begin(), round.entries.end(), [](const Entry& e) {
        return std::all_of(e.results.begin(), e.results.end(), [](const auto& r) { return r.has_value(); });
    });
}

}  // namespace actsearch::driver
