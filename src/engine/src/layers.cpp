#include "actsearch/engine/detail/layers.hpp"
#include "matmul.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace actsearch::engine {
namespace {

thread_local int t_engine_threads = 1;

// The dense layers' products are cut into blocks of a fixed size, kDenseRows rows of the batch (y, dx)
// or kDenseCols inputs (dW), each computed by one single-threaded oneDNN matmul (matmul.hpp): a block's
// bits depend only on its shape, never on the thread count or on which thread runs it, so the threads
// only distribute blocks. The determinism tests check this bit for bit.
constexpr int kDenseRows = 64, kDenseCols = 256;
// Below this many multiply-adds a product is not worth a parallel region.
constexpr double kMinParallelWork = 2.0e5;

// Calls block(begin, end) for [0, extent) cut into pieces of `grain` (the last one shorter), on up to
// engine_threads() threads.
template <class Block>
void for_each_fixed_block(int extent, int grain, double work, Block&& block) {
    const int blocks = (extent + grain - 1) / grain;
    const int threads = std::min(engine_threads(), blocks);
    if (threads <= 1 || work < kMinParallelWork) {
        for (int b = 0; b < blocks; ++b) block(b * grain, std::min(extent, (b + 1) * grain));
        return;
    }
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int b = 0; b < blocks; ++b) block(b * grain, std::min(extent, (b + 1) * grain));
}

}  // namespace

int engine_threads() noexcept { return t_engine_threads; }

ScopedEngineThreads::ScopedEngineThreads(int threads) noexcept : previous_(t_engine_threads) {
    t_engine_threads = std::max(1, threads);
}
ScopedEngineThreads::~ScopedEngineThreads() { t_engine_threads = previous_; }

FlatParameters::Slice FlatParameters::take(std::size_t n) {
    if (n > values_.size() - taken_)
        throw std::logic_error(fmt::format("FlatParameters: taking {} parameters past the end ({} of {} taken)",
                                           n, taken_, values_.size()));
    Slice slice{values_.data() + taken_, grads_.data() + taken_, n};
    taken_ += n;
    return slice;
}

void FlatParameters::zero_grads() noexcept { std::fill(grads_.begin(), grads_.end(), 0.0f); }

void fill_uniform(float* data, std::size_t n, float bound, Rng& rng) noexcept {
    for (std::size_t i = 0; i < n; ++i) data[i] = rng.uniform(-bound, bound);
}

DenseLayer::DenseLayer(int in, int out, FlatParameters& params)
    : in_(in), out_(out), weight_(params.take(std::size_t(in) * out)), bias_(params.take(std::size_t(out))) {}

void DenseLayer::init_pytorch_default(Rng& rng) noexcept {
    const float bound = 1.0f / std::sqrt(float(in_));
    fill_uniform(weight_.value, weight_.size, bound, rng);
    fill_uniform(bias_.value, bias_.size, bound, rng);
}

void DenseLayer::forward(const float* x, int batch, float* y) const {
    // Rows of y are independent: blocks of kDenseRows rows of the batch.
    const matmul::Operand weight_t{weight_.value, in_, /*transposed=*/true};   // W^T[in, out]
    for_each_fixed_block(batch, kDenseRows, double(batch) * in_ * out_, [&](int r0, int r1) {
        matmul::product(r1 - r0, out_, in_, {x + std::size_t(r0) * in_, in_}, weight_t, y + std::size_t(r0) * out_,
                        out_, bias_.value, /*accumulate=*/false);
    });
}

void DenseLayer::backward(const float* x, const float* dy, int batch, float* dx) const {
    // dW[out, in] += dy^T x: blocks of kDenseCols columns (inputs), each with the whole batch as depth.
    const matmul::Operand dy_t{dy, out_, /*transposed=*/true};   // dy^T[out, batch]
    for_each_fixed_block(in_, kDenseCols, double(batch) * in_ * out_, [&](int c0, int c1) {
        matmul::product(out_, c1 - c0, batch, dy_t, {x + c0, in_}, weight_.grad + c0, in_, nullptr,
                        /*accumulate=*/true);
    });
    // db += column sums of dy, row after row (a fixed order: the bits do not depend on alignment).
    for (int b = 0; b < batch; ++b) {
        const float* row = dy + std::size_t(b) * out_;
        for (int o = 0; o < out_; ++o) bias_.grad[o] += row[o];
    }
    if (dx == nullptr) return;
    // dx[batch, in] = dy W: blocks of kDenseRows rows.
    for_each_fixed_block(batch, kDenseRows, double(batch) * in_ * out_, [&](int r0, int r1) {
        matmul::product(r1 - r0, in_, out_, {dy + std::size_t(r0) * out_, out_}, {weight_.value, in_},
                        dx + std::size_t(r0) * in_, in_, nullptr, /*accumulate=*/false);
    });
}

ActivationLayer::ActivationLayer(const Program& program, int channels, FlatParameters& params)
    : program_(program), channels_(channels), beta_(params.take(parameter_count(program, channels))) {
    init();
}

void ActivationLayer::init() noexcept {
    const std::vector<float>& initial = program_.beta_initial_values();
    for (std::size_t k = 0; k < initial.size(); ++k)
        std::fill_n(beta_.value + k * std::size_t(channels_), channels_, initial[k]);
}

void ActivationLayer::forward(const float* x, float* y, std::size_t outer, std::size_t inner) const {
    program_.forward(x, y, beta_.value, ActShape{outer, std::size_t(channels_), inner});
}

void ActivationLayer::backward(const float* x, const float* dy, float* dx, std::size_t outer,
                               std::size_t inner) const {
    program_.backward(x, dy, dx, beta_.value, beta_.size ? beta_.grad : nullptr,
                      ActShape{outer, std::size_t(channels_), inner});
}

double softmax_cross_entropy(const float* logits, const std::int32_t* labels, int batch, int classes,
                             float* dlogits) {
    double loss_sum = 0.0;
    const double inv_batch = 1.0 / batch;
    for (int b = 0; b < batch; ++b) {
        const float* z = logits + std::size_t(b) * classes;
        const float z_max = *std::max_element(z, z + classes);
        double sum = 0.0;
        for (int k = 0; k < classes; ++k) sum += std::exp(double(z[k]) - z_max);
        const double log_sum = std::log(sum) + z_max;
        loss_sum += log_sum - z[labels[b]];
        if (dlogits == nullptr) continue;
        float* dz = dlogits + std::size_t(b) * classes;
        for (int k = 0; k < classes; ++k) dz[k] = float(std::exp(double(z[k]) - log_sum) * inv_batch);
        dz[labels[b]] -= float(inv_batch);
    }
    return loss_sum * inv_batch;
}

void accumulate_logit_stats(const float* logits, const std::int32_t* labels, int batch, int classes,
                            LogitStats& stats) {
    for (int b = 0; b < batch; ++b) {
        const float* z = logits + std::size_t(b) * classes;
        if (!std::all_of(z, z + classes, [](float v) { return std::isfinite(v); })) {
            stats.finite = false;
            return;
        }
        const auto arg_max = std::max_element(z, z + classes) - z;
        stats.correct += arg_max == labels[b];
        const float z_max = z[arg_max];
        double sum = 0.0;
        for (int k = 0; k < classes; ++k) sum += std::exp(double(z[k]) - z_max);
        stats.loss_sum += std::log(sum) + z_max - z[labels[b]];
    }
}

}  // namespace actsearch::engine
