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
    double lr = 0.0;
    double momentum = 0.9;
    std::uint64_t sampling_seed = 0;   // batch indices; the network's init has its own seed
    std::function<void(double)> progress;   // fraction of training done, now and then
};

struct TrainOutcome {
    EvalStatus status = EvalStatus::Ok;   // Ok or Diverged
    double train_loss = 0.0;              // mean batch loss over the last 10% of steps (at least one)
    int steps_done = 0;
    std::string message;                  // why Diverged
};

// SGD in PyTorch's formulation: v = momentum * v + g; p -= lr * v (no dampening, no weight decay).
TrainOutcome train(Network& net, const Dataset& data, const TrainOptions& options);

struct Validation {
    bool finite = true;    // false: some logit was NaN or inf (accuracy and loss then meaningless)
    double accuracy = 0.0;
    double loss = 0.0;     // mean cross-entropy
};

// Scores the whole data set in chunks of `chunk` images.
Validation validate(Network& net, const Dataset& data, int chunk);

}  // namespace actsearch::engine
