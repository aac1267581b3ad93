#include "actsearch/engine/detail/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <vector>

#include <fmt/format.h>

#include "actsearch/engine/detail/layers.hpp"
#include "actsearch/numeric/lane_sum.hpp"
#include "actsearch/engine/detail/rng.hpp"

namespace actsearch::engine {
namespace {

// grad_scale multiplies the gradient (clipping); wd adds wd * p to it.
void sgd_momentum_step(std::span<float> params, std::span<const float> grads, std::span<float> velocity,
                       float lr, float momentum, float grad_scale, float wd) noexcept {
    float* __restrict p = params.data();
    const float* __restrict g = grads.data();
    float* __restrict v = velocity.data();
    for (std::size_t i = 0, n = params.size(); i < n; ++i) {
        const float gi = grad_scale * g[i] + wd * p[i];
        v[i] = momentum * v[i] + gi;
        p[i] -= lr * v[i];
    }
}

// L2 norm of the gradient, summed in a fixed order: deterministic.
double gradient_norm(std::span<const float> grads) noexcept {
    return std::sqrt(numeric::lane_sum_of_squares(grads.data(), grads.size()));
}

}  // namespace

double learning_rate(const TrainOptions& o, int step) noexcept {
    if (step < o.warmup) return o.lr * double(step + 1) / double(o.warmup);
    if (o.schedule != Schedule::Cosine) return o.lr;
    const int span = std::max(1, o.steps - o.warmup);
    const double t = double(step - o.warmup) / double(span);
    return 0.5 * o.lr * (1.0 + std::cos(3.14159265358979323846 * t));
}

int ThreadChooser::threads_for(int step) const noexcept {
    if (max_threads_ <= 1) return 1;
    if (step <= kProbeSteps) return 1;                 // step 0 warms up, then the single-thread probe
    if (step <= 2 * kProbeSteps) return max_threads_;  // the parallel probe
    return chosen_;
}

void ThreadChooser::record(int step, double seconds) noexcept {
    if (max_threads_ <= 1 || step == 0) return;
    if (step <= kProbeSteps) {
        single_ = std::min(single_, seconds);
    } else if (step <= 2 * kProbeSteps) {
        parallel_ = std::min(parallel_, seconds);
        if (step == 2 * kProbeSteps) chosen_ = parallel_ < 0.9 * single_ ? max_threads_ : 1;
    } else if (chosen_ > 1) {
        slow_steps_ = seconds > 1.5 * single_ ? slow_steps_ + 1 : 0;
        if (slow_steps_ >= kSlowStepsToGiveUp) chosen_ = 1;
    }
}

TrainOutcome train(Network& net, const Dataset& data, const TrainOptions& options) {
    TrainOutcome outcome;
    const std::size_t image = data.shape.size();
    const std::size_t batch = std::size_t(options.batch);
    std::vector<float> velocity(net.params().size(), 0.0f);
    std::vector<std::size_t> indices(batch);
    std::vector<std::int32_t> labels(batch);
    std::vector<float> inputs(batch * image);
    Rng rng(options.sampling_seed);

    const int tail_steps = std::max(1, options.steps / 10);
    const int progress_every = std::max(1, options.steps / 50);
    double tail_sum = 0.0, first_loss = 0.0;
    ThreadChooser chooser(options.max_threads);
    for (int step = 0; step < options.steps; ++step) {
        for (std::size_t i = 0; i < batch; ++i) {
            indices[i] = rng.below(data.size());
            labels[i] = data.labels[indices[i]];
        }
        data.gather(indices.data(), batch, inputs.data());
        const auto step_start = std::chrono::steady_clock::now();
        double loss = 0.0;
        {
            const ScopedEngineThreads scoped_threads(chooser.threads_for(step));
            loss = net.train_batch(inputs.data(), labels.data(), options.batch);
        }
        chooser.record(step, std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count());
        if (step == 0) first_loss = loss;
        if (!std::isfinite(loss) || loss > kDivergenceFactor * first_loss || loss > kDivergenceCeiling) {
            outcome.status = EvalStatus::Diverged;
            outcome.steps_done = step + 1;
            outcome.message = !std::isfinite(loss)
                                  ? fmt::format("training loss became {} at step {}", loss, step + 1)
                                  : fmt::format("training loss exploded to {:.4g} at step {} (first step: {:.4g})", loss,
                                                step + 1, first_loss);
            return outcome;
        }
        float grad_scale = 1.0f;
        if (options.clip > 0) {
            const double norm = gradient_norm(net.grads());
            if (!std::isfinite(norm)) {
                outcome.status = EvalStatus::Diverged;
                outcome.steps_done = step + 1;
                outcome.message = fmt::format("gradient became non-finite at step {}", step + 1);
                return outcome;
            }
            if (norm > options.clip) grad_scale = float(options.clip / (norm + 1e-6));
        }
        sgd_momentum_step(net.params(), net.grads(), velocity, float(learning_rate(options, step)),
                          float(options.momentum), grad_scale, float(options.weight_decay));
        if (step >= options.steps - tail_steps) tail_sum += loss;
        if (options.progress && (step + 1) % progress_every == 0) options.progress(double(step + 1) / options.steps);
    }
    outcome.steps_done = options.steps;
    outcome.threads = chooser.chosen();
    if (options.recalibration_batches > 0) {
        Rng recal_rng(options.recalibration_seed);
        const ScopedEngineThreads scoped_threads(chooser.chosen());
        for (int k = 0; k < options.recalibration_batches; ++k) {
            for (std::size_t i = 0; i < batch; ++i) indices[i] = recal_rng.below(data.size());
            data.gather(indices.data(), batch, inputs.data());
            if (!net.recalibrate_statistics(inputs.data(), options.batch, k)) break;   // no batch norm
        }
    }
    outcome.train_loss = options.steps > 0 ? tail_sum / tail_steps : 0.0;
    return outcome;
}

Validation validate(Network& net, const Dataset& data, int chunk, std::size_t limit) {
    const std::size_t total = limit > 0 ? std::min(limit, data.size()) : data.size();
    const std::size_t image = data.shape.size();
    const std::size_t classes = std::size_t(net.classes());
    const auto rows = static_cast<std::size_t>(chunk);
    std::vector<std::size_t> indices(rows);
    std::vector<float> inputs(rows * image), logits(rows * classes);
    LogitStats stats;
    for (std::size_t begin = 0; begin < total && stats.finite; begin += rows) {
        const std::size_t count = std::min(rows, total - begin);
        std::iota(indices.begin(), indices.begin() + std::ptrdiff_t(count), begin);
        data.gather(indices.data(), count, inputs.data());
        net.infer(inputs.data(), int(count), logits.data());
        accumulate_logit_stats(logits.data(), data.labels.data() + begin, int(count), int(classes), stats);
    }
    Validation v;
    v.finite = stats.finite;
    if (v.finite && total > 0) {
        v.accuracy = double(stats.correct) / double(total);
        v.loss = stats.loss_sum / double(total);
    }
    return v;
}

}  // namespace actsearch::engine
