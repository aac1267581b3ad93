// `actsearch search` between its options and the search loop (driver/): the rungs of the fidelity
// ladder from --rung / --promote / the default, their scorers (a proxy task trained by the engine, or a
// table task), the executor (threads or MPI ranks), the progress line and the final leaderboards.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actsearch/db/store.hpp"
#include "actsearch/driver/search_loop.hpp"
#include "task_options.hpp"

namespace actsearch::cli {

// The first rung of the default search: the screen measured by `actsearch fidelity`.
inline constexpr const char* kDefaultScreen = "fmnist-cnn14";

// One rung as the command line gives it.
struct RungOptions {
    TaskOptions task;
    int seeds = 1;
    double keep = 0;   // fraction (ASHA) or count; 0 for the screen
};

// "TASK[:key=value,...]" with keys seeds, keep and the fidelity's steps, width, depth, lr, batch,
// schedule, warmup, wd, clip, recal, downsample, val, precision, e.g.
// "fmnist-cnn:seeds=3,keep=0.05" or "table:runs.db:keep=5". `base` supplies the fields not given
// (the --steps/--lr/... overrides for the first rung). UsageError on anything else.
RungOptions parse_rung(const std::string& spec, const RungOptions& base = {});

struct SearchConfig {
    std::string space = "paper-core1";
    std::string strategy = "evolution";
    TaskOptions task;                    // the screen; task.task may be "table:FILE.db"
    std::int64_t budget = 0;             // trained candidates; 0 = unlimited (until exhausted / time)
    double time_limit = 0;               // seconds; 0 = none
    int seeds = 1;
    int threads = 0;                     // 0 = all cores
    std::string db = "actsearch.db";
    std::optional<std::int64_t> resume;  // run id
    bool new_run = false;                // do not resume a matching run
    std::uint64_t seed = 0;
    std::size_t batch = 0;               // candidates proposed per round; 0 = strategy default
    // The ladder: --rung specs (the first replaces --task and --seeds), or else a screen plus an optional
    // promotion of the best `promote` to promote_task. With none of --rung, --task and --promote*, the
    // default ladder: kDefaultScreen, then fmnist-cnn with 2 seeds for the best 5% (ASHA), then the best
    // 5 of those with 5 seeds. An explicit --task fmnist-mlp promotes its best 5 to fmnist-cnn (2
    // seeds), as version 0.1's default did; any other screen promotes nothing unless asked.
    std::vector<std::string> rungs;
    std::optional<int> promote;          // set: the user asked (0: no promotion)
    bool promote_options_given = false;  // --promote-task, --promote-seeds, ... given
    TaskOptions promote_task;
    int promote_seeds = 2;
    bool task_given = false;             // --task given
    // Cost (driver::CostSearch): --max-cost, --cost-weight / --cost-target, --harden-top.
    double max_cost = 0;                 // 0: no limit
    double cost_weight = 0;              // 0: the strategy sees the score
    double cost_target = 0;              // 0: not given (1, relu)
    int harden_top = 0;
    int top = 10;                        // rows in the final leaderboards
    bool quiet = false;
    std::string config_file;             // the options as a TOML file, stored with the run (config_file.hpp)
};

// The ladder this configuration runs (UsageError for conflicting or bad options).
std::vector<RungOptions> ladder_of(const SearchConfig& config);

// Runs (or resumes) a search; returns the process exit status (0 finished, 130 interrupted).
// Throws UsageError / std::runtime_error like the other commands.
int run_search(const SearchConfig& config);

// The summary at the end of a search: counts, one leaderboard per rung, and the hardened twins beside
// their origins (search_summary.cpp).
void print_search_summary(db::Store& store, const SearchConfig& config, const driver::SearchSpec& spec,
                          const driver::Outcome& out);

// Set by SIGINT / SIGTERM: stop proposing, finish what is in flight, mark the run interrupted.
std::atomic<bool>& stop_requested();

}  // namespace actsearch::cli
