// The --task / fidelity options shared by eval and search.
#pragma once

#include <string>

#include "actsearch/engine/evaluate.hpp"

namespace CLI { class App; }

namespace actsearch::cli {

struct TaskOptions {
    std::string task = "fmnist-mlp";
    engine::Fidelity fidelity;   // 0 = the task's default
    std::string data_dir;
};

// Adds --task, --steps, --width, --depth, --lr, --batch, --data-dir (names prefixed with `prefix`, e.g.
// "promote-" gives --promote-task ...).
void add_task_options(CLI::App* cmd, TaskOptions& o, const std::string& prefix = "",
                      const std::string& default_task = "fmnist-mlp");

// Resolves the task with its defaults; UsageError for unknown tasks or bad values.
engine::TaskConfig resolve_task_or_usage(const TaskOptions& o);

}  // namespace actsearch::cli
