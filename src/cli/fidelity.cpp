#include "fidelity.hpp"

#include <omp.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actsearch/db/store.hpp"
#include "actsearch/engine/data.hpp"
#include "candidate_info.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "progress.hpp"

namespace actsearch::cli {

std::string_view builtin_reference_csv();   // generated from data/reference/swish-paper-cifar10.csv

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return std::string(s.substr(b, e - b + 1));
}

// Splits a CSV line on commas outside double quotes and outside parentheses.
std::vector<std::string> split_fields(std::string_view line, const std::string& where) {
    std::vector<std::string> fields;
    std::string field;
    int depth = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',' && depth == 0) {
            fields.push_back(trim(field));
            field.clear();
        } else {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            field += c;
        }
    }
    if (quoted) throw UsageError(fmt::format("{}: unterminated quote", where));
    fields.push_back(trim(field));
    return fields;
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

}  // namespace

Reference parse_reference_csv(std::string_view text, const std::string& source) {
    Reference ref;
    ref.source = source;
    std::istringstream in{std::string(text)};
    std::string line;
    int line_no = 0;
    std::vector<std::string> header;
    int expr_col = -1, score_col = -1, label_col = -1;
    while (std::getline(in, line)) {
        ++line_no;
        const std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        const std::string where = fmt::format("{}:{}", source, line_no);
        std::vector<std::string> fields = split_fields(t, where);
        if (header.empty()) {
            header = fields;
            for (int i = 0; i < int(header.size()); ++i) {
                const std::string& h = header[std::size_t(i)];
                if (h == "expr") expr_col = i;
                if (h == "score" || (h == "mean" && score_col < 0)) score_col = i;
                if (h == "paper_name" || h == "name") label_col = i;
            }
            if (expr_col < 0 || score_col < 0)
                throw UsageError(fmt::format("{}: the header must name an 'expr' column and a 'score' (or 'mean') "
                                             "column, found: {}", where, t));
            continue;
        }
        if (fields.size() != header.size())
            throw UsageError(fmt::format("{}: {} fields where the header has {} (quote an expression that holds "
                                         "commas outside parentheses)", where, fields.size(), header.size()));
        ReferenceEntry e;
        e.expr = fields[std::size_t(expr_col)];
        const std::string& score = fields[std::size_t(score_col)];
        try {
            std::size_t used = 0;
            e.score = std::stod(score, &used);
            if (used != score.size() || !std::isfinite(e.score)) throw std::invalid_argument("trailing");
        } catch (const std::exception&) {
            throw UsageError(fmt::format("{}: score '{}' is not a finite number", where, score));
        }
        if (label_col >= 0) e.label = fields[std::size_t(label_col)];
        if (e.expr.empty()) throw UsageError(fmt::format("{}: empty expression", where));
        ref.entries.push_back(std::move(e));
    }
    if (header.empty()) throw UsageError(fmt::format("{}: no header row (expr,score)", source));
    if (ref.entries.size() < 3)
        throw UsageError(fmt::format("{}: {} functions; a rank correlation needs at least 3", source, ref.entries.size()));
    return ref;
}

Reference load_reference_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError(fmt::format("cannot read reference file '{}'", path));
    std::ostringstream text;
    text << in.rdbuf();
    return parse_reference_csv(text.str(), path);
}

Reference builtin_reference() {
    Reference r = parse_reference_csv(builtin_reference_csv(), "swish-paper-cifar10.csv");
    r.source = "the Swish paper's CIFAR-10 accuracies (mean of ResNet-164, WRN-28-10, DenseNet-100-12)";
    return r;
}

Reference reference_from_store(db::Store& store, const std::vector<ReferenceEntry>& functions, const std::string& task,
                               const std::optional<std::string>& fidelity) {
    Reference ref;
    ref.source = fmt::format("task {}{} in {}", task, fidelity ? " (" + *fidelity + ")" : "", store.path());
    std::string missing;
    for (const ReferenceEntry& f : functions) {
        const CandidateInfo info = describe(parse_or_report(f.expr));
        const auto row = find_candidate(store, info);
        std::vector<double> scores;
        std::string seen_fidelity;
        if (row)
            for (const db::EvaluationRecord& e : store.evaluations_of(row->id)) {
                if (e.task != task || (fidelity && e.fidelity != *fidelity)) continue;
                if (!fidelity && !seen_fidelity.empty() && e.fidelity != seen_fidelity)
                    throw UsageError(fmt::format("task {} has results at several fidelities in '{}' ({} and {}): "
                                                 "choose one with --reference-fidelity",
                                                 task, store.path(), seen_fidelity, e.fidelity));
                seen_fidelity = e.fidelity;
                if (e.status == "ok") scores.push_back(e.val_acc);
                else if (e.status == "diverged") scores.push_back(0.0);
            }
        if (scores.empty()) {
            missing += (missing.empty() ? "" : ", ") + f.expr;
            continue;
        }
        ref.entries.push_back({f.expr, stats::mean(scores), f.label});
    }
    if (ref.entries.size() < 3)
        throw UsageError(fmt::format("{} has results for {} of the {} functions (missing: {}); evaluate them there "
                                     "first, e.g. with actsearch fidelity --task {}",
                                     ref.source, ref.entries.size(), functions.size(), missing, task));
    return ref;
}

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
    struct Job {
        std::size_t function, seed_index;
    };
    std::vector<Job> jobs;
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
                    ++rep.reused;
                    continue;
                }
            }
            jobs.push_back({i, s});
        }

    ProgressLine progress;
    std::mutex mutex;
    double cpu_total = 0;
    std::size_t done = 0;
    const int threads = std::max(1, std::min<int>(o.threads, int(jobs.size())));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        const Job job = jobs[j];
        FunctionResult& f = rep.functions[job.function];
        const double cpu0 = thread_cpu_seconds();
        engine::EvalResult r = engine::evaluate(infos[job.function].canonical, task, f.seeds[job.seed_index], 1);
        const double cpu = thread_cpu_seconds() - cpu0;
        const std::lock_guard lock(mutex);
        f.results[job.seed_index] = r;
        cpu_total += cpu;
        ++done;
        if (store)   // stored at once: a killed harness keeps what it trained
            store->insert_evaluation(make_evaluation(target[job.function], run_id, task.name, task.fidelity.key(),
                                                     f.seeds[job.seed_index], r));
        if (!o.quiet)
            progress.update(fmt::format("  {}/{} evaluations on {} | last {} {:.4f}", done, jobs.size(), task.name,
                                        f.canonical, r.val_acc));
    }
    progress.clear();
    if (store) store->set_run_status(run_id, "finished");
    rep.trained = int(jobs.size());
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
