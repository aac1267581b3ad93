#include "actsearch/engine/detail/layers.hpp"
#include "gemm.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <stdexcept>

#include <Eigen/Core>
#include <fmt/format.h>

namespace actsearch::engine {
namespace {

using RowMajorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMajorMatrix>;
using ConstMatrixMap = Eigen::Map<const RowMajorMatrix>;
using ConstVectorMap = Eigen::Map<const Eigen::RowVectorXf>;

thread_local int t_engine_threads = 1;

// Parallel GEMMs split the output into blocks along one dimension, each block computed by a serial
// Eigen GEMM with the full reduction depth. Eigen's serial k-blocking depends only on the depth, and
// its register panels (mr = 3 packets: 12/24/48 floats for SSE/AVX/AVX-512; nr = 4) tile a block the
// same way as the whole matrix when block boundaries fall on multiples of 48: every output element
// then sees the same sequence of floating-point operations whatever the thread count. The
// determinism tests check this bit for bit.
constexpr int kBlockGrain = 48;
// Below this many multiply-adds a GEMM is not worth a parallel region.
constexpr double kMinParallelWork = 2.0e5;

// Calls block(begin, end) over [0, extent) split into at most engine_threads() grain-aligned pieces.
template <class Block>
void for_each_block(int extent, double work, Block&& block) {
    const int threads = std::min(engine_threads(), extent / kBlockGrain);
    if (threads <= 1 || work < kMinParallelWork) {
        block(0, extent);
        return;
    }
    const int grains = (extent + kBlockGrain - 1) / kBlockGrain;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int t = 0; t < threads; ++t) {
        const int begin = std::min(extent, grains * t / threads * kBlockGrain);
        const int end = t + 1 == threads ? extent : std::min(extent, grains * (t + 1) / threads * kBlockGrain);
        if (begin < end) block(begin, end);
    }
}

}  // namespace

void make_eigen_serial() noexcept {
    static std::once_flag once;
    std::call_once(once, [] { Eigen::setNbThreads(1); });
}

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
    : in_(in), out_(out), weight_(params.take(std::size_t(in) * out)), bias_(params.take(std::size_t(out))) {
    make_eigen_serial();
}

void DenseLayer::init_pytorch_default(Rng& rng) noexcept {
    const float bound = 1.0f / std::sqrt(float(in_));
    fill_uniform(weight_.value, weight_.size, bound, rng);
    fill_uniform(bias_.value, bias_.size, bound, rng);
}

void DenseLayer::forward(const float* x, int batch, float* y) const {
    const ConstMatrixMap weight(weight_.value, out_, in_);
    const ConstVectorMap bias(bias_.value, out_);
    // Rows of y are independent: split the batch. The bias is written first and the GEMM accumulates
    // onto it, which costs nothing over the GEMM's own zeroing.
    for_each_block(batch, double(batch) * in_ * out_, [&](int r0, int r1) {
        const ConstMatrixMap xs(x + std::size_t(r0) * in_, r1 - r0, in_);
        MatrixMap ys(y + std::size_t(r0) * out_, r1 - r0, out_);
        ys.rowwise() = bias;
        chunked_gemm(ys, xs, weight.transpose(), /*accumulate=*/true);
    });
}

void DenseLayer::backward(const float* x, const float* dy, int batch, float* dx) const {
    const ConstMatrixMap xs(x, batch, in_);
    const ConstMatrixMap dys(dy, batch, out_);
    // dW[out, in] += dy^T x: split along `in` (the wide side of the first layer).
    for_each_block(in_, double(batch) * in_ * out_, [&](int c0, int c1) {
        Eigen::Map<RowMajorMatrix, 0, Eigen::OuterStride<>> grad_block(weight_.grad + c0, out_, c1 - c0,
                                                                        Eigen::OuterStride<>(in_));
        chunked_gemm(grad_block, dys.transpose(), xs.middleCols(c0, c1 - c0), /*accumulate=*/true);
    });
    // db += column sums of dy, row after row. Not Eigen's colwise().sum(): its vectorised partial
    // reduction peels elements by the destination's alignment and sums those in another order, so
    // the bits would depend on where the allocator put the buffers.
    for (int b = 0; b < batch; ++b) {
        const float* row = dy + std::size_t(b) * out_;
        for (int o = 0; o < out_; ++o) bias_.grad[o] += row[o];
    }
    if (dx == nullptr) return;
    const ConstMatrixMap weight(weight_.value, out_, in_);
    for_each_block(batch, double(batch) * in_ * out_, [&](int r0, int r1) {
        MatrixMap dxs(dx + std::size_t(r0) * in_, r1 - r0, in_);
        chunked_gemm(dxs, dys.middleRows(r0, r1 - r0), weight, /*accumulate=*/false);
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
