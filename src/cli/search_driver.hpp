// The search loop: propose -> describe (canonical form, fingerprint) -> reuse stored or equivalent
// results -> train the rest in parallel -> store each result at once -> feed rewards back in proposal
// order -> save the strategy's state. Resuming = loading that state and re-proposing: whatever was
// stored is answered from the database without training.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "task_options.hpp"

namespace actsearch::cli {

struct SearchConfig {
    std::string space = "paper-core1";
    std::string strategy = "evolution";
    TaskOptions task;                    // task.task may be "table:FILE.db"
    std::int64_t budget = 0;             // trained candidates; 0 = unlimited (until exhausted / time)
    double time_limit = 0;               // seconds; 0 = none
    int seeds = 1;
    int threads = 0;                     // 0 = all cores
    std::string db = "actsearch.db";
    std::optional<std::int64_t> resume;  // run id
    bool new_run = false;                // do not resume a matching run
    std::uint64_t seed = 0;
    std::size_t batch = 0;               // candidates proposed per round; 0 = strategy default
    int promote = 0;
    TaskOptions promote_task;
    int promote_seeds = 2;
    int top = 10;                        // rows in the final leaderboard
    bool quiet = false;
    std::string config_file;             // the options as a TOML file, stored with the run (config_file.hpp)
};

// Runs (or resumes) a search; returns the process exit status (0 finished, 130 interrupted).
// Throws UsageError / std::runtime_error like the other commands.
int run_search(const SearchConfig& config);

// Set by SIGINT / SIGTERM: stop proposing, finish what is in flight, mark the run interrupted.
std::atomic<bool>& stop_requested();

}  // namespace actsearch::cli
