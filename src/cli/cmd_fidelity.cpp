// actsearch fidelity: how well a proxy task ranks a reference set of functions (Spearman with a
// bootstrap interval), how noisy it is (per-seed standard deviation), and what it costs.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actsearch/db/store.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "fidelity.hpp"
#include "task_options.hpp"

namespace actsearch::cli {
namespace {

struct Options {
    FidelityOptions run;
    std::string reference;            // CSV file; empty: the built-in one
    std::string reference_task;       // or a task in the database
    std::string reference_fidelity;
    std::string format = "table";
    std::string db = kDefaultDb;
    bool no_db = false;
};

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

void print_json(const FidelityReport& r) {
    nlohmann::json fns = nlohmann::json::array();
    for (const FunctionResult& f : r.functions) {
        nlohmann::json seeds = nlohmann::json::array();
        for (std::size_t s = 0; s < f.results.size(); ++s)
            seeds.push_back({{"seed", f.seeds[s]}, {"status", engine::to_string(f.results[s].status)},
                             {"val_acc", number(f.results[s].val_acc)}, {"seconds", number(f.results[s].seconds)}});
        fns.push_back({{"expr", f.expr}, {"canonical", f.canonical}, {"reference", f.reference},
                       {"score", number(f.score)}, {"ok_mean", number(f.ok_mean)}, {"ok_std", number(f.ok_std)},
                       {"ok", f.ok}, {"diverged", f.diverged}, {"other", f.other}, {"seeds", seeds}});
    }
    nlohmann::json engines = nlohmann::json::array();   // "" -> null: a stored row that does not record it
    for (const db::EngineCount& e : r.engines)
        engines.push_back({{"engine", e.engine.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.engine)},
                           {"evaluations", e.evaluations}});
    const nlohmann::json out{{"task", r.task},
                             {"fidelity", r.fidelity},
                             {"reference", r.reference_source},
                             {"seeds", r.seeds},
                             {"spearman", number(r.spearman)},
                             {"spearman_ci95", {number(r.spearman_ci.low), number(r.spearman_ci.high)}},
                             {"median_seed_std", number(r.median_seed_std)},
                             {"diverged_share", r.diverged_share},
                             {"trained", r.trained},
                             {"reused", r.reused},
                             {"cpu_seconds_per_eval", number(r.cpu_seconds_per_eval)},
                             {"wall_seconds_per_eval", number(r.wall_seconds_per_eval)},
                             {"engines", engines},
                             {"functions", fns}};
    fmt::print("{}\n", out.dump(2));
}

void print_csv(const FidelityReport& r) {
    fmt::print("expr,reference,score,ok_mean,ok_std,ok,diverged,other\n");
    for (const FunctionResult& f : r.functions)
        fmt::print("\"{}\",{},{},{},{},{},{},{}\n", f.expr, f.reference, f.score, f.ok_mean,
                   std::isfinite(f.ok_std) ? fmt::format("{}", f.ok_std) : "", f.ok, f.diverged, f.other);
}

std::string fixed(double v, int digits) { return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "-"; }

void print_table(const FidelityReport& r) {
    fmt::print("task {}, fidelity {}\nreference: {}\n", r.task, r.fidelity, r.reference_source);
    fmt::print("{:>9}  {:>6}  {:>6}  {:>2}/{:<2}  {:>4}  {}\n", "reference", "score", "std", "ok", "n", "div",
               "expression");
    std::vector<const FunctionResult*> rows;
    for (const FunctionResult& f : r.functions) rows.push_back(&f);
    std::stable_sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->reference > b->reference; });
    for (const FunctionResult* f : rows)
        fmt::print("{:>9}  {:>6}  {:>6}  {:>2}/{:<2}  {:>4}  {}\n", fixed(f->reference, 2), fixed(f->score, 4),
                   fixed(f->ok_std, 4), f->ok, f->results.size(), f->diverged, f->expr);
    fmt::print("Spearman {} [{}, {}] (95% bootstrap over the {} functions) | median per-seed std {} points | "
               "diverged {:.0f}% | {} CPU-s per candidate-seed ({} trained now, {} reused; median wall {} s)\n",
               fixed(r.spearman, 3), fixed(r.spearman_ci.low, 2), fixed(r.spearman_ci.high, 2), r.functions.size(),
               fixed(100 * r.median_seed_std, 2), 100 * r.diverged_share, fixed(r.cpu_seconds_per_eval, 2), r.trained,
               r.reused, fixed(r.wall_seconds_per_eval, 2));
}

void run(Options& o) {
    if (o.run.threads <= 0) o.run.threads = omp_get_num_procs();
    o.run.db = o.no_db ? "" : o.db;
    o.run.quiet = o.format != "table";
    Reference ref = o.reference.empty() ? builtin_reference() : load_reference_file(o.reference);
    if (!o.reference_task.empty()) {
        if (o.no_db) throw UsageError("--reference-task reads the database: it cannot go with --no-db");
        db::Store store(o.db, /*read_only=*/true);
        ref = reference_from_store(store, ref.entries, o.reference_task,
                                   o.reference_fidelity.empty() ? std::nullopt
                                                                : std::optional<std::string>(o.reference_fidelity));
    }
    const FidelityReport report = run_fidelity(ref, o.run);
    if (o.format == "json") print_json(report);
    else if (o.format == "csv") print_csv(report);
    else print_table(report);
    // Under the table; on stderr for csv and json, which stay parseable (json also lists the engines).
    if (const std::string note = mixed_engines_note(report.engines); !note.empty())
        fmt::print(o.format == "table" ? stdout : stderr, "{}\n", note);
}

}  // namespace

void add_fidelity_command(CLI::App& app) {
    auto o = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand(
        "fidelity", "Measure a proxy task: its rank correlation with a reference ranking, its seed noise, its cost");
    add_task_options(cmd, o->run.task);
    int_range(cmd->add_option("--seeds", o->run.seeds, "Seeds per function")->capture_default_str(), 1, 100);
    cmd->add_option("--seed", o->run.seed, "First seed")->capture_default_str();
    int_range(cmd->add_option("--threads", o->run.threads, "Evaluations at once (default: all cores)"), 0,
              limits::kThreads);
    cmd->add_option("--reference", o->reference,
                    "CSV with columns expr and score (or mean); default: the Swish paper's CIFAR-10 results");
    cmd->add_option("--reference-task", o->reference_task,
                    "Score the reference's functions by this task's stored results instead (mean over seeds)");
    cmd->add_option("--reference-fidelity", o->reference_fidelity, "The fidelity key of --reference-task's results");
    cmd->add_option("--format", o->format, "table, csv or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"table", "csv", "json"}));
    cmd->add_option("--db", o->db, "Store the evaluations here (and reuse stored ones)")->capture_default_str();
    cmd->add_flag("--no-db", o->no_db, "Store nothing, reuse nothing");
    cmd->callback([o] { run(*o); });
}

}  // namespace actsearch::cli
