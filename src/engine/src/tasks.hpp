// The task table (names, defaults, networks, data) and the process-wide data cache.
#pragma once

#include <memory>
#include <string>

#include "actsearch/engine/data.hpp"
#include "actsearch/engine/evaluate.hpp"
#include "actsearch/engine/network.hpp"

namespace actsearch::engine {

enum class NetworkKind { Mlp, Cnn, ResNet };
enum class DataSource { FashionMnist, Cifar10, Spirals };

struct TaskSpec {
    const char* name;
    NetworkKind network;
    DataSource data;
    Fidelity defaults;
    const char* summary;
};

// nullptr when the name is not a task.
const TaskSpec* find_task(const std::string& name) noexcept;

// The training and validation splits a task scores on. Shared, read-only, loaded once per process.
struct TaskData {
    Dataset train, validation;
};

// Loads (first call) or looks up the task's data. Throws DataError with a one-line message.
std::shared_ptr<const TaskData> task_data(const TaskSpec& spec, const std::string& data_dir);
// The same, images average-pooled by `factor` (cached too; factor <= 1: the data as loaded).
std::shared_ptr<const TaskData> task_data(const TaskSpec& spec, const std::string& data_dir, int factor);
// Average-pools every image by factor x factor (floor: a partial last row or column is dropped),
// rounding each mean to the nearest byte.
Dataset downsample(const Dataset& d, int factor);

std::unique_ptr<Network> make_network(const TaskSpec& spec, const NetworkConfig& cfg, const Program& activation);

}  // namespace actsearch::engine
