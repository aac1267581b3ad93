#include "task_options.hpp"

#include <map>
#include <variant>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli_util.hpp"
#include "commands.hpp"

namespace actsearch::cli {

const Words& schedule_words() {
    static const Words words{{"constant", int(engine::Schedule::Constant)}, {"cosine", int(engine::Schedule::Cosine)}};
    return words;
}

const Words& precision_words() {
    static const Words words{{"fp32", int(engine::Precision::Fp32)}, {"bf16", int(engine::Precision::Bf16)}};
    return words;
}

void add_task_options(CLI::App* cmd, TaskOptions& o, const std::string& prefix, const std::string& default_task) {
    o.task = default_task;
    const std::string what = prefix.empty() ? "" : "(" + prefix.substr(0, prefix.size() - 1) + ") ";
    cmd->add_option("--" + prefix + "task", o.task,
                    what + "Proxy task: " + fmt::format("{}", fmt::join(engine::task_names(), ", ")) +
                        ", or a task file FILE.task (share/actsearch/tasks has the built-in ones to copy)")
        ->capture_default_str();
    int_range(cmd->add_option("--" + prefix + "steps", o.fidelity.steps, what + "Training steps (default: the task's)"),
              1, limits::kSteps);
    int_range(cmd->add_option("--" + prefix + "width", o.fidelity.width, what + "Hidden units / base channels"), 1,
              limits::kWidth);
    int_range(cmd->add_option("--" + prefix + "depth", o.fidelity.depth, what + "Hidden layers / blocks per stage"),
              1, limits::kDepth);
    real_range(cmd->add_option("--" + prefix + "lr", o.fidelity.lr, what + "SGD learning rate"), 0, limits::kLr);
    int_range(cmd->add_option("--" + prefix + "batch", o.fidelity.batch, what + "Batch size"), 1, limits::kBatch);
    one_of(cmd->add_option("--" + prefix + "schedule", o.fidelity.schedule,
                           what + "Learning-rate schedule after the warm-up: constant or cosine (decay to 0)"),
           schedule_words());
    int_range(cmd->add_option("--" + prefix + "warmup", o.fidelity.warmup, what + "Linear warm-up steps (0: none)"),
              0, limits::kSteps);
    int_range(cmd->add_option("--" + prefix + "downsample", o.fidelity.downsample,
                              what + "Average-pool the images by this factor before training (1: full size)"),
              1, 8);
    int_range(cmd->add_option("--" + prefix + "val", o.fidelity.val,
                              what + "Score only the first N validation images (0: the whole split)"),
              0, limits::kValidation);
    real_range(cmd->add_option("--" + prefix + "wd", o.fidelity.wd, what + "Weight decay (0: none)"), 0,
               limits::kWeightDecay, /*lo_inclusive=*/true);
    real_range(cmd->add_option("--" + prefix + "clip", o.fidelity.clip,
                               what + "Clip the gradient's global norm to this (0: none)"),
               0, limits::kClip, /*lo_inclusive=*/true);
    int_range(cmd->add_option("--" + prefix + "recal", o.fidelity.recal,
                              what + "Recompute batch-norm statistics over this many training batches after training "
                                     "(0: none)"),
              0, limits::kRecal);
    one_of(cmd->add_option("--" + prefix + "precision", o.fidelity.precision,
                           what + "Arithmetic of the convolutions: fp32, or bf16 operands with fp32 accumulation "
                                  "(needs a CPU with native bf16; part of the results' fidelity key)"),
           precision_words());
    cmd->add_option("--" + prefix + "data-dir", o.data_dir,
                    what + "Data directory (Fashion-MNIST: /usr/share/datasets/fashion-mnist; CIFAR-10: "
                           "the folder of data_batch_*.bin; a task file: replaces its [data] dir)");
}

engine::TaskConfig resolve_task_or_usage(const TaskOptions& o) {
    auto r = engine::resolve_task(o.task, o.fidelity, o.data_dir);
    if (auto* err = std::get_if<engine::TaskError>(&r)) throw UsageError(err->message);
    return std::get<engine::TaskConfig>(std::move(r));
}

}  // namespace actsearch::cli
