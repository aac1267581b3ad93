#include "actsearch/driver/search_loop.hpp"
#include "actsearch/driver/rungs.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <map>
#include <sstream>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actsearch/driver/cost_tables.hpp"
#include "actsearch/grammar/parse.hpp"

namespace actsearch::driver {

using search::Choice;

namespace {

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The loop's own resumable state: which candidates this run has trained on rung 0 (the budget counts
// them). The format of earlier versions, so that their runs resume.
std::string save_trained(const std::set<std::int64_t>& trained) {
    std::string s = "trained-v1";
    for (auto id : trained) s += fmt::format(" {}", id);
    return s;
}

std::set<std::int64_t> load_trained(const std::string& blob) {
    std::istringstream in(blob);
    std::string tag;
    in >> tag;
    if (tag != "trained-v1") throw std::runtime_error("the run's driver state is unreadable (tag '" + tag + "')");
    std::set<std::int64_t> out;
    std::int64_t id;
    while (in >> id) out.insert(id);
    return out;
}

bool any_ok(const SearchLoop::Entry& e) {
    for (const auto& r : e.results)
        if (r && r->status == engine::EvalStatus::Ok) return true;
    return false;
}

bool all_results(const SearchLoop::Entry& e) {
    return std::all_of(e.results.begin(), e.results.end(), [](const auto& r) { return r.has_value(); });
}

}  // namespace

std::string run_key(const SearchSpec& s) {
    using nlohmann::ordered_json;
    const Rung& screen = s.rungs.at(0);
    std::vector<std::pair<std::string, ordered_json>> fields{
        {"space", s.space},          {"strategy", s.strategy},
        {"task", screen.scorer.task}, {"fidelity", screen.scorer.fidelity},
        {"seeds", screen.rule.seeds}, {"seed", s.seed},
        {"batch", s.batch}};
    const bool ladder = s.rungs.size() > 2 ||
                        std::any_of(s.rungs.begin(), s.rungs.end(), [](const Rung& r) { return r.rule.asynchronous(); });
    // Cost options only when used, so that the keys of runs without them stay as they were.
    if (s.cost.max_cost > 0) fields.emplace_back("max_cost", s.cost.max_cost);
    if (s.cost.weight != 0) {
        fields.emplace_back("cost_weight", s.cost.weight);
        fields.emplace_back("cost_target", s.cost.target);
    }
    if (s.cost.harden_top > 0) fields.emplace_back("harden_top", s.cost.harden_top);
    if (ladder) {
        ordered_json rungs = ordered_json::array();
        for (std::size_t r = 1; r < s.rungs.size(); ++r)
            rungs.push_back({{"task", s.rungs[r].scorer.task},
                             {"fidelity", s.rungs[r].scorer.fidelity},
                             {"seeds", s.rungs[r].rule.seeds},
                             {"keep", s.rungs[r].rule.keep}});
        fields.emplace_back("ladder", std::move(rungs));
    }
    // nlohmann-json writes every name and value; the separators are those of the keys earlier versions
    // stored (", " and ": "), so that their runs are found again byte for byte.
    const auto dump = [](const ordered_json& j) { return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace); };
    std::string out = "{";
    for (std::size_t i = 0; i < fields.size(); ++i)
        out += (i ? ", " : "") + dump(fields[i].first) + ": " + dump(fields[i].second);
    return out + "}";
}

std::vector<RungRule> rules_of(const std::vector<Rung>& rungs) {
    std::vector<RungRule> out;
    for (const Rung& r : rungs) out.push_back(r.rule);
    return out;
}

std::vector<ScoreFn> scorers_of(const std::vector<Rung>& rungs) {
    std::vector<ScoreFn> out;
    for (const Rung& r : rungs) out.push_back(r.scorer.score);
    return out;
}

SearchLoop::SearchLoop(const Space& space, search::Strategy& strategy, db::Store& store, Executor& executor,
                       SearchSpec spec, StopFn stop, Listener* listener)
    : space_(space), strategy_(strategy), store_(store), executor_(executor), spec_(std::move(spec)),
      stop_(std::move(stop)), listener_(listener), ladder_(rules_of(spec_.rungs)),
      table_(spec_.cost_table ? *spec_.cost_table : cost_table_for(&store_)),
      rung_jobs_(spec_.rungs.size(), 0), rung_seconds_(spec_.rungs.size(), 0.0), start_(now_seconds()) {
    if (spec_.round == 0) throw std::invalid_argument("a search round must propose at least one candidate");
    if (!(spec_.cost.max_cost >= 0) || !std::isfinite(spec_.cost.weight) || !(spec_.cost.target > 0) ||
        !std::isfinite(spec_.cost.target) || spec_.cost.harden_top < 0)
        throw std::invalid_argument("cost options: max cost >= 0, a finite weight, a target > 0, harden top >= 0");
}

double mnas_reward(double score, double cost, double target, double weight) {
    if (weight == 0 || !(score > 0) || !(cost > 0)) return score;
    return score * std::pow(cost / target, weight);
}

double SearchLoop::shaped(double score, double cost) const {
    return mnas_reward(score, cost, spec_.cost.target, spec_.cost.weight);
}

double SearchLoop::cost_of(std::int64_t id, const std::string& expr) {
    if (auto it = costs_.find(id); it != costs_.end()) return it->second;
    auto parsed = parse(expr);
    const double c = parsed.ok() ? cost::expr_cost(parsed.expr(), table_) : 0.0;
    costs_.emplace(id, c);
    return c;
}

bool SearchLoop::stopping() const { return stop_ && stop_(); }
bool SearchLoop::out_of_time() const { return spec_.time_limit > 0 && now_seconds() - start_ >= spec_.time_limit; }

std::int64_t SearchLoop::budget_left() const {
    return spec_.budget > 0 ? spec_.budget - static_cast<std::int64_t>(trained_.size()) : INT64_MAX;
}

double SearchLoop::reward(const Entry& e) {
    double sum = 0;
    for (const auto& r : e.results)
        if (r && r->status == engine::EvalStatus::Ok) sum += r->val_acc;
    return e.results.empty() ? 0.0 : sum / double(e.results.size());
}

void SearchLoop::load_driver_state(const std::string& blob) {
    trained_ = load_trained(blob);
}

std::int64_t SearchLoop::open() {
    const Scorer& screen = spec_.rungs[0].scorer;
    const std::string key = run_key(spec_);
    if (spec_.resume) {
        auto info = store_.run(*spec_.resume);
        if (!info) throw SearchInputError(fmt::format("no run {} in '{}'", *spec_.resume, store_.path()));
        if (info->config_json != key)
            throw SearchInputError(fmt::format("run {} was started with another configuration: {}", *spec_.resume,
                                               info->config_json));
        run_ = *spec_.resume;
        resumed_ = true;
    } else if (!spec_.new_run) {
        if (auto found = store_.find_run(spec_.strategy, spec_.space, screen.task, key)) {
            run_ = *found;
            resumed_ = true;
        }
    }
    if (resumed_) {
        if (auto blob = store_.load_state(run_, "strategy")) {
            try {
                strategy_.load(*blob);
            } catch (const std::exception& e) {
                throw std::runtime_error(fmt::format("cannot resume run {}: {}", run_, e.what()));
            }
        }
        if (auto blob = store_.load_state(run_, "driver")) load_driver_state(*blob);
        if (auto blob = store_.load_state(run_, "cost")) {
            try {
                table_ = from_json(*blob);   // the table the run started with
            } catch (const std::exception& e) {
                throw std::runtime_error(fmt::format("cannot resume run {}: {}", run_, e.what()));
            }
        }
        if (auto blob = store_.load_state(run_, "ladder")) {
            try {
                ladder_.load(*blob);
            } catch (const std::exception& e) {
                throw std::runtime_error(fmt::format("cannot resume run {}: {}", run_, e.what()));
            }
        } else {
            // A run of an earlier version: its screened candidates are those it trained.
            const Rung& r0 = spec_.rungs[0];
            for (std::int64_t id : trained_) {
                Entry e;
                e.results.resize(static_cast<std::size_t>(r0.rule.seeds));
                for (int s = 0; s < r0.rule.seeds; ++s)
                    if (auto ev = store_.find_evaluation(id, r0.scorer.task, r0.scorer.fidelity,
                                                         static_cast<std::int64_t>(seed_of(s))))
                        e.results[static_cast<std::size_t>(s)] = result_of(*ev);
                if (all_results(e)) ladder_.finish(0, id, reward(e), any_ok(e));
            }
        }
        store_.set_run_status(run_, "running");
        if (listener_)
            listener_->message(fmt::format("resuming run {} ({} candidates trained so far)", run_, trained_.size()));
    } else {
        db::RunInfo info;
        info.strategy = spec_.strategy;
        info.space = spec_.space;
        info.task = screen.task;
        info.seed = static_cast<std::int64_t>(spec_.seed);
        info.config_json = key;
        info.version = spec_.version;
        run_ = store_.create_run(info);
        if (spec_.cost.any()) store_.save_state(run_, "cost", to_json(table_));
        if (listener_)
            listener_->message(fmt::format("run {}: {} search of {} on {}", run_, spec_.strategy, spec_.space, screen.task));
    }
    // What each rung trains, for the leaderboard's rung views (rungs.hpp).
    store_.save_state(run_, "rungs", rungs_state(spec_.rungs));
    return run_;
}

std::vector<Choice> SearchLoop::propose() {
    if (ladder_.screen_closed()) return {};
    return strategy_.propose(spec_.round);
}

SearchLoop::Round SearchLoop::resolve(const std::vector<Choice>& choices) {
    Round round;
    const Rung& screen = spec_.rungs[0];
    const auto seeds0 = static_cast<std::size_t>(screen.rule.seeds);
    std::set<std::int64_t> new_targets;
    db::Transaction tx(store_);
    for (const Choice& choice : choices) {
        Entry e;
        e.choice = choice;
        e.results.resize(seeds0);
        const CandidateInfo info = describe(space_.build(choice));
        if (!info.fingerprint.valid) {
            e.valid = false;
            e.candidate = e.target = record_candidate(store_, info, std::nullopt, &table_);
            e.expr = info.text;
            engine::EvalResult r;
            r.status = engine::EvalStatus::Invalid;
            r.message = info.fingerprint.reason;
            for (std::size_t s = 0; s < seeds0; ++s) {
                store_.insert_evaluation(make_evaluation(e.target, run_, screen.scorer.task, screen.scorer.fidelity,
                                                         seed_of(static_cast<int>(s)), r, screen.scorer.engine));
                e.results[s] = r;
            }
            ++invalid_;
            round.entries.push_back(std::move(e));
            continue;
        }
        const StoredCandidate stored = store_candidate(store_, info, &table_);
        e.candidate = stored.candidate;
        e.target = stored.target;
        e.expr = stored.target_expr;
        e.cost = cost::expr_cost(info.canonical, table_);
        e.target_cost = e.target == e.candidate ? e.cost : cost_of(e.target, e.expr);
        if (spec_.cost.max_cost > 0 && e.cost > spec_.cost.max_cost) {
            // Decided before any lookup, from the proposal's own cost: the same whatever the store holds.
            // Stored on the proposal's own row (an equivalent may be cheaper); a stored result is kept.
            e.over_budget = true;
            engine::EvalResult r;
            r.status = engine::EvalStatus::Invalid;   // reward 0, as an invalid candidate
            r.message = fmt::format("over budget: cost {:.3g} > {:.3g} (relu = 1)", e.cost, spec_.cost.max_cost);
            for (std::size_t s = 0; s < seeds0; ++s) {
                db::EvaluationRecord rec = make_evaluation(e.candidate, run_, screen.scorer.task, screen.scorer.fidelity,
                                                           seed_of(static_cast<int>(s)), r, "");
                rec.status = "over_budget";
                store_.insert_evaluation(rec);
                e.results[s] = r;
            }
            ++over_budget_;
            round.entries.push_back(std::move(e));
            continue;
        }
        if (!lookup(e)) {
            ++reused_;
        } else if (!trained_.count(e.target) && !new_targets.count(e.target) &&
                   static_cast<std::int64_t>(new_targets.size()) >= budget_left()) {
            e.skipped = true;   // over budget: leave it for a later, larger run
        } else if (!trained_.count(e.target)) {
            new_targets.insert(e.target);
        }
        round.entries.push_back(std::move(e));
    }
    for (const Ladder::Pending& p : ladder_.pending()) {
        Entry e;
        e.rung = p.rung;
        e.candidate = e.target = p.id;
        const auto row = store_.candidate(p.id);
        if (!row) throw std::runtime_error(fmt::format("run {}: promoted candidate {} is not in the database", run_, p.id));
        e.expr = row->expr;
        e.cost = e.target_cost = cost_of(e.target, e.expr);
        e.results.resize(static_cast<std::size_t>(spec_.rungs[p.rung].rule.seeds));
        lookup(e);
        round.entries.push_back(std::move(e));
    }
    tx.commit();
    add_jobs(round);
    return round;
}

bool SearchLoop::lookup(Entry& e) {
    const Scorer& sc = spec_.rungs[e.rung].scorer;
    bool needs_training = false;
    for (std::size_t s = 0; s < e.results.size(); ++s) {
        auto ev = store_.find_evaluation(e.target, sc.task, sc.fidelity,
                                         static_cast<std::int64_t>(seed_of(static_cast<int>(s))));
        // A stored error (data read failure, ...) says nothing about the candidate, and over_budget was
        // another search's decision: train.
        if (ev && ev->status != "error" && ev->status != "over_budget") {
            e.results[s] = result_of(*ev);
            // Trained by this run before a crash, after its last saved state: still counts.
            if (e.rung == 0 && !e.twin && ev->run == run_ && ev->status != "invalid") trained_.insert(e.target);
            continue;
        }
        needs_training = true;
    }
    return needs_training;
}

void SearchLoop::add_jobs(Round& round) const {
    // One job per missing (task, fidelity, target, seed), shared by every entry that needs it.
    std::map<std::tuple<std::string, std::string, std::int64_t, std::uint64_t>, std::size_t> job_of;
    for (std::size_t i = 0; i < round.entries.size(); ++i) {
        const Entry& e = round.entries[i];
        if (e.skipped || !e.valid || e.over_budget) continue;
        const Scorer& sc = spec_.rungs[e.rung].scorer;
        for (std::size_t s = 0; s < e.results.size(); ++s) {
            if (e.results[s]) continue;
            const std::uint64_t seed = seed_of(static_cast<int>(s));
            auto [it, added] = job_of.emplace(std::make_tuple(sc.task, sc.fidelity, e.target, seed), round.jobs.size());
            if (added) {
                round.jobs.push_back({round.jobs.size(), e.expr, seed, static_cast<int>(e.rung)});
                round.job_slots.emplace_back();
            }
            round.job_slots[it->second].emplace_back(i, s);
        }
    }
}

void SearchLoop::train(Round& round) {
    executor_.run(
        round.jobs,
        [&](const Job& job, const engine::EvalResult& r) {
            const auto& slots = round.job_slots.at(job.id);
            const Entry& first = round.entries[slots.front().first];
            const Scorer& sc = spec_.rungs[first.rung].scorer;
            store_.insert_evaluation(make_evaluation(first.target, run_, sc.task, sc.fidelity, job.seed, r, sc.engine));
            for (const auto& [entry, seed] : slots) {
                round.entries[entry].results[seed] = r;
                if (round.entries[entry].rung == 0 && !round.entries[entry].twin) trained_.insert(first.target);
            }
            ++trained_now_;
            if (first.twin) {
                ++twin_jobs_;
            } else {
                ++rung_jobs_[first.rung];
                rung_seconds_[first.rung] += r.seconds;
            }
            if (listener_) listener_->progress(progress(), false);
        },
        [this] { return stopping() || out_of_time(); });
}

SearchLoop::Observed SearchLoop::observe(const Round& round) {
    bool over_budget = false, missing = false;
    for (const Entry& e : round.entries) {
        if (e.skipped) over_budget = true;
        else if (!all_results(e)) missing = true;
    }
    if (missing) return Observed::Stopped;   // interrupted or out of time mid-round: keep the last saved state
    if (!over_budget) {
        for (const Entry& e : round.entries) {
            if (e.rung != 0) continue;
            const double r = reward(e);
            strategy_.observe(*e.choice, shaped(r, e.cost));
            if (e.valid && r > best_) {
                best_ = r;
                best_expr_ = e.expr;
            }
        }
    }
    // The strategy is not told of an incomplete round (it will propose it again on resume), but the
    // ladder records what did finish: the screen is over, and the count rungs need every result.
    for (const Entry& e : round.entries)
        if (!e.skipped && e.valid && !e.over_budget)
            ladder_.finish(e.rung, e.target, shaped(reward(e), e.target_cost), any_ok(e));
    if (over_budget) ladder_.close_screen();
    return over_budget ? Observed::OverBudget : Observed::Complete;
}

void SearchLoop::checkpoint(bool with_strategy) {
    db::Transaction tx(store_);
    if (with_strategy) store_.save_state(run_, "strategy", strategy_.save());
    store_.save_state(run_, "driver", save_trained(trained_));
    store_.save_state(run_, "ladder", ladder_.save());
    tx.commit();
}

Progress SearchLoop::progress() const {
    Progress p;
    p.run = run_;
    p.trained = trained_.size();
    p.budget = spec_.budget;
    p.trained_now = trained_now_;
    p.reused = reused_;
    p.invalid = invalid_;
    p.over_budget = over_budget_;
    p.twin_jobs = twin_jobs_;
    p.rounds = rounds_;
    p.best = std::max(best_, 0.0);
    p.best_expr = best_expr_;
    p.elapsed = now_seconds() - start_;
    const auto pending = ladder_.pending();
    for (std::size_t r = 0; r < spec_.rungs.size(); ++r) {
        RungProgress rp;
        rp.task = spec_.rungs[r].scorer.task;
        rp.finished = ladder_.members(r).size();
        rp.pending = static_cast<std::size_t>(
            std::count_if(pending.begin(), pending.end(), [r](const Ladder::Pending& q) { return q.rung == r; }));
        rp.jobs = rung_jobs_[r];
        rp.job_seconds = rung_seconds_[r];
        p.rungs.push_back(rp);
    }
    // Expected candidates per rung over the whole run, then the evaluations still to come at each
    // rung's measured cost.
    std::optional<double> remaining_seconds;
    if (spec_.budget > 0 || ladder_.screen_closed()) {
        double expected = 0, seconds = 0;
        for (std::size_t r = 0; r < spec_.rungs.size(); ++r) {
            const RungRule& rule = spec_.rungs[r].rule;
            double left;   // candidates still to finish this rung
            if (r == 0) {
                left = ladder_.screen_closed() ? 0.0 : double(std::max<std::int64_t>(0, budget_left()));
                expected = double(p.rungs[0].finished) + left;
            } else {
                expected = rule.asynchronous() ? std::floor(expected * rule.keep) : std::min(expected, rule.keep);
                left = std::max(0.0, expected - double(p.rungs[r].finished));
            }
            if (left <= 0) continue;
            if (rung_jobs_[r] == 0) {
                p.eta_partial = true;
                continue;
            }
            seconds += left * rule.seeds * rung_seconds_[r] / double(rung_jobs_[r]);
        }
        remaining_seconds = seconds / std::max(1, executor_.slots());
    }
    p.eta = remaining_seconds;
    if (spec_.time_limit > 0) {
        const double left = std::max(0.0, spec_.time_limit - p.elapsed);
        p.eta = p.eta ? std::min(*p.eta, left) : left;
    }
    return p;
}

Outcome SearchLoop::run() {
    open();
    start_ = last_checkpoint_ = now_seconds();
    Outcome out;
    std::vector<bool> announced(spec_.rungs.size(), false);
    for (;;) {
        if (stopping()) {
            out.interrupted = true;
            break;
        }
        if (out_of_time()) break;
        if (!ladder_.screen_closed() && budget_left() <= 0) ladder_.close_screen();
        std::vector<Choice> choices = propose();
        if (choices.empty() && !ladder_.screen_closed()) {
            exhausted_ = true;
            ladder_.close_screen();
        }
        ladder_.advance();
        for (std::size_t r = 1; r < spec_.rungs.size(); ++r) {
            if (announced[r] || spec_.rungs[r].rule.asynchronous() || !ladder_.closed(r - 1)) continue;
            announced[r] = true;
            const auto pending = ladder_.pending();
            const auto n = std::count_if(pending.begin(), pending.end(), [r](const auto& q) { return q.rung == r; });
            if (listener_ && n > 0)
                listener_->message(fmt::format("promoting the best {} to {} ({} seeds)", n,
                                               spec_.rungs[r].scorer.task, spec_.rungs[r].rule.seeds));
        }
        if (choices.empty() && ladder_.pending().empty()) {
            if (spec_.cost.harden_top > 0 && !harden_final(out.twins)) out.interrupted = stopping();
            break;
        }
        if (!choices.empty()) ++rounds_;
        Round round = resolve(choices);
        train(round);
        const Observed o = observe(round);
        if (o == Observed::Stopped) {
            out.interrupted = stopping();
            break;
        }
        // A round that trained nothing (every proposal reused or invalid) leaves nothing a resume could
        // not recompute at once, so its checkpoint waits until the last one is 10 s old: a strategy with a
        // large state proposing mostly functional duplicates (RL on paper-core2: 1.3 MB of proposed
        // candidates, hundreds of duplicate rounds per new one) spent nearly all its time saving it.
        if (!round.jobs.empty() || now_seconds() - last_checkpoint_ >= 10.0) {
            checkpoint(o == Observed::Complete);
            last_checkpoint_ = now_seconds();
        }
        if (listener_) listener_->progress(progress(), true);
    }
    out.interrupted = out.interrupted || stopping();
    store_.set_run_status(run_, out.interrupted ? "interrupted" : "finished");
    out.run = run_;
    out.resumed = resumed_;
    out.exhausted = exhausted_;
    out.progress = progress();
    return out;
}

}  // namespace actsearch::driver
