// The search loop, one round at a time:
//   propose    the strategy proposes a round of choices (while the screen is open);
//   resolve    each is built, canonicalised and fingerprinted; the database answers what it already
//              knows (the candidate's or a functionally equivalent candidate's results), the rest become
//              jobs, together with the candidates the ladder has admitted to a higher rung;
//   train      the executor runs the jobs (threads or MPI ranks), each result is stored at once;
//   observe    rewards go back to the strategy in proposal order, then to the ladder (rung 0 in proposal
//              order, higher rungs in order of admission), which decides the promotions (ladder.hpp);
//   checkpoint the strategy's and the loop's state are saved in one transaction;
//   promote    once the screen is closed (space exhausted or budget spent), the count rungs take the
//              best of the rung below; rounds continue until nothing is pending;
//   harden     (--harden-top K) the best K of the last rung get cheap twins (cost/harden.hpp), evaluated
//              on the last rung with its seeds.
// Cost (CostSearch): a proposal over --max-cost is never trained; it is stored as `over_budget` and
// observed like an invalid one (reward 0). With a cost weight the strategy and the ladder see MnasNet's
// reward score * (cost / target)^w instead of the score; the database keeps the raw score.
// Resuming = loading the saved state and re-proposing: whatever was stored is answered from the
// database without training, and every decision is made in a fixed order, so a resumed (or MPI) run
// ends with exactly the results of an uninterrupted single-process one.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "actsearch/cost/cost.hpp"
#include "actsearch/cost/harden.hpp"
#include "actsearch/db/store.hpp"
#include "actsearch/driver/candidate.hpp"
#include "actsearch/driver/executor.hpp"
#include "actsearch/driver/ladder.hpp"
#include "actsearch/grammar/space.hpp"
#include "actsearch/search/strategy.hpp"

namespace actsearch::driver {

// Bad input found by the loop (an unknown run to resume, a run of another configuration): the command
// line reports it as a usage error.
struct SearchInputError : std::runtime_error { using std::runtime_error::runtime_error; };

// What a rung evaluates: stored as evaluations.task / evaluations.fidelity.
struct Scorer {
    std::string task;
    std::string fidelity;
    ScoreFn score;
    std::string engine;   // what trains the candidates (engine::identity()), stored with each evaluation;
                          // empty for a table task, which looks scores up
};

struct Rung {
    Scorer scorer;
    RungRule rule;
};

std::vector<RungRule> rules_of(const std::vector<Rung>& rungs);
// One score function per rung, in order: what an executor needs (Job::task is the rung).
std::vector<ScoreFn> scorers_of(const std::vector<Rung>& rungs);

// Cost in the search (issue 11). A candidate's cost is its inference cost per element relative to
// relu(x) = 1 (cost/cost.hpp) under the run's cost table.
struct CostSearch {
    double max_cost = 0;   // > 0: a proposal costing more is not trained (stored as over_budget, reward 0)
    // MnasNet's soft constraint (Tan et al. 2019): when weight != 0 the strategy and the ladder's
    // promotions see score * (cost / target)^weight. weight < 0 (e.g. -0.07): a candidate cheaper than
    // the target gains, a dearer one loses (twice the cost: x 2^-0.07 = 0.953); weight > 0 would favour
    // expensive candidates. target > 0 only scales every reward by target^-weight.
    double weight = 0;
    double target = 1;
    int harden_top = 0;    // > 0: after the last rung, harden its best K and evaluate the twins there
    bool any() const noexcept { return max_cost > 0 || weight != 0 || harden_top > 0; }
};

// MnasNet's reward: score * (cost / target)^weight; the score itself for weight 0, a score <= 0 or a
// cost <= 0 (unknown).
double mnas_reward(double score, double cost, double target, double weight);

// A hardened twin evaluated by --harden-top.
struct HardenedTwin {
    std::int64_t origin = 0;       // the candidate of the last rung it was derived from
    std::int64_t twin = 0;         // its own row (hardened_from = origin)
    std::int64_t target = 0;       // the row whose results count (an equivalent's representative)
    std::string method;            // cost::Twin::method
    double max_error = 0;          // against the origin on [-6, 6], betas at their initial values
    double cost = 0, origin_cost = 0;
};

// The twins of `origin` (cost::harden's, in its order) worth training: only those cheaper than the
// origin; of these, the substitution twin (whatever its error: it is what hard-swish is to swish), and
// the cheapest piecewise-linear fit whose max error is at most kTwinMaxError, if any (the first listed
// of equal costs).
inline constexpr double kTwinMaxError = 0.1;
std::vector<cost::Twin> pick_twins(const std::vector<cost::Twin>& twins, double origin_cost);

struct SearchSpec {
    std::string space;                    // as given: the run's key and record
    std::string strategy;
    std::uint64_t seed = 0;               // search seed; training seeds are seed, seed + 1, ...
    std::size_t batch = 0;                // --round as given (0: the strategy's default): part of the key
    std::size_t round = 16;               // candidates proposed per round
    std::int64_t budget = 0;              // candidates trained on rung 0; 0 = no limit
    double time_limit = 0;                // seconds; 0 = none
    std::optional<std::int64_t> resume;   // this run id
    bool new_run = false;                 // do not resume a run of the same configuration
    std::vector<Rung> rungs;              // rungs[0] screens every candidate
    std::string version;                  // recorded with a new run
    CostSearch cost;                      // part of the run key when used
    // The costs' table; default: this CPU's calibration in the store, else the built-in table. A run
    // that uses CostSearch keeps the table it started with (run state "cost") and resumes with it.
    std::optional<cost::CostTable> cost_table;
};

// The run key: the configuration a run is found again by ("the same command again resumes"). Exactly
// the bytes of earlier versions for a screen-only or count-promotion search (their databases resume);
// a ladder with more than two rungs or an asynchronous rung adds its rungs.
std::string run_key(const SearchSpec& spec);

struct RungProgress {
    std::string task;
    std::size_t finished = 0;        // candidates that finished the rung in this run
    std::size_t pending = 0;         // admitted, not finished
    std::size_t jobs = 0;            // evaluations trained this session
    double job_seconds = 0;          // their total seconds
};

struct Progress {
    std::int64_t run = 0;
    std::size_t trained = 0;         // candidates trained on rung 0 by the run (the budget counts them)
    std::int64_t budget = 0;
    std::size_t trained_now = 0;     // evaluations (any rung) trained this session
    std::size_t reused = 0, invalid = 0, rounds = 0;
    std::size_t over_budget = 0;     // proposals over --max-cost, not trained (this session)
    std::size_t twin_jobs = 0;       // --harden-top evaluations trained this session (not in rungs[].jobs)
    double best = 0;                 // best rung-0 reward so far
    std::string best_expr;
    double elapsed = 0;
    std::vector<RungProgress> rungs;
    // Seconds until the whole ladder is done: every rung's expected remaining evaluations at its measured
    // cost per evaluation, over the executor's slots; capped by the time limit. Unknown (nullopt) without
    // a budget or time limit; `eta_partial`: a rung still to come has no measured cost (the estimate
    // leaves it out).
    std::optional<double> eta;
    bool eta_partial = false;
};

class Listener {
public:
    virtual ~Listener() = default;
    virtual void message(const std::string& /*line*/) {}
    // force: a round ended (else: one result arrived; the listener may throttle).
    virtual void progress(const Progress& /*p*/, bool /*force*/) {}
};

struct Outcome {
    std::int64_t run = 0;
    bool resumed = false;
    bool interrupted = false;   // stopped by the stop function (not by the time limit)
    bool exhausted = false;     // the strategy ran out of candidates
    Progress progress;
    std::vector<HardenedTwin> twins;   // --harden-top: the twins evaluated on the last rung
};

class SearchLoop {
public:
    // Everything is borrowed and must outlive the loop. `stop` is polled between jobs (Ctrl-C).
    SearchLoop(const Space& space, search::Strategy& strategy, db::Store& store, Executor& executor,
               SearchSpec spec, StopFn stop = {}, Listener* listener = nullptr);

    // The whole search: open, then rounds until the ladder is done, the time is up or stop is asked;
    // marks the run finished or interrupted.
    Outcome run();

    // --- The steps, public for tests. ---
    struct Entry {                          // one candidate to score on one rung in this round
        std::size_t rung = 0;
        std::int64_t candidate = 0;         // its own row (rung 0), or the target
        std::int64_t target = 0;            // the row whose results count
        std::string expr;                   // the target's canonical text
        std::optional<search::Choice> choice;   // rung 0: the proposal
        bool valid = true;
        bool skipped = false;               // over the --budget count: not evaluated this round
        bool over_budget = false;           // over --max-cost: never evaluated, reward 0
        bool twin = false;                  // --harden-top: not part of the ladder or the budget
        double cost = 0;                    // rung 0: the proposal's own cost (what the strategy sees)
        double target_cost = 0;             // the target's cost (what the ladder ranks with)
        std::vector<std::optional<engine::EvalResult>> results;   // per seed
    };
    struct Round {
        std::vector<Entry> entries;         // proposals in order, then promotions in order of admission
        std::vector<Job> jobs;
        std::vector<std::vector<std::pair<std::size_t, std::size_t>>> job_slots;   // job -> (entry, seed)s
    };
    enum class Observed { Complete, OverBudget, Stopped };

    std::int64_t open();                                           // create or resume the run
    std::vector<search::Choice> propose();                         // empty: screen closed or exhausted
    Round resolve(const std::vector<search::Choice>& choices);     // + the ladder's pending promotions
    void train(Round& round);
    Observed observe(const Round& round);
    void checkpoint(bool with_strategy = true);
    // After the last rung: hardens its best spec.cost.harden_top and evaluates the twins there. False
    // when stopped before every twin was evaluated.
    bool harden_final(std::vector<HardenedTwin>& twins);

    const Ladder& ladder() const noexcept { return ladder_; }
    const std::set<std::int64_t>& trained() const noexcept { return trained_; }
    Progress progress() const;
    static double reward(const Entry& e);   // mean over seeds; a seed that did not train counts 0
    const cost::CostTable& cost_table() const noexcept { return table_; }

private:
    bool out_of_time() const;
    bool stopping() const;
    std::int64_t budget_left() const;
    std::uint64_t seed_of(int s) const { return spec_.seed + static_cast<std::uint64_t>(s); }
    void load_driver_state(const std::string& blob);
    bool lookup(Entry& e);                  // fills what the store knows; true when something must train
    void add_jobs(Round& round) const;      // one job per missing (task, fidelity, target, seed)
    double shaped(double score, double cost) const;
    double cost_of(std::int64_t id, const std::string& expr);   // by the run's table, cached

    const Space& space_;
    search::Strategy& strategy_;
    db::Store& store_;
    Executor& executor_;
    SearchSpec spec_;
    StopFn stop_;
    Listener* listener_;
    Ladder ladder_;
    cost::CostTable table_;
    std::map<std::int64_t, double> costs_;
    std::int64_t run_ = 0;
    std::set<std::int64_t> trained_;
    bool resumed_ = false, exhausted_ = false;
    std::size_t reused_ = 0, invalid_ = 0, rounds_ = 0, trained_now_ = 0, over_budget_ = 0, twin_jobs_ = 0;
    double best_ = -1;
    std::string best_expr_;
    std::vector<std::size_t> rung_jobs_;
    std::vector<double> rung_seconds_;
    double start_ = 0;
    double last_checkpoint_ = 0;   // now_seconds() of the last checkpoint
};

}  // namespace actsearch::driver
