// actsearch eval EXPR: train a candidate on a proxy task for K seeds and report its score.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>
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
#include "leaderboard_stats.hpp"
#include "progress.hpp"
#include "table_format.hpp"
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
    std::string format = "table";
    std::string db = kDefaultDb;
    bool no_db = false;
};

struct SeedResult {
    std::uint64_t seed;
    engine::EvalResult result;
};

// Validation accuracy over the ok seeds.
struct SeedSummary {
    std::int64_t n = 0;
    double mean = 0, stddev = 0;   // sample std; 0 for one seed
    std::optional<Interval> ci;    // 95%, from two seeds on
};

void print_json(const EvalOptions& o, const CandidateInfo& cand, const engine::TaskConfig& task,
                const std::vector<SeedResult>& results, const SeedSummary& sum, double wall) {
    Json doc = {{"expr", o.expr}, {"canonical", cand.text}, {"task", task.name}, {"fidelity", task.fidelity.key()}};
    Json& seeds = doc["seeds"] = Json::array();
    for (const auto& [seed, r] : results)
        seeds.push_back({{"seed", seed},
                         {"status", engine::to_string(r.status)},
                         {"val_acc", r.val_acc},
                         {"val_loss", r.val_loss},   // NaN (diverged) is written as null
                         {"train_loss", r.train_loss},
                         {"seconds", r.seconds},
                         {"message", r.message}});
    doc["ok"] = sum.n;
    doc["mean"] = sum.n > 0 ? Json(sum.mean) : Json(nullptr);
    doc["std"] = sum.n > 1 ? Json(sum.stddev) : Json(nullptr);
    doc["ci_low"] = sum.ci ? Json(sum.ci->low) : Json(nullptr);
    doc["ci_high"] = sum.ci ? Json(sum.ci->high) : Json(nullptr);
    doc["seconds"] = wall;
    fmt::print("{}", json_text(doc));
}

void print_csv(const CandidateInfo& cand, const engine::TaskConfig& task, const std::vector<SeedResult>& results) {
    Table t;
    t.columns = {{"expression"}, {"task"},     {"fidelity"}, {"seed"},    {"status"},
                 {"val_acc"},    {"val_loss"}, {"train_loss"}, {"seconds"}, {"message"}};
    for (const auto& [seed, r] : results)
        t.add_row({cand.text, task.name, task.fidelity.key(), static_cast<std::int64_t>(seed),
                   std::string(engine::to_string(r.status)), r.val_acc, r.val_loss, r.train_loss, r.seconds,
                   r.message});
    fmt::print("{}", render_csv(t));
}

void print_table(const CandidateInfo& cand, const engine::TaskConfig& task, const std::vector<SeedResult>& results,
                 const SeedSummary& sum, double wall, int threads) {
    fmt::print("{} on {} ({})\n", cand.text, task.name, task.fidelity.key());
    fmt::print("{:>6}  {:>9}  {:>8}  {:>9}  {:>10}  {:>8}\n", "seed", "status", "val_acc", "val_loss", "train_loss",
               "seconds");
    for (const auto& r : results)
        fmt::print("{:>6}  {:>9}  {:>8.4f}  {:>9.4f}  {:>10.4f}  {:>8.2f}{}\n", r.seed,
                   engine::to_string(r.result.status), r.result.val_acc, r.result.val_loss, r.result.train_loss,
                   r.result.seconds, r.result.message.empty() ? "" : "  " + r.result.message);
    if (sum.n == 0) {
        fmt::print("no seed finished ok ({} s wall)\n", fmt::format("{:.1f}", wall));
        return;
    }
    fmt::print("validation accuracy {:.4f} +- {:.4f} over {} seed{}{} ({:.1f} s wall, {} thread{})\n", sum.mean,
               sum.stddev, sum.n, sum.n > 1 ? "s" : "",
               sum.ci ? fmt::format(", 95% ci {:.4f}-{:.4f}", sum.ci->low, sum.ci->high) : std::string(), wall,
               threads, threads > 1 ? "s" : "");
}

void run_eval(const EvalOptions& o) {
    const Expr expr = parse_or_report(o.expr, notation_from(o.notation));
    const engine::TaskConfig task = resolve_task_or_usage(o.task);
    const CandidateInfo cand = describe(expr);
    try {
        engine::preload(task);   // once, before any thread starts
    } catch (const engine::DataError& e) {
        throw UsageError(e.what());   // missing or malformed data files are bad input: exit 2
    }

    // Opened before training: a bad database fails at once, not after minutes of work.
    std::unique_ptr<db::Store> opened;
    if (!o.no_db) opened = open_store(o.db, /*read_only=*/false);

    const int threads = o.threads > 0 ? o.threads : omp_get_num_procs();
    // Seeds run in parallel, one per thread; spare cores go inside each evaluation's GEMMs.
    const int outer = std::min(threads, o.seeds);
    const int inner = std::max(1, threads / outer);

    std::vector<SeedResult> results(static_cast<std::size_t>(o.seeds));
    std::vector<std::atomic<double>> fraction(static_cast<std::size_t>(o.seeds));
    for (auto& f : fraction) f.store(0.0);
    ProgressLine progress;
    const OutputFormat format = output_format_from(o.format);
    const bool quiet = format != OutputFormat::Table;

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

    SeedSummary sum;
    std::vector<double> ok;
    for (const auto& r : results)
        if (r.result.status == engine::EvalStatus::Ok) ok.push_back(r.result.val_acc);
    sum.n = static_cast<std::int64_t>(ok.size());
    if (!ok.empty()) {
        for (double v : ok) sum.mean += v;
        sum.mean /= double(ok.size());
        for (double v : ok) sum.stddev += (v - sum.mean) * (v - sum.mean);
        sum.stddev = ok.size() > 1 ? std::sqrt(sum.stddev / double(ok.size() - 1)) : 0.0;   // sample std
        sum.ci = mean_interval(sum.mean, sum.stddev, sum.n);
    }

    if (!o.no_db) {
        db::Store& store = *opened;
        db::RunInfo run;
        run.strategy = "eval";
        run.space = "-";
        run.task = task.name;
        run.seed = static_cast<std::int64_t>(o.seed);
        run.config_json = json_line(Json{{"expr", o.expr},
                                         {"task", task.name},
                                         {"fidelity", task.fidelity.key()},
                                         {"seeds", o.seeds},
                                         {"seed", o.seed}});
        run.version = version();
        db::Transaction tx(store);
        const std::int64_t run_id = store.create_run(run);
        // A functionally equal candidate stored earlier is this one's representative: results are shared.
        const StoredCandidate stored = store_candidate(store, cand);
        for (const auto& r : results)
            store.insert_evaluation(
                make_evaluation(stored.target, run_id, task.name, task.fidelity.key(), r.seed, r.result, engine::identity()));
        store.set_run_status(run_id, "finished");
        tx.commit();
    }

    if (format == OutputFormat::Json)
        print_json(o, cand, task, results, sum, wall);
    else if (format == OutputFormat::Csv)
        print_csv(cand, task, results);
    else
        print_table(cand, task, results, sum, wall, threads);

    // A seed that could not be evaluated (out of memory, unreadable data) is a failure of the command.
    const auto failed = std::count_if(results.begin(), results.end(),
                                      [](const SeedResult& r) { return r.result.status == engine::EvalStatus::Error; });
    if (failed > 0) {
        const auto first = std::find_if(results.begin(), results.end(),
                                        [](const SeedResult& r) { return r.result.status == engine::EvalStatus::Error; });
        throw std::runtime_error(
            fmt::format("{} of {} seed{} failed: {}", failed, results.size(), results.size() == 1 ? "" : "s",
                        first->result.message.empty() ? std::string("error") : first->result.message));
    }
}

}  // namespace

void add_eval_command(CLI::App& app) {
    auto opts = std::make_shared<EvalOptions>();
    CLI::App* cmd = app.add_subcommand("eval", "Train a proxy network with one activation and report its score");
    cmd->add_option("expr", opts->expr, "Activation, e.g. 'x*sigmoid(beta*x)'")->required();
    cmd->add_option("--notation", opts->notation, "infix or aquasurf")->capture_default_str();
    add_task_options(cmd, opts->task);
    int_range(cmd->add_option("--seeds", opts->seeds, "Number of seeds (trained in parallel)")->capture_default_str(),
              1, limits::kSeeds);
    cmd->add_option("--seed", opts->seed, "First seed")->capture_default_str();
    int_range(cmd->add_option("--threads", opts->threads, "Threads (default: all cores)"), 0, limits::kThreads);
    add_format_option(cmd, opts->format, "table, csv (one row per seed) or json (one object)");
    cmd->add_option("--db", opts->db, "Store the results in this database")->capture_default_str();
    cmd->add_flag("--no-db", opts->no_db, "Do not store the results");
    cmd->callback([opts] { run_eval(*opts); });
}

}  // namespace actsearch::cli
