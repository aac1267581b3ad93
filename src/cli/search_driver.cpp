#include "search_driver.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <variant>

#include <fmt/format.h>

#include "actsearch/db/store.hpp"
#include "actsearch/engine/data.hpp"
#include "actsearch/grammar/space.hpp"
#include "actsearch/search/strategy.hpp"
#include "candidate_info.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "config_file.hpp"
#include "executor.hpp"
#include "leaderboard_print.hpp"
#include "mpi_executor.hpp"
#include "progress.hpp"
#include "table_task.hpp"

namespace actsearch::cli {

std::atomic<bool>& stop_requested() {
    static std::atomic<bool> flag{false};
    return flag;
}

namespace {

using search::Choice;

// A proxy task (trained by the engine) or a table task (looked up in an earlier run's database).
struct Scorer {
    std::string name;          // stored in evaluations.task
    std::string fidelity_key;  // stored in evaluations.fidelity
    ScoreFn score;
};

Scorer make_scorer(const TaskOptions& opts) {
    if (is_table_task(opts.task)) {
        auto table = std::make_shared<TableTask>(table_path(opts.task));
        return {opts.task, table->fidelity_key(), [table](const Job& j) { return table->score(j.expr); }};
    }
    const engine::TaskConfig task = resolve_task_or_usage(opts);
    try {
        engine::preload(task);   // once, before the threads start
    } catch (const engine::DataError& e) {
        throw UsageError(e.what());   // missing or malformed data files are bad input: exit 2
    }
    return {task.name, task.fidelity.key(), [task](const Job& j) {
                auto parsed = parse(j.expr);
                if (!parsed.ok()) {
                    engine::EvalResult r;
                    r.status = engine::EvalStatus::Error;
                    r.message = "cannot parse '" + j.expr + "': " + parsed.error().message;
                    return r;
                }
                return engine::evaluate(parsed.expr(), task, j.seed, 1);   // one thread per candidate
            }};
}

std::string run_key_json(const SearchConfig& c, const Scorer& screen) {
    return fmt::format("{{\"space\": \"{}\", \"strategy\": \"{}\", \"task\": \"{}\", \"fidelity\": \"{}\", "
                       "\"seeds\": {}, \"seed\": {}, \"batch\": {}}}",
                       json_escape(c.space), json_escape(c.strategy), json_escape(screen.name),
                       json_escape(screen.fidelity_key), c.seeds, c.seed, c.batch);
}

// The driver's own resumable state: which candidates this run has trained (the budget counts them).
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

struct Item {                 // one proposed choice in the current round
    Choice choice;
    CandidateInfo info;
    std::int64_t candidate = 0;   // its own row
    std::int64_t target = 0;      // the row whose results count (its representative, or itself)
    std::string target_expr;
    std::vector<std::optional<engine::EvalResult>> results;   // per seed
    bool skipped = false;         // not evaluated this round (budget or stop)
};

double reward_of(const Item& it) {
    double sum = 0;
    for (const auto& r : it.results)
        if (r && r->status == engine::EvalStatus::Ok) sum += r->val_acc;
    return it.results.empty() ? 0.0 : sum / double(it.results.size());
}

engine::EvalResult from_record(const db::EvaluationRecord& e) {
    engine::EvalResult r;
    r.status = engine::status_from_string(e.status);
    r.val_acc = e.val_acc;
    r.val_loss = e.val_loss;
    r.train_loss = e.train_loss;
    r.seconds = e.seconds;
    r.message = e.message;
    return r;
}

}  // namespace

int run_search(const SearchConfig& cfg) {
    if (cfg.seeds < 1) throw UsageError("--seeds must be at least 1");
    if (cfg.budget < 0) throw UsageError("--budget must not be negative");
    const Space space = load_space_or_usage(cfg.space);
    search::StrategyOptions sopts;
    sopts.seed = cfg.seed;
    if (cfg.batch > 0) sopts.batch = cfg.batch;
    std::unique_ptr<search::Strategy> strategy;
    try {
        strategy = search::make_strategy(cfg.strategy, space, sopts);
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }
    const Scorer screen = make_scorer(cfg.task);
    std::optional<Scorer> promote;
    if (cfg.promote > 0) promote = make_scorer(cfg.promote_task);

    const int threads = cfg.threads > 0 ? cfg.threads : mpi_default_threads();
    std::vector<ScoreFn> scorers{screen.score};   // Job::task indexes this list
    if (promote) scorers.push_back(promote->score);
    if (mpi_active() && mpi_rank() != 0) {
        mpi_worker_loop(scorers, threads);
        return 0;
    }
    std::unique_ptr<Executor> executor = make_mpi_executor();
    if (!executor) executor = make_local_executor(scorers, threads);
    // The round size shapes evolution's and RL's trajectories, so it must not depend on the number of
    // threads or ranks: the same command gives the same search anywhere (set --round >= 2x the slots
    // on a big cluster to keep every worker busy).
    const std::size_t round = cfg.batch > 0 ? cfg.batch : sopts.batch;

    db::Store store(cfg.db);
    const std::string key = run_key_json(cfg, screen);
    std::int64_t run_id = 0;
    bool resumed = false;
    if (cfg.resume) {
        auto info = store.run(*cfg.resume);
        if (!info) throw UsageError(fmt::format("no run {} in '{}'", *cfg.resume, cfg.db));
        if (info->config_json != key)
            throw UsageError(fmt::format("run {} was started with another configuration: {}", *cfg.resume,
                                         info->config_json));
        run_id = *cfg.resume;
        resumed = true;
    } else if (!cfg.new_run) {
        if (auto found = store.find_run(cfg.strategy, cfg.space, screen.name, key)) {
            run_id = *found;
            resumed = true;
        }
    }
    std::set<std::int64_t> trained;
    if (resumed) {
        if (auto blob = store.load_state(run_id, "strategy")) {
            try {
                strategy->load(*blob);
            } catch (const std::exception& e) {
                throw std::runtime_error(fmt::format("cannot resume run {}: {}", run_id, e.what()));
            }
        }
        if (auto blob = store.load_state(run_id, "driver")) trained = load_trained(*blob);
        store.set_run_status(run_id, "running");
        if (!cfg.quiet)
            fmt::print(stderr, "resuming run {} ({} candidates trained so far)\n", run_id, trained.size());
    } else {
        db::RunInfo info;
        info.strategy = cfg.strategy;
        info.space = cfg.space;
        info.task = screen.name;
        info.seed = static_cast<std::int64_t>(cfg.seed);
        info.config_json = key;
        info.version = version();
        run_id = store.create_run(info);
        if (!cfg.quiet) fmt::print(stderr, "run {}: {} search of {} on {}\n", run_id, cfg.strategy, cfg.space, screen.name);
    }
    if (!cfg.config_file.empty()) store.save_state(run_id, kRunConfigKey, cfg.config_file);   // config_file.hpp

    ProgressLine progress;
    std::size_t rounds = 0, cached = 0, invalid = 0, trained_now = 0;
    double best = -1;
    std::string best_expr;
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    auto out_of_time = [&] { return cfg.time_limit > 0 && elapsed() >= cfg.time_limit; };
    const StopFn should_stop = [&] { return stop_requested().load() || out_of_time(); };
    auto seed_of = [&](int s) { return cfg.seed + static_cast<std::uint64_t>(s); };
    auto run_query = [&](const Scorer& scorer, int top) {
        db::LeaderboardQuery q;
        q.task = scorer.name;
        q.fidelity = scorer.fidelity_key;
        q.run = run_id;
        q.top = top;
        return q;
    };
    auto budget_left = [&]() -> std::int64_t {
        return cfg.budget > 0 ? cfg.budget - static_cast<std::int64_t>(trained.size()) : INT64_MAX;
    };
    auto show = [&](bool force) {
        if (cfg.quiet) return;
        const double el = elapsed();
        const double rate = el > 0 ? 60.0 * double(trained_now) / el : 0;
        double left = -1;
        if (cfg.budget > 0 && rate > 0) left = 60.0 * double(budget_left()) / rate;
        if (cfg.time_limit > 0) left = left < 0 ? cfg.time_limit - el : std::min(left, cfg.time_limit - el);
        const std::string total = cfg.budget > 0 ? fmt::format("/{}", cfg.budget) : "";
        progress.update(fmt::format("  {}{} trained ({} reused, {} invalid) | {:.1f}/min | best {:.4f} {} | {} left",
                                    trained.size(), total, cached, invalid, rate, std::max(best, 0.0),
                                    best_expr.size() > 40 ? best_expr.substr(0, 37) + "..." : best_expr,
                                    left < 0 ? std::string("?") : format_seconds(left)),
                        force);
    };

    bool exhausted = false, interrupted = false;
    while (!exhausted) {
        if (stop_requested().load()) { interrupted = true; break; }
        if (out_of_time() || budget_left() <= 0) break;
        std::vector<Choice> choices = strategy->propose(round);
        if (choices.empty()) { exhausted = true; break; }
        ++rounds;

        // Describe every proposal, reuse what the database already knows, collect what must be trained.
        std::vector<Item> items(choices.size());
        std::vector<Job> jobs;
        std::map<std::pair<std::int64_t, std::uint64_t>, std::size_t> job_of;   // (target, seed) -> job
        std::set<std::int64_t> new_targets;
        store.begin();
        for (std::size_t i = 0; i < choices.size(); ++i) {
            Item& it = items[i];
            it.choice = choices[i];
            it.info = describe(space.build(it.choice));
            it.results.resize(static_cast<std::size_t>(cfg.seeds));
            if (!it.info.fingerprint.valid) {
                it.candidate = it.target = record_candidate(store, it.info);
                engine::EvalResult r;
                r.status = engine::EvalStatus::Invalid;
                r.message = it.info.fingerprint.reason;
                for (int s = 0; s < cfg.seeds; ++s) {
                    store.insert_evaluation(make_evaluation(it.target, run_id, screen.name, screen.fidelity_key,
                                                            seed_of(s), r));
                    it.results[static_cast<std::size_t>(s)] = r;
                }
                ++invalid;
                continue;
            }
            const StoredCandidate stored = store_candidate(store, it.info);
            it.candidate = stored.candidate;
            it.target = stored.target;
            it.target_expr = stored.target_expr;
            bool needs_training = false;
            for (int s = 0; s < cfg.seeds; ++s) {
                auto e = store.find_evaluation(it.target, screen.name, screen.fidelity_key,
                                               static_cast<std::int64_t>(seed_of(s)));
                // A stored error (data read failure, ...) says nothing about the candidate: train again.
                if (e && e->status != "error") {
                    it.results[static_cast<std::size_t>(s)] = from_record(*e);
                    // Trained by this run before a crash, after its last saved state: still counts.
                    if (e->run == run_id && e->status != "invalid") trained.insert(it.target);
                    continue;
                }
                needs_training = true;
            }
            if (!needs_training) {
                ++cached;
                continue;
            }
            if (!trained.count(it.target) && !new_targets.count(it.target) &&
                static_cast<std::int64_t>(new_targets.size()) >= budget_left()) {
                it.skipped = true;   // over budget: leave it for a later, larger run
                continue;
            }
            if (!trained.count(it.target)) new_targets.insert(it.target);
            for (int s = 0; s < cfg.seeds; ++s) {
                if (it.results[static_cast<std::size_t>(s)]) continue;
                const std::uint64_t seed = seed_of(s);
                if (job_of.emplace(std::make_pair(it.target, seed), jobs.size()).second)
                    jobs.push_back({jobs.size(), it.target_expr, seed, 0});
            }
        }
        store.commit();

        // Train. Each result is committed as soon as it is known.
        std::vector<std::optional<engine::EvalResult>> job_results(jobs.size());
        std::vector<std::int64_t> job_target(jobs.size());
        for (const auto& [k, j] : job_of) job_target[j] = k.first;
        executor->run(jobs, [&](const Job& job, const engine::EvalResult& r) {
            job_results[job.id] = r;
            store.insert_evaluation(make_evaluation(job_target[job.id], run_id, screen.name,
                                                    screen.fidelity_key, job.seed, r));
            trained.insert(job_target[job.id]);
            ++trained_now;
            show(false);
        }, should_stop);

        bool complete = true;
        for (Item& it : items) {
            if (it.skipped) { complete = false; continue; }
            for (int s = 0; s < cfg.seeds; ++s) {
                auto& slot = it.results[static_cast<std::size_t>(s)];
                if (slot) continue;
                auto j = job_of.find({it.target, seed_of(s)});
                if (j != job_of.end() && job_results[j->second]) slot = job_results[j->second];
                else complete = false;
            }
        }
        if (!complete) {   // interrupted, out of budget or time mid-round: keep the last saved state
            interrupted = stop_requested().load();
            break;
        }
        for (const Item& it : items) {
            const double reward = reward_of(it);
            strategy->observe(it.choice, reward);
            if (it.info.fingerprint.valid && reward > best) {
                best = reward;
                best_expr = it.target_expr;
            }
        }
        store.begin();
        store.save_state(run_id, "strategy", strategy->save());
        store.save_state(run_id, "driver", save_trained(trained));
        store.commit();
        show(true);
    }
    progress.clear();

    // Promotion: re-evaluate the best candidates at higher fidelity with more seeds.
    if (promote && !interrupted && !should_stop()) {
        const auto top = store.leaderboard(run_query(screen, cfg.promote));
        std::vector<Job> jobs;
        std::vector<std::int64_t> job_target;
        for (const auto& row : top)
            for (int s = 0; s < cfg.promote_seeds; ++s) {
                const std::uint64_t seed = seed_of(s);
                auto e = store.find_evaluation(row.candidate, promote->name, promote->fidelity_key,
                                               static_cast<std::int64_t>(seed));
                if (e && e->status != "error") continue;
                jobs.push_back({jobs.size(), row.expr, seed, 1});
                job_target.push_back(row.candidate);
            }
        if (!cfg.quiet && !jobs.empty())
            fmt::print(stderr, "promoting the best {} to {} ({} evaluations)\n", top.size(), promote->name, jobs.size());
        std::size_t done = 0;
        executor->run(jobs, [&](const Job& job, const engine::EvalResult& r) {
            store.insert_evaluation(make_evaluation(job_target[job.id], run_id, promote->name,
                                                    promote->fidelity_key, job.seed, r));
            ++done;
            if (!cfg.quiet)
                progress.update(fmt::format("  promotion {}/{} on {} | last {} {:.4f}", done, jobs.size(),
                                            promote->name, job.expr, r.val_acc));
        }, should_stop);
        progress.clear();
        if (stop_requested().load()) interrupted = true;
    }

    interrupted = interrupted || stop_requested().load();
    store.set_run_status(run_id, interrupted ? "interrupted" : "finished");
    const double secs = elapsed();
    if (!cfg.quiet) {
        fmt::print("run {} {}: {} trained this session ({} in the run), {} reused, {} invalid, {} rounds, {}{}\n",
                   run_id, interrupted ? "interrupted" : (exhausted ? "finished (space exhausted)" : "finished"),
                   trained_now, trained.size(), cached, invalid, rounds, format_seconds(secs),
                   trained_now > 0 ? fmt::format(", {:.1f} trained/min", 60.0 * double(trained_now) / secs) : "");
        if (interrupted) fmt::print("resume with: the same command again (or --resume {})\n", run_id);
        print_leaderboard(store.leaderboard(run_query(screen, cfg.top)),
                          fmt::format("top {} on {} (run {})", cfg.top, screen.name, run_id));
        if (promote)
            print_leaderboard(store.leaderboard(run_query(*promote, cfg.top)),
                              fmt::format("promoted, on {}", promote->name));
    }
    return interrupted ? 130 : 0;
}

}  // namespace actsearch::cli
