// Task files: a proxy task (network, data, splits, normalisation, default recipe) described in a TOML
// file, `--task FILE.task`. The built-in tasks are such files too (tasks/*.task, compiled into the
// binary). The format is documented in tasks/README.md and the README's "Task files".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "actsearch/engine/data.hpp"
#include "actsearch/engine/evaluate.hpp"
#include "actsearch/engine/network.hpp"

namespace actsearch::engine {

enum class NetworkKind { Mlp, Cnn, ResNet };
enum class DataFormat { Idx, Cifar, Npy, Csv, Spirals };
const char* to_string(NetworkKind k) noexcept;
const char* to_string(DataFormat f) noexcept;

// One split (training or validation) of a task's data.
struct SplitSpec {
    // File names as written (relative ones are resolved against the data directory): idx and npy
    // {images, labels}; cifar the record files, concatenated; csv {file}. Empty for a validation split
    // that reads the training split's files, and for spirals.
    std::vector<std::string> files;
    // Examples [first, second) of the loaded files; none: all of them.
    std::optional<std::pair<std::uint64_t, std::uint64_t>> rows;
    std::uint64_t points = 0, seed = 0;   // spirals: how many points, from which seed
};

struct TaskDefinition {
    std::string name;      // the task's name; a file's results are stored under name@hash (see identity)
    std::string summary;   // one line for listings
    NetworkKind network = NetworkKind::Mlp;
    std::vector<int> cnn_layers;   // cnn: n > 0 a conv3x3-BN-act layer of n * width channels, 0 a 2x2 max-pool
    int resnet_stages = 3;         // resnet: stages of `depth` basic blocks, widths width * 2^stage
    DataFormat format = DataFormat::Idx;
    std::string dir;       // [data] dir as written: the folder of relative file names (may be empty)
    std::string help;      // how to get the data; appended to "not found" messages
    ImageShape shape;
    int classes = 10;
    std::vector<float> mean, std;   // per channel
    CsvOptions csv;
    SplitSpec train, validation;
    Fidelity defaults;     // fully resolved
    double momentum = 0.9;
    std::string path;      // the task file's path; empty for a built-in task
    std::string folder;    // the task file's folder; empty for a built-in task

    // Canonical text of everything in the file that decides results, apart from the data's content
    // and the recipe (which the fidelity key holds): network, format, shape, classes, normalisation,
    // splits, momentum; with `files`, also the data's file names and [data] dir. Not the name, summary,
    // help, comments or layout: a reformatted or renamed file has the same text.
    std::string canonical(bool files) const;
    // The part of canonical() about the data alone (the process-wide data cache's key, with files).
    std::string canonical_data(bool files) const;
};

// A bad task file: one line, "FILE:LINE:COL: message".
struct TaskFileError {
    std::string message;
};

// Parses a task file's text; `path` names it in messages and anchors relative data paths. Checks
// everything that can be checked without the data: keys, types, ranges, and consistency (mean/std per
// channel, splits not empty, images large enough for the network's pooling).
std::variant<TaskDefinition, TaskFileError> parse_task_file(std::string_view text, const std::string& path);
// Reads and parses the file at `path` (TaskFileError when it cannot be read).
std::variant<TaskDefinition, TaskFileError> load_task_file(const std::string& path);

// The built-in task files: (name, text), from tasks/*.task.
const std::vector<std::pair<std::string_view, std::string_view>>& builtin_task_texts();

}  // namespace actsearch::engine
