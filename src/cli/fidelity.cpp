#include "fidelity.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actsearch/db/store.hpp"
#include "actsearch/driver/executor.hpp"
#include "actsearch/engine/data.hpp"
#include "actsearch/grammar/print.hpp"
#include "candidate_info.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "progress.hpp"

namespace actsearch::cli {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

}  // namespace

FidelityReport run_fidelity(const Reference& reference, const FidelityOptions& o) {
    const engine::TaskConfig task = resolve_task_or_usage(o.task);
    try {
        engine::preload(task);
    } catch (const engine::DataError& e) {
        throw UsageError(e.what());
    }
    FidelityReport rep;
    rep.task = task.name;
    rep.fidelity = task.fidelity.key();
    rep.reference_source = reference.source;
    rep.seeds = o.seeds;

    std::vector<CandidateInfo> infos;
    for (const ReferenceEntry& e : reference.entries) {
        infos.push_back(describe(parse_or_report(e.expr)));
        FunctionResult f;
        f.expr = e.expr;
        f.canonical = infos.back().text;
        f.reference = e.score;
        for (int s = 0; s < o.seeds; ++s) f.seeds.push_back(o.seed + std::uint64_t(s));
        f.results.resize(std::size_t(o.seeds));
        rep.functions.push_back(std::move(f));
    }

    std::optional<db::Store> store;
    std::int64_t run_id = 0;
    std::vector<std::int64_t> target(infos.size(), 0);
    std::vector<std::string> target_expr(infos.size());
    // A job per (function, seed) not in the store yet; Job::id indexes `todo`.
    struct Todo {
        std::size_t function, seed_index;
    };
    std::vector<Todo> todo;
    std::vector<driver::Job> jobs;
    std::map<std::string, int> engines;   // of the trained candidate-seeds
    const auto count_engine = [&engines](const engine::EvalResult& r, const std::string& engine) {
        if (r.status == engine::EvalStatus::Ok || r.status == engine::EvalStatus::Diverged) ++engines[engine];
    };
    if (!o.db.empty()) {
        store.emplace(o.db);
        db::RunInfo run;
        run.strategy = "fidelity";
        run.space = "-";
        run.task = task.name;
        run.seed = static_cast<std::int64_t>(o.seed);
        run.config_json = nlohmann::json{{"task", task.name}, {"fidelity", task.fidelity.key()}, {"seeds", o.seeds},
                                         {"seed", o.seed}, {"reference", reference.source}}
                              .dump();
        run.version = version();
        db::Transaction tx(*store);
        run_id = store->create_run(run);
        for (std::size_t i = 0; i < infos.size(); ++i) {
            const StoredCandidate sc = store_candidate(*store, infos[i]);
            target[i] = sc.target;
            target_expr[i] = sc.target_expr;
        }
        tx.commit();
    }
    for (std::size_t i = 0; i < infos.size(); ++i)
        for (std::size_t s = 0; s < std::size_t(o.seeds); ++s) {
            FunctionResult& f = rep.functions[i];
            if (store) {
                auto e = store->find_evaluation(target[i], task.name, task.fidelity.key(), std::int64_t(f.seeds[s]));
                if (e && e->status != "error") {
                    f.results[s] = result_of(*e);
                    count_engine(f.results[s], e->engine);
                    ++rep.reused;
                    continue;
                }
            }
            jobs.push_back({todo.size(), infos[i].text, f.seeds[s], 0});
            todo.push_back({i, s});
        }

    // The search's executor, one job per thread. A job carries the canonical text, as a remote rank
    // would receive it; parsed and canonicalised again it is the canonical form `eval` trains (a fixed
    // point), so the scores are those of `eval`. Each job's CPU time is measured on its own thread.
    std::vector<double> cpu(jobs.size(), 0.0);
    const driver::ScoreFn score = [&task, &cpu](const driver::Job& j) {
        const double cpu0 = thread_cpu_seconds();
        engine::EvalResult r = engine::evaluate(canonicalize(parse_or_report(j.expr)), task, j.seed, 1);
        cpu[j.id] = thread_cpu_seconds() - cpu0;
        return r;
    };
    const auto executor = driver::make_local_executor({score}, std::max(1, std::min<int>(o.threads, int(jobs.size()))));
    ProgressLine progress;
    double cpu_total = 0;
    std::size_t done = 0;
    executor->run(
        jobs,
        [&](const driver::Job& job, const engine::EvalResult& r) {   // one call at a time
            const Todo& t = todo[job.id];
            FunctionResult& f = rep.functions[t.function];
            f.results[t.seed_index] = r;
            count_engine(r, engine::identity());
            cpu_total += cpu[job.id];
            ++done;
            if (store)   // stored at once: a killed harness keeps what it trained
                store->insert_evaluation(make_evaluation(target[t.function], run_id, task.name, task.fidelity.key(),
                                                         job.seed, r, engine::identity()));
            if (!o.quiet)
                progress.update(fmt::format("  {}/{} evaluations on {} | last {} {:.4f}", done, jobs.size(),
                                            task.name, f.canonical, r.val_acc));
        },
        [] { return false; });
    progress.clear();
    if (store) store->set_run_status(run_id, "finished");
    rep.trained = int(jobs.size());
    for (const auto& [name, count] : engines) rep.engines.push_back({name, count});
    std::stable_sort(rep.engines.begin(), rep.engines.end(),
                     [](const db::EngineCount& a, const db::EngineCount& b) { return a.evaluations > b.evaluations; });
    rep.cpu_seconds_per_eval = jobs.empty() ? kNaN : cpu_total / double(jobs.size());

    std::vector<double> ref_scores, proxy_scores, stds, walls;
    int evals = 0, diverged = 0;
    for (FunctionResult& f : rep.functions) {
        std::vector<double> rewards, ok;
        for (const engine::EvalResult& r : f.results) {
            ++evals;
            walls.push_back(r.seconds);
            if (r.status == engine::EvalStatus::Ok) {
                ++f.ok;
                ok.push_back(r.val_acc);
                rewards.push_back(r.val_acc);
            } else {
                rewards.push_back(0.0);
                if (r.status == engine::EvalStatus::Diverged) ++f.diverged;
                else ++f.other;
            }
        }
        diverged += f.diverged;
        f.score = stats::mean(rewards);
        f.ok_mean = stats::mean(ok);
        f.ok_std = ok.size() >= 2 ? stats::sample_stddev(ok) : kNaN;
        if (ok.size() >= 2) stds.push_back(f.ok_std);
        ref_scores.push_back(f.reference);
        proxy_scores.push_back(f.score);
    }
    rep.spearman = stats::spearman(ref_scores, proxy_scores);
    rep.spearman_ci = stats::bootstrap_spearman(ref_scores, proxy_scores, 2000, 1);
    rep.median_seed_std = stats::median(stds);
    rep.diverged_share = evals ? double(diverged) / evals : 0.0;
    rep.wall_seconds_per_eval = stats::median(walls);
    return rep;
}

}  // namespace actsearch::cli
