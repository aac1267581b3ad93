// An evaluation is a pure function of (candidate, task, fidelity, seed). Everything that decides the
// score is in TaskConfig + seed; Fidelity::key() is what the database stores.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actsearch/grammar/expr.hpp"

namespace actsearch::engine {

enum class EvalStatus { Ok, Diverged, Invalid, Timeout, Error };
const char* to_string(EvalStatus s) noexcept;
// The inverse of to_string; unknown text gives EvalStatus::Error.
EvalStatus status_from_string(std::string_view s) noexcept;

// Learning-rate schedule over the training steps (after the warm-up, if any).
enum class Schedule { Default, Constant, Cosine };   // Default: the task's, until resolved
const char* to_string(Schedule s) noexcept;

// Arithmetic of the convolutions: fp32 throughout, or bf16 operands (activations, weights, output
// gradients rounded to bf16 as the convolutions read them) with fp32 accumulation, outputs, master
// weights and everything else (batch norm, the activation, the optimiser). bf16 needs a CPU that runs it
// natively (AVX512-BF16 or AMX: bf16_native()); the MLP has no convolutions and trains in fp32 only.
enum class Precision { Default, Fp32, Bf16 };   // Default: fp32, until resolved
const char* to_string(Precision p) noexcept;
// Whether oneDNN runs bf16 convolutions natively on this CPU (not emulated in fp32 instructions).
bool bf16_native();

// Everything about how a candidate is trained that is not the task's data: the network's size and
// the training recipe. Fields left at their "unset" value (0, -1, Default) take the task's default in
// resolve_task; a resolved Fidelity has every field set.
struct Fidelity {
    int steps = 0;        // 0 means "task default" until resolved
    int width = 0;
    int depth = 0;
    double lr = 0.0;      // peak learning rate (SGD, momentum 0.9)
    int batch = 0;
    Schedule schedule = Schedule::Default;   // Constant, or Cosine decay to 0 at the last step
    int warmup = -1;      // steps of linear warm-up from lr / warmup to lr (0: none)
    double wd = -1.0;     // weight decay, PyTorch SGD style (g += wd * p), on every parameter (0: none)
    double clip = -1.0;   // the global gradient norm is clipped to this (0: no clipping)
    int recal = -1;       // batch-norm statistics recomputed over this many training batches after
                          // training, with the final weights (0: keep the running averages)
    int downsample = 0;   // images average-pooled by this factor before training (1: full size)
    int val = -1;         // validation images scored, the first `val` of the split (0: all of it)
    Precision precision = Precision::Default;   // of the convolutions (see Precision)
    // Stable text, the database key, e.g. "steps=400 width=128 depth=3 lr=0.05 batch=128". The recipe
    // fields are appended only where they differ from the original recipe (constant lr, no warm-up,
    // no weight decay, no clipping, no recalibration, full-size images, the whole validation split),
    // so results of that recipe keep their key (precision=bf16 is appended for bf16 only):
    // "steps=200 width=16 depth=2 lr=0.1 batch=128 schedule=cosine warmup=20 clip=5 recal=10".
    std::string key() const;
};

struct TaskConfig {
    std::string name;           // a built-in task (fmnist-mlp, ...), or a task file's name@hash
    Fidelity fidelity;          // resolved: every field set
    double momentum = 0.9;
    std::string data_dir;       // where relative data file names are found (fmnist: /usr/share/datasets/fashion-mnist)
};

struct TaskError { std::string message; };

// A built-in task name or the path of a task file (FILE.task, or any name with a '/'; see task_file.hpp),
// with its defaults overridden by `overrides` (fields left unset keep the default). Built-in tasks are
// the files tasks/*.task, compiled in:
//   fmnist-mlp      steps=400 width=128 depth=3 lr=0.05 batch=128  784-128-128-128-10 MLP
//   fmnist-cnn      steps=200 width=16  depth=2 lr=0.05 batch=128  make_cnn (depth fixed: 2 convs per stage)
//   resnet-mini     steps=200 width=16  depth=1 lr=0.05 batch=128  make_resnet
//   cifar10-cnn / cifar10-resnet: the same networks and defaults on CIFAR-10
//   synthetic       steps=300 width=32  depth=2 lr=0.1  batch=64   three 2-D spirals, MLP 2-32-32-3
// Data splits: Fashion-MNIST trains on the first 10,000 training images and validates on training
// images 55,000..59,999 (t10k is never used for scores); CIFAR-10 trains on data_batch_1.bin (the first
// 10,000 training images) and validates on the last 5,000 images of data_batch_5.bin; synthetic uses
// 2,000 / 1,000 points generated from fixed seeds. Momentum is 0.9 for every built-in task.
// A task file's data is loaded (and checked) here, and the resolved name is `name@hash`, the hash
// covering the file's canonical content (TaskDefinition::canonical) and the loaded data: the database
// key of its results. A file that means exactly what a built-in task says keeps the built-in's name.
// data_dir, when not empty, replaces the task's data directory. Every problem is a TaskError (one line).
std::variant<TaskConfig, TaskError> resolve_task(const std::string& name, const Fidelity& overrides = {},
                                                 const std::string& data_dir = "");
std::vector<std::string> task_names();

// When status is not Ok, val_acc, val_loss and train_loss are 0 (always finite, so that text formats
// and databases need no NaN handling) and message says why, e.g. "training loss exploded to 512.3 at
// step 4 (first step: 2.31)". Training stops as Diverged at the first batch loss that is non-finite,
// above 20x the first batch's loss, or above 1e3; non-finite validation logits are Diverged too.
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

// The engine's bit-changing revision: raised whenever a change keeps every recipe but changes the bits of
// scores (other rounding), so that stored evaluations say which engine trained them.
//   3: dense layers on oneDNN's matmul (2026-12-03); convolutions on oneDNN 2.6 and the vectorised
//      transcendental primitives before it. Earlier engines were not recorded.
inline constexpr int kEngineRevision = 3;

// "engine <revision>, oneDNN <major.minor.patch>" (the oneDNN library loaded at run time): what the
// store records with every trained evaluation.
const std::string& identity();

// Loads (once per process, thread-safe) the datasets a task needs, so that parallel evaluations do
// not race to load them. Throws DataError with a one-line message when files are missing.
void preload(const TaskConfig& task);

}  // namespace actsearch::engine
