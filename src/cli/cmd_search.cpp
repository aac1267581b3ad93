// actsearch search: the main job.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "actsearch/db/store.hpp"
#include "actsearch/search/strategy.hpp"
#include "cli_util.hpp"
#include "config_file.hpp"
#include "commands.hpp"
#include "mpi_executor.hpp"
#include "search_driver.hpp"
#include "task_options.hpp"

namespace actsearch::cli {
namespace {

struct SearchOptions {
    SearchConfig config;
    std::string time_limit;
    std::int64_t resume = 0;
};

extern "C" void on_stop_signal(int) {
    if (stop_requested().exchange(true)) _exit(130);   // a second Ctrl-C: leave now (results are committed)
    static const char msg[] =
        "\nstopping: finishing the evaluations in flight (Ctrl-C again to quit at once; nothing stored is lost)\n";
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
}

// A database this command created and that holds no run (the search stopped at a usage error before it
// started, e.g. a --rung naming an unknown task) is removed, so a typo leaves nothing behind.
void remove_if_unused(const std::string& path) {
    try {
        if (!db::Store(path, /*read_only=*/true).list_runs().empty()) return;
    } catch (const std::exception&) {
        return;   // not ours to judge
    }
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ignored);
}

int run(SearchOptions& o) {
    SearchConfig& c = o.config;
    if (!o.time_limit.empty()) c.time_limit = parse_duration(o.time_limit);
    if (o.resume > 0) c.resume = o.resume;
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    mpi_start(nullptr, nullptr);
    if (mpi_active() && mpi_rank() != 0) c.quiet = true;
    int status = 0;
    const bool owner = !mpi_active() || mpi_rank() == 0;
    std::error_code ignored;
    const bool existed = std::filesystem::exists(c.db, ignored);
    try {
        if (owner) open_store(c.db, /*read_only=*/false);   // a bad file: exit 2
        status = run_search(c);
    } catch (...) {
        if (owner && !existed) remove_if_unused(c.db);
        if (!mpi_active()) throw;
        // One rank failing must not leave the others waiting for messages forever.
        try {
            throw;
        } catch (const UsageError& e) {
            fmt::print(stderr, "error: {}\n", e.what());
            mpi_abort(2);
        } catch (const std::exception& e) {
            fmt::print(stderr, "error: {}\n", e.what());
            mpi_abort(1);
        }
    }
    mpi_finish();
    return status;
}

}  // namespace

void add_search_command(CLI::App& app) {
    auto opts = std::make_shared<SearchOptions>();
    SearchConfig& c = opts->config;
    // The embedded default: screen on fmnist-cnn14, judge the best on fmnist-cnn (see ladder_of).
    c.space = "paper-core1";
    c.strategy = "evolution";
    c.budget = 400;
    c.promote_seeds = 2;
    CLI::App* cmd = app.add_subcommand(
        "search",
        "Search a space of activation functions. With no options: an evolution search of paper-core1 screened\n"
        "on fmnist-cnn14 (400 trained candidates); the best 5% move up to fmnist-cnn with 2 seeds as results\n"
        "arrive, and the best 5 of those get 5 seeds; about 10 minutes on two cores.");
    cmd->add_option("--space", c.space, "Built-in space or .space file")->capture_default_str();
    cmd->add_option("--strategy", c.strategy, "exhaustive | rl | random | evolution | surrogate")->capture_default_str()
        ->check(CLI::IsMember(search::strategy_names()));
    add_task_options(cmd, c.task);
    int_range(cmd->add_option("--budget", c.budget, "Trained candidates (0: no limit)")->capture_default_str(), 0,
              limits::kBudget);
    cmd->add_option("--time-limit", opts->time_limit, "Wall-time limit, e.g. 30m, 2h, 1h30m");
    int_range(cmd->add_option("--seeds", c.seeds, "Seeds per candidate")->capture_default_str(), 1, limits::kSeeds);
    int_range(cmd->add_option("--threads", c.threads, "Candidates trained at once (default: all cores)"), 0,
              limits::kThreads);
    cmd->add_option("--db", c.db, "Results database")->capture_default_str();
    cmd->add_option("--resume", opts->resume, "Continue this run (the same command again also resumes)");
    cmd->add_flag("--new-run", c.new_run, "Start a new run even if one with this configuration exists");
    cmd->add_option("--seed", c.seed, "Search seed (also the first training seed)")->capture_default_str();
    int_range(cmd->add_option("--round", c.batch, "Candidates proposed per round (default: the strategy's batch, at least 2x threads)"),
              0, limits::kRound);
    cmd->add_option("--rung", c.rungs,
                    "A rung of the fidelity ladder, TASK[:seeds=N,keep=F,steps=N,...]; repeat it, lowest first. The "
                    "first screens every candidate (--steps/--lr/... apply to it); keep=0.05 moves the best 5% up "
                    "as results arrive (ASHA), keep=5 the best 5 once the rung below is done (default 0.1)");
    int_range(cmd->add_option("--promote", c.promote,
                              "A two-rung ladder: re-evaluate the best K at higher fidelity (0: none; default 5 when "
                              "--task fmnist-mlp is given, else none)"),
              0, limits::kPromote);
    add_task_options(cmd, c.promote_task, "promote-", "fmnist-cnn");
    int_range(cmd->add_option("--promote-seeds", c.promote_seeds, "Seeds per promoted candidate")->capture_default_str(),
              1, limits::kSeeds);
    real_range(cmd->add_option("--max-cost", c.max_cost,
                               "Skip candidates whose inference cost exceeds C x relu (stored as over_budget, never "
                               "trained; the strategy sees reward 0)"),
               0, 1e6);
    real_range(cmd->add_option("--cost-weight", c.cost_weight,
                               "MnasNet's w: strategies and promotions rank by score * (cost / target)^w; w <= 0, "
                               "e.g. -0.07 (a cost twice the target: x 0.953); the database keeps the score"),
               -10, 0, true);
    real_range(cmd->add_option("--cost-target", c.cost_target, "MnasNet's target cost T, x relu (default 1)"), 0, 1e6);
    int_range(cmd->add_option("--harden-top", c.harden_top,
                              "After the last rung, harden its best K (actsearch harden) and evaluate the twins there "
                              "with its seeds"),
              0, 100);
    int_range(cmd->add_option("--top", c.top, "Rows of each final leaderboard")->capture_default_str(), 0, limits::kTop);
    cmd->add_flag("--quiet", c.quiet, "No progress or summary");
    add_config_option(cmd);   // --config FILE (config_file.hpp)
    cmd->callback([opts, cmd] {
        SearchConfig& c = opts->config;
        c.task_given = cmd->count("--task") > 0;
        for (const CLI::Option* o : cmd->get_options())
            if (o->get_name() != "--promote" && o->get_name().rfind("--promote-", 0) == 0 && o->count() > 0)
                c.promote_options_given = true;
        c.config_file = search_config_toml(*cmd, c.task);   // stored with the run
        const int status = run(*opts);
        if (status != 0) throw ReportedError(status);
    });
}

}  // namespace actsearch::cli
