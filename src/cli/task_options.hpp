// The --task / fidelity options shared by eval and search.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "actsearch/engine/evaluate.hpp"

namespace CLI { class App; }

namespace actsearch::cli {

// Upper bounds of the size-like options, checked (int_range / real_range in cli_util.hpp) before
// anything is allocated. Generous for a CPU: the defaults are 100-1000 times smaller.
namespace limits {
inline constexpr std::int64_t kSteps = 1'000'000;
inline constexpr std::int64_t kWidth = 1024;      // hidden units / base channels
inline constexpr std::int64_t kDepth = 16;        // hidden layers / blocks per stage
inline constexpr std::int64_t kBatch = 4096;
inline constexpr std::int64_t kValidation = 1'000'000;   // validation images scored
inline constexpr double kLr = 10;
inline constexpr double kWeightDecay = 1;
inline constexpr double kClip = 1e6;
inline constexpr std::int64_t kRecal = 1000;      // batches
inline constexpr std::int64_t kSeeds = 1000;      // seeds of one candidate
inline constexpr std::int64_t kThreads = 1024;    // 0: all cores
inline constexpr std::int64_t kBudget = 1'000'000'000;   // 0: no limit
inline constexpr std::int64_t kRound = 100'000;   // candidates proposed per round
inline constexpr std::int64_t kTop = 1'000'000;   // rows of a leaderboard (0: all)
inline constexpr std::int64_t kPromote = 1000;    // candidates promoted
inline constexpr std::int64_t kListed = 1'000'000'000;
}  // namespace limits

// The words of the enum-valued fidelity options, for --schedule and --precision and for the same keys
// of a --rung (one table each, so the two spellings cannot drift apart).
using Words = std::vector<std::pair<std::string, int>>;
const Words& schedule_words();
const Words& precision_words();

struct TaskOptions {
    std::string task = "fmnist-mlp";
    engine::Fidelity fidelity;   // 0 = the task's default
    std::string data_dir;
};

// Adds --task, --steps, --width, --depth, --lr, --batch, --data-dir (names prefixed with `prefix`, e.g.
// "promote-" gives --promote-task ...).
void add_task_options(CLI::App* cmd, TaskOptions& o, const std::string& prefix = "",
                      const std::string& default_task = "fmnist-mlp");

// Resolves the task (a built-in name or a task file's path) with its defaults; UsageError for unknown
// tasks, bad task files or bad values.
engine::TaskConfig resolve_task_or_usage(const TaskOptions& o);

}  // namespace actsearch::cli
