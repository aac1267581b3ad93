// actsearch eval EXPR: train a candidate on a proxy task for K seeds and report its score.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "actsearch/db/store.hpp"
#include "actsearch/engine/data.hpp"
#include "actsearch/engine/evaluate.hpp"
#include "candidate_info.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "progress.hpp"
#include "task_options.hpp"

namespace actsearch::cli {
namespace {

struct EvalOptions {
    std::string expr;
    std::string notation = "infix";
    TaskOptions task;
    int seeds = 1;
    std::uint64_t seed = 0;
    int threads = 0;
    bool json = false;
    std::string db = kDefaultDb;
    bool no_db = false;
};

struct SeedResult {
    std::uint64_t seed;
    engine::EvalResult result;
};

void print_json(const EvalOptions& o, const CandidateInfo& cand, const engine::TaskConfig& task,
                const std::vector<SeedResult>& results, double mean, double stddev, int n_ok, double wall) {
    fmt::print("{{\"expr\": \"{}\", \"canonical\": \"{}\", \"task\": \"{}\", \"fidelity\": \"{}\", \"seeds\": [",
               json_escape(o.expr), json_escape(cand.text), json_escape(task.name),
               json_escape(task.fidelity.key()));
    for (std::size_t i = 0; i < results.size(); ++i) {
        const auto& r = results[i].result;
        fmt::print("{}{{\"seed\": {}, \"status\": \"{}\", \"val_acc\": {}, \"val_loss\": {}, \"train_loss\": {}, "
                   "\"seconds\": {}, \"message\": \"{}\"}}",
                   i ? ", " : "", results[i].seed, engine::to_string(r.status), r.val_acc,
                   std::isfinite(r.val_loss) ? r.val_loss : -1.0, std::isfinite(r.train_loss) ? r.train_loss : -1.0,
                   r.seconds, json_escape(r.message));
    }
    fmt::print("], \"ok\": {}, \"mean\": {}, \"std\": {}, \"seconds\": {}}}\n", n_ok, mean, stddev, wall);
}

void run_eval(const EvalOptions& o) {
    if (o.seeds < 1) throw UsageError("--seeds must be at least 1");
    const Expr expr = parse_or_report(o.expr, notation_from(o.notation));
    const engine::TaskConfig task = resolve_task_or_usage(o.task);
    const CandidateInfo cand = describe(expr);
    try {
        engine::preload(task);   // once, before any thread starts
    } catch (const engine::DataError& e) {
        throw UsageError(e.what());   // missing or malformed data files are bad input: exit 2
    }

    const int threads = o.threads > 0 ? o.threads : omp_get_num_procs();
    // Seeds run in parallel, one per thread; spare cores go inside each evaluation's GEMMs.
    const int outer = std::min(threads, o.seeds);
    const int inner = std::max(1, threads / outer);

    std::vector<SeedResult> results(static_cast<std::size_t>(o.seeds));
    std::vector<std::atomic<double>> fraction(static_cast<std::size_t>(o.seeds));
    for (auto& f : fraction) f.store(0.0);
    ProgressLine progress;
    const bool quiet = o.json;

#pragma omp parallel for num_threads(outer) schedule(dynamic, 1)
    for (int i = 0; i < o.seeds; ++i) {
        const std::uint64_t seed = o.seed + static_cast<std::uint64_t>(i);
        auto report = [&, i](double f) {
            fraction[static_cast<std::size_t>(i)].store(f);
            if (quiet) return;
            double total = 0;
            for (auto& fr : fraction) total += fr.load();
            total /= o.seeds;
            const double el = progress.elapsed();
            progress.update(fmt::format("  {} on {}: {:3.0f}%  {} elapsed, ~{} left", cand.text, task.name,
                                        100 * total, format_seconds(el),
                                        total > 0.01 ? format_seconds(el / total - el) : std::string("?")));
        };
        results[static_cast<std::size_t>(i)] = {seed, engine::evaluate(cand.canonical, task, seed, inner, report)};
    }
    progress.clear();
    const double wall = progress.elapsed();

    std::vector<double> ok;
    for (const auto& r : results)
        if (r.result.status == engine::EvalStatus::Ok) ok.push_back(r.result.val_acc);
    double mean = 0, stddev = 0;
    if (!ok.empty()) {
        for (double v : ok) mean += v;
        mean /= double(ok.size());
        for (double v : ok) stddev += (v - mean) * (v - mean);
        stddev = ok.size() > 1 ? std::sqrt(stddev / double(ok.size() - 1)) : 0.0;   // sample std
    }

    if (!o.no_db) {
        db::Store store(o.db);
        db::RunInfo run;
        run.strategy = "eval";
        run.space = "-";
        run.task = task.name;
        run.seed = static_cast<std::int64_t>(o.seed);
        run.config_json = fmt::format("{{\"expr\": \"{}\", \"task\": \"{}\", \"fidelity\": \"{}\", \"seeds\": {}, "
                                      "\"seed\": {}}}",
                                      json_escape(o.expr), json_escape(task.name), json_escape(task.fidelity.key()),
                                      o.seeds, o.seed);
        run.version = version();
        store.begin();
        const std::int64_t run_id = store.create_run(run);
        // A functionally equal candidate stored earlier is this one's representative: results are shared.
        const StoredCandidate stored = store_candidate(store, cand);
        for (const auto& r : results)
            store.insert_evaluation(
                make_evaluation(stored.target, run_id, task.name, task.fidelity.key(), r.seed, r.result));
        store.set_run_status(run_id, "finished");
        store.commit();
    }

    if (o.json) {
        print_json(o, cand, task, results, mean, stddev, static_cast<int>(ok.size()), wall);
        return;
    }
    fmt::print("{} on {} ({})\n", cand.text, task.name, task.fidelity.key());
    fmt::print("{:>6}  {:>9}  {:>8}  {:>9}  {:>10}  {:>8}\n", "seed", "status", "val_acc", "val_loss", "train_loss",
               "seconds");
    for (const auto& r : results)
        fmt::print("{:>6}  {:>9}  {:>8.4f}  {:>9.4f}  {:>10.4f}  {:>8.2f}{}\n", r.seed,
                   engine::to_string(r.result.status), r.result.val_acc, r.result.val_loss, r.result.train_loss,
                   r.result.seconds, r.result.message.empty() ? "" : "  " + r.result.message);
    if (ok.empty())
        fmt::print("no seed finished ok ({} s wall)\n", fmt::format("{:.1f}", wall));
    else
        fmt::print("validation accuracy {:.4f} +- {:.4f} over {} seed{} ({:.1f} s wall, {} thread{})\n", mean, stddev,
                   ok.size(), ok.size() > 1 ? "s" : "", wall, threads, threads > 1 ? "s" : "");
}

}  // namespace

void add_eval_command(CLI::App& app) {
    auto opts = std::make_shared<EvalOptions>();
    CLI::App* cmd = app.add_subcommand("eval", "Train a proxy network with one activation and report its score");
    cmd->add_option("expr", opts->expr, "Activation, e.g. 'x*sigmoid(beta*x)'")->required();
    cmd->add_option("--notation", opts->notation, "infix or aquasurf")->capture_default_str();
    add_task_options(cmd, opts->task);
    cmd->add_option("--seeds", opts->seeds, "Number of seeds (trained in parallel)")->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--seed", opts->seed, "First seed")->capture_default_str();
    cmd->add_option("--threads", opts->threads, "Threads (default: all cores)")->check(CLI::NonNegativeNumber);
    cmd->add_flag("--json", opts->json, "Print one JSON object");
    cmd->add_option("--db", opts->db, "Store the results in this database")->capture_default_str();
    cmd->add_flag("--no-db", opts->no_db, "Do not store the results");
    cmd->callback([opts] { run_eval(*opts); });
}

}  // namespace actsearch::cli
