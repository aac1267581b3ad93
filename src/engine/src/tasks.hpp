// The task table (built-in task files and the task files resolved in this process) and the
// process-wide data cache.
#pragma once

#include <memory>
#include <string>

#include "actsearch/engine/data.hpp"
#include "actsearch/engine/evaluate.hpp"
#include "actsearch/engine/network.hpp"
#include "actsearch/engine/task_file.hpp"

namespace actsearch::engine {

// The definition behind a resolved task's name: a built-in task's, or that of a task file resolved by
// resolve_task in this process (under its name@hash). nullptr when the name is neither.
std::shared_ptr<const TaskDefinition> find_task(const std::string& name);

// The training and validation splits a task scores on. Shared, read-only, loaded once per process.
struct TaskData {
    Dataset train, validation;
};

// Loads (first call) or looks up the task's data from `data_dir` (relative file names are found there),
// images average-pooled by `factor` (cached too; factor <= 1: the data as loaded). Throws DataError
// with a one-line message.
std::shared_ptr<const TaskData> task_data(const TaskDefinition& def, const std::string& data_dir, int factor = 1);
// Average-pools every image by factor x factor (floor: a partial last row or column is dropped),
// rounding each mean to the nearest byte (bytes) or keeping it (float values).
Dataset downsample(const Dataset& d, int factor);

std::unique_ptr<Network> make_network(const TaskDefinition& def, const NetworkConfig& cfg, const Program& activation);

}  // namespace actsearch::engine
