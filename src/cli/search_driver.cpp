#include "search_driver.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>

#include "actsearch/db/store.hpp"
#include "actsearch/driver/search_loop.hpp"
#include "actsearch/engine/data.hpp"
#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/space.hpp"
#include "actsearch/search/strategy.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "config_file.hpp"
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

template <typename T>
T number(const std::string& spec, const std::string& key, const std::string& text, T lo, T hi) {
    T v{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || !(v >= lo && v <= hi)) {
        const bool positive = std::is_floating_point_v<T> && lo == std::numeric_limits<T>::min();
        throw UsageError(positive ? fmt::format("bad --rung '{}': {} must be a number above 0 and at most {}, not '{}'",
                                                spec, key, hi, text)
                                  : fmt::format("bad --rung '{}': {} must be a number between {} and {}, not '{}'",
                                                spec, key, lo, hi, text));
    }
    return v;
}

// A --rung value that is one of `words` (any case, as the options take them).
int word(const std::string& spec, const std::string& key, const std::string& text, const Words& words) {
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    std::vector<std::string> names;
    for (const auto& [name, value] : words) {
        if (name == lower) return value;
        names.push_back(name);
    }
    throw UsageError(fmt::format("bad --rung '{}': {} must be one of {}, not '{}'", spec, key, fmt::join(names, ", "),
                                 text));
}

// A proxy task (trained by the engine) or a table task (looked up in an earlier run's database).
driver::Scorer make_scorer(const TaskOptions& opts) {
    if (is_table_task(opts.task)) {
        auto table = std::make_shared<TableTask>(table_path(opts.task));
        return {opts.task, table->fidelity_key(), [table](const driver::Job& j) { return table->score(j.expr); }};
    }
    const engine::TaskConfig task = resolve_task_or_usage(opts);
    try {
        engine::preload(task);   // once, before the threads start
    } catch (const engine::DataError& e) {
        throw UsageError(e.what());   // missing or malformed data files are bad input: exit 2
    }
    return {task.name, task.fidelity.key(), [task](const driver::Job& j) {
                auto parsed = parse(j.expr);
                if (!parsed.ok()) {
                    engine::EvalResult r;
                    r.status = engine::EvalStatus::Error;
                    r.message = "cannot parse '" + j.expr + "': " + parsed.error().message;
                    return r;
                }
                return engine::evaluate(parsed.expr(), task, j.seed, 1);   // one thread per candidate
            },
            engine::identity()};
}

// The progress line: rung 0's counts as before, the rungs above it, and the time left for all of them.
class ProgressPrinter final : public driver::Listener {
public:
    void message(const std::string& line) override {
        line_.clear();
        fmt::print(stderr, "{}\n", line);
    }
    void progress(const driver::Progress& p, bool force) override {
        const double rate = p.elapsed > 0 ? 60.0 * double(p.trained_now) / p.elapsed : 0;
        std::string rungs;
        for (std::size_t r = 1; r < p.rungs.size(); ++r)
            rungs += fmt::format(" | r{} {} {}", r + 1, p.rungs[r].task, p.rungs[r].finished) +
                     (p.rungs[r].pending ? fmt::format("+{}", p.rungs[r].pending) : "");
        // "+": a rung still to come has no measured cost yet and is not counted.
        const std::string left = !p.eta || (p.eta_partial && *p.eta < 1) ? "?"
                                 : format_seconds(*p.eta) + (p.eta_partial ? "+" : "");
        line_.update(fmt::format("  {}{} trained ({} reused, {} invalid{}) | {:.1f}/min | best {:.4f} {}{} | {} left",
                                 p.trained, p.budget > 0 ? fmt::format("/{}", p.budget) : "", p.reused, p.invalid,
                                 p.over_budget ? fmt::format(", {} over cost", p.over_budget) : "",
                                 rate, p.best, p.best_expr.size() > 40 ? p.best_expr.substr(0, 37) + "..." : p.best_expr,
                                 rungs, left),
                     force);
    }
    void clear() { line_.clear(); }

private:
    ProgressLine line_;
};

}  // namespace

RungOptions parse_rung(const std::string& spec, const RungOptions& base) {
    RungOptions r = base;
    std::string task = spec, params;
    // The task may itself hold a colon (table:FILE.db): parameters follow the last colon, if it has '='.
    if (const auto colon = spec.rfind(':'); colon != std::string::npos &&
                                            spec.find('=', colon) != std::string::npos) {
        task = spec.substr(0, colon);
        params = spec.substr(colon + 1);
    }
    if (task.empty()) throw UsageError(fmt::format("bad --rung '{}': no task (e.g. fmnist-cnn:seeds=3,keep=0.05)", spec));
    r.task.task = task;
    for (std::size_t pos = 0; pos < params.size();) {
        const std::size_t end = std::min(params.find(',', pos), params.size());
        const std::string kv = params.substr(pos, end - pos);
        pos = end + 1;
        const auto eq = kv.find('=');
        if (eq == std::string::npos) throw UsageError(fmt::format("bad --rung '{}': '{}' is not key=value", spec, kv));
        const std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
        // The same bounds and words as the options --seeds, --steps, ..., --precision (task_options.hpp).
        const auto whole = [&](std::int64_t lo, std::int64_t hi) { return int(number(spec, key, value, lo, hi)); };
        const auto real = [&](double lo, double hi) { return number(spec, key, value, lo, hi); };
        constexpr double kPositive = std::numeric_limits<double>::min();
        if (key == "seeds") r.seeds = whole(1, limits::kSeeds);
        else if (key == "keep") r.keep = real(kPositive, 1e9);
        else if (key == "steps") r.task.fidelity.steps = whole(1, limits::kSteps);
        else if (key == "width") r.task.fidelity.width = whole(1, limits::kWidth);
        else if (key == "depth") r.task.fidelity.depth = whole(1, limits::kDepth);
        else if (key == "batch") r.task.fidelity.batch = whole(1, limits::kBatch);
        else if (key == "lr") r.task.fidelity.lr = real(kPositive, limits::kLr);
        else if (key == "warmup") r.task.fidelity.warmup = whole(0, limits::kSteps);
        else if (key == "wd") r.task.fidelity.wd = real(0.0, limits::kWeightDecay);
        else if (key == "clip") r.task.fidelity.clip = real(0.0, limits::kClip);
        else if (key == "recal") r.task.fidelity.recal = whole(0, limits::kRecal);
        else if (key == "downsample") r.task.fidelity.downsample = whole(1, 8);
        else if (key == "val") r.task.fidelity.val = whole(0, limits::kValidation);
        else if (key == "schedule") r.task.fidelity.schedule = engine::Schedule(word(spec, key, value, schedule_words()));
        else if (key == "precision") r.task.fidelity.precision = engine::Precision(word(spec, key, value, precision_words()));
        else
            throw UsageError(fmt::format("bad --rung '{}': unknown key '{}' (keys: seeds, keep, steps, width, depth, lr, "
                                         "batch, schedule, warmup, wd, clip, recal, downsample, val, precision)",
                                         spec, key));
    }
    if (r.keep >= 1 && r.keep != std::floor(r.keep))
        throw UsageError(fmt::format("bad --rung '{}': keep is a fraction below 1 or a whole count", spec));
    return r;
}

std::vector<RungOptions> ladder_of(const SearchConfig& c) {
    const RungOptions screen{c.task, c.seeds, 0};
    if (!c.rungs.empty()) {
        if (c.promote || c.promote_options_given) throw UsageError("--rung and --promote cannot be combined: give the ladder as --rung options");
        if (c.task_given) throw UsageError("--rung and --task cannot be combined: the first --rung is the screen task");
        std::vector<RungOptions> out{parse_rung(c.rungs[0], screen)};
        if (out[0].keep != 0) throw UsageError(fmt::format("bad --rung '{}': the first rung screens every candidate (no keep)", c.rungs[0]));
        for (std::size_t i = 1; i < c.rungs.size(); ++i) {
            RungOptions r = parse_rung(c.rungs[i], RungOptions{TaskOptions{"", {}, c.task.data_dir}, 1, 0});
            if (r.keep == 0) r.keep = 0.1;   // the default: the best tenth moves up
            out.push_back(std::move(r));
        }
        return out;
    }
    if (c.promote && *c.promote < 0) throw UsageError("--promote must not be negative");
    // The default search (no --task, --rung or --promote): the measured ladder. Screen every candidate
    // on fmnist-cnn14 (Spearman 0.80 against the paper), move the best 5% up to the judge fmnist-cnn
    // with 2 seeds as results arrive (0.85), and judge the best 5 of those with 5 seeds.
    if (!c.task_given && !c.promote && !c.promote_options_given) {
        RungOptions first = screen;
        first.task.task = kDefaultScreen;
        const RungOptions judge_base{TaskOptions{"", {}, c.task.data_dir}, 1, 0};
        return {first, parse_rung("fmnist-cnn:seeds=2,keep=0.05", judge_base),
                parse_rung("fmnist-cnn:seeds=5,keep=5", judge_base)};
    }
    // Promotion only where asked, or by default from the default screen (fmnist-mlp) to its judge; never
    // from another (tiny, or already slow) task to the CNN without being asked.
    const int k = c.promote ? *c.promote : (c.promote_options_given || c.task.task == "fmnist-mlp") ? 5 : 0;
    if (k == 0) return {screen};
    return {screen, RungOptions{c.promote_task, c.promote_seeds, double(k)}};
}

int run_search(const SearchConfig& cfg) {
    if (cfg.seeds < 1) throw UsageError("--seeds must be at least 1");
    if (cfg.budget < 0) throw UsageError("--budget must not be negative");
    if (cfg.cost_target > 0 && cfg.cost_weight == 0) throw UsageError("--cost-target needs --cost-weight");
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
    driver::SearchSpec spec;
    for (const RungOptions& r : ladder_of(cfg)) spec.rungs.push_back({make_scorer(r.task), {r.seeds, r.keep}});
    try {
        driver::Ladder check(driver::rules_of(spec.rungs));
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }

    const int threads = cfg.threads > 0 ? cfg.threads : mpi_default_threads();
    const std::vector<driver::ScoreFn> scorers = driver::scorers_of(spec.rungs);   // Job::task = rung
    if (mpi_active() && mpi_rank() != 0) {
        mpi_worker_loop(scorers, threads);
        return 0;
    }
    std::unique_ptr<driver::Executor> executor = make_mpi_executor();
    if (!executor) executor = driver::make_local_executor(scorers, threads);

    spec.space = cfg.space;
    spec.strategy = cfg.strategy;
    spec.seed = cfg.seed;
    spec.batch = cfg.batch;
    // The round size shapes evolution's and RL's trajectories, so it must not depend on the number of
    // threads or ranks: the same command gives the same search anywhere (set --round >= 2x the slots
    // on a big cluster to keep every worker busy).
    spec.round = cfg.batch > 0 ? cfg.batch : sopts.batch;
    spec.budget = cfg.budget;
    spec.time_limit = cfg.time_limit;
    spec.resume = cfg.resume;
    spec.new_run = cfg.new_run;
    spec.version = version();
    spec.cost = {cfg.max_cost, cfg.cost_weight, cfg.cost_target > 0 ? cfg.cost_target : 1.0, cfg.harden_top};

    db::Store store(cfg.db);
    ProgressPrinter printer;
    driver::SearchLoop loop(space, *strategy, store, *executor, spec, [] { return stop_requested().load(); },
                            cfg.quiet ? nullptr : &printer);
    driver::Outcome out;
    try {
        out = loop.run();
    } catch (const driver::SearchInputError& e) {
        throw UsageError(e.what());
    }
    // The options as a TOML file (config_file.hpp), for `runs --show R --format toml`.
    if (!cfg.config_file.empty()) store.save_state(out.run, kRunConfigKey, cfg.config_file);
    printer.clear();
    if (!cfg.quiet) print_search_summary(store, cfg, spec, out);
    return out.interrupted ? 130 : 0;
}

}  // namespace actsearch::cli
