// The training loop and validation pass shared by every task: SGD with momentum over a network's flat
// parameter buffer, batches sampled with replacement from a byte-image data set.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "actsearch/engine/data.hpp"
#include "actsearch/engine/evaluate.hpp"
#include "actsearch/engine/network.hpp"

namespace actsearch::engine {

// Training stops as Diverged as soon as the batch loss is non-finite, exceeds kDivergenceFactor times
// the first batch's loss, or exceeds kDivergenceCeiling. The first batch's loss is about ln(classes)
// for any sane activation; 20x that is far outside anything SGD at these learning rates recovers from.
inline constexpr double kDivergenceFactor = 20.0;
inline constexpr double kDivergenceCeiling = 1.0e3;

struct TrainOptions {
    int steps = 0;
    int batch = 0;
    double lr = 0.0;                       // peak learning rate
    double momentum = 0.9;
    Schedule schedule = Schedule::Constant;
    int warmup = 0;                        // linear warm-up steps
    double weight_decay = 0.0;             // g += wd * p before the momentum update (PyTorch SGD)
    double clip = 0.0;                     // max global L2 norm of the gradient; 0: no clipping
    int recalibration_batches = 0;         // batch-norm statistics recomputed after training
    std::uint64_t recalibration_seed = 0;  // which training batches recalibrate
    std::uint64_t sampling_seed = 0;   // batch indices; the network's init has its own seed
    int max_threads = 1;               // upper bound for the network's GEMMs (see ThreadChooser)
    std::function<void(double)> progress;   // fraction of training done, now and then
};

// Threads only pay when there are idle cores: every parallel GEMM ends in a barrier, and on a machine
// already running more threads than it has cores each barrier waits for a descheduled thread (a
// fmnist-mlp evaluation measured 0.3 s on one thread and 34 s on two under a load of 3 on 2 cores).
// Results are bit-identical for any thread count, so the trainer may choose freely: it times steps
// 1-2 on one thread and steps 3-4 on max_threads, keeps the faster, and drops back to one thread for
// good if parallel steps later run slower than the single-threaded ones did.
class ThreadChooser {
public:
    explicit ThreadChooser(int max_threads) noexcept : max_threads_(max_threads) {}
    int threads_for(int step) const noexcept;      // threads to use for this step
    void record(int step, double seconds) noexcept;  // how long that step took
    int chosen() const noexcept { return chosen_; }  // current choice (for validation)

private:
    static constexpr int kProbeSteps = 2;
    static constexpr int kSlowStepsToGiveUp = 3;
    int max_threads_;
    int chosen_ = 1;
    double single_ = 1e30, parallel_ = 1e30;  // fastest probe step of each kind, seconds
    int slow_steps_ = 0;
};

struct TrainOutcome {
    EvalStatus status = EvalStatus::Ok;   // Ok or Diverged
    double train_loss = 0.0;              // mean batch loss over the last 10% of steps (at least one)
    int steps_done = 0;
    int threads = 1;                      // what the ThreadChooser settled on
    std::string message;                  // why Diverged
};

// The learning rate of step `step` (0-based): linear warm-up from lr / warmup over the first `warmup`
// steps, then constant or cosine-decayed to 0 at the last step (PyTorch's CosineAnnealingLR with
// T_max = steps - warmup, eta_min = 0).
double learning_rate(const TrainOptions& options, int step) noexcept;

// SGD in PyTorch's formulation: g += wd * p; v = momentum * v + g; p -= lr * v (no dampening), after
// clipping the gradient's global norm (torch.nn.utils.clip_grad_norm_). With recalibration_batches > 0
// the network's batch-norm statistics are then recomputed with the final weights.
TrainOutcome train(Network& net, const Dataset& data, const TrainOptions& options);

struct Validation {
    bool finite = true;    // false: some logit was NaN or inf (accuracy and loss then meaningless)
    double accuracy = 0.0;
    double loss = 0.0;     // mean cross-entropy
};

// Scores the first `limit` images of the data set (0: all of it) in chunks of `chunk` images.
Validation validate(Network& net, const Dataset& data, int chunk, std::size_t limit = 0);

}  // namespace actsearch::engine
