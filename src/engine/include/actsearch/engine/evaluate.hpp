// An evaluation is a pure function of (candidate, task, fidelity, seed). Everything that decides the
// score is in TaskConfig + seed; Fidelity::key() is what the database stores.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "actsearch/grammar/expr.hpp"

namespace actsearch::engine {

enum class EvalStatus { Ok, Diverged, Invalid, Timeout, Error };
const char* to_string(EvalStatus s) noexcept;

struct Fidelity {
    int steps = 0;        // 0 means "task default" until resolved
    int width = 0;
    int depth = 0;
    double lr = 0.0;
    int batch = 0;
    // Stable text, e.g. "steps=400 width=128 depth=3 lr=0.05 batch=128": the database key.
    std::string key() const;
};

struct TaskConfig {
    std::string name;           // fmnist-mlp, fmnist-cnn, resnet-mini, cifar10-cnn, cifar10-resnet, synthetic
    Fidelity fidelity;          // resolved: every field set
    double momentum = 0.9;
    std::string data_dir;       // fmnist: /usr/share/datasets/fashion-mnist; cifar: user-given
};

struct TaskError { std::string message; };

// Known task names and their defaults, with overrides from `fid` (fields left 0 keep the default).
std::variant<TaskConfig, TaskError> resolve_task(const std::string& name, const Fidelity& overrides = {},
                                                 const std::string& data_dir = "");
std::vector<std::string> task_names();

struct EvalResult {
    EvalStatus status = EvalStatus::Error;
    double val_acc = 0.0;      // in [0, 1]
    double val_loss = 0.0;
    double train_loss = 0.0;   // mean over the last 10% of steps
    double seconds = 0.0;
    std::string message;       // why not Ok (one line)
};

// Trains the task's network with activation `e` from `seed` and scores it on the validation split.
// Never throws: data or internal errors become EvalStatus::Error with a message. `threads` > 1 lets this
// one evaluation use several cores (inside GEMMs); the score does not depend on it.
// `progress`, if set, is called now and then with the fraction done (from the calling thread).
EvalResult evaluate(const Expr& e, const TaskConfig& task, std::uint64_t seed, int threads = 1,
                    const std::function<void(double)>& progress = {});

// Loads (once per process, thread-safe) the datasets a task needs, so that parallel evaluations do
// not race to load them. Throws DataError with a one-line message when files are missing.
void preload(const TaskConfig& task);

}  // namespace actsearch::engine
