// GCC 12 reports false -Wmaybe-uninitialized inside Eigen 3.4's AVX-512 GEMM kernel (_mm512_undefined_ps).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "conv.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>

namespace actsearch::engine::conv {
namespace {

// Sum of term(i) for i in [0, n) in an order fixed by n alone. Eigen's .sum() over a Map peels the
// first elements up to the pointer's packet alignment, so its result depended on where the allocator
// happened to put a buffer: the same evaluation scored differently after other evaluations had run
// on the thread (the conv networks' batch norm). 16 float lanes, vectorisable without reassociation,
// combined in double.
template <class Term>
double fixed_order_sum(std::size_t n, Term&& term) {
    constexpr std::size_t kLanes = 16;
    float lanes[kLanes] = {};
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (std::size_t j = 0; j < kLanes; ++j) lanes[j] += term(i + j);
    double total = 0.0;
    for (std::size_t j = 0; j < kLanes; ++j) total += lanes[j];
    for (; i < n; ++i) total += term(i);
    return total;
}

using Row = Eigen::Map<Eigen::ArrayXf>;
using ConstRow = Eigen::Map<const Eigen::ArrayXf>;

}  // namespace

void batchnorm_forward_train(const BatchNorm& bn, const float* x, float* y, std::size_t count,
                             const float* gamma, const float* beta, float* saved_mean, float* saved_inv_std,
                             float* running_mean, float* running_var) {
    const float n = float(count);
    // PyTorch divides by n - 1 for the running variance; with one value per channel it raises, we keep
    // the (zero) biased variance instead.
    const float unbiased = count > 1 ? n / (n - 1.0f) : 1.0f;
    for (int c = 0; c < bn.channels; ++c) {
        const ConstRow in(x + c * count, Eigen::Index(count));
        const float* xc = x + c * count;
        const float mean = float(fixed_order_sum(count, [xc](std::size_t i) { return xc[i]; }) / n);
        // Two passes: no cancellation.
        const float var = float(fixed_order_sum(count, [xc, mean](std::size_t i) {
                                    const float d = xc[i] - mean;
                                    return d * d;
                                }) / n);
        const float inv_std = 1.0f / std::sqrt(var + bn.eps);
        const float scale = gamma[c] * inv_std;
        Row(y + c * count, Eigen::Index(count)) = (in - mean) * scale + beta[c];
        saved_mean[c] = mean;
        saved_inv_std[c] = inv_std;
        running_mean[c] = (1.0f - bn.momentum) * running_mean[c] + bn.momentum * mean;
        running_var[c] = (1.0f - bn.momentum) * running_var[c] + bn.momentum * var * unbiased;
    }
}

void batchnorm_forward_infer(const BatchNorm& bn, const float* x, float* y, std::size_t count,
                             const float* gamma, const float* beta, const float* running_mean,
                             const float* running_var) {
    for (int c = 0; c < bn.channels; ++c) {
        const float scale = gamma[c] / std::sqrt(running_var[c] + bn.eps);
        Row(y + c * count, Eigen::Index(count)) =
            (ConstRow(x + c * count, Eigen::Index(count)) - running_mean[c]) * scale + beta[c];
    }
}

void batchnorm_backward(const BatchNorm& bn, const float* x, const float* dy, float* dx, std::size_t count,
                        const float* gamma, const float* saved_mean, const float* saved_inv_std,
                        float* dgamma, float* dbeta) {
    const float n = float(count);
    for (int c = 0; c < bn.channels; ++c) {
        const ConstRow in(x + c * count, Eigen::Index(count));
        const ConstRow grad(dy + c * count, Eigen::Index(count));
        const float mean = saved_mean[c], inv_std = saved_inv_std[c];
        const float* xc = x + c * count;
        const float* gc = dy + c * count;
        const float sum_dy = float(fixed_order_sum(count, [gc](std::size_t i) { return gc[i]; }));
        const float sum_dy_xhat =
            float(fixed_order_sum(count, [xc, gc, mean](std::size_t i) { return gc[i] * (xc[i] - mean); })) * inv_std;
        dgamma[c] += sum_dy_xhat;
        dbeta[c] += sum_dy;
        // dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat)), xhat recomputed from x.
        const float scale = gamma[c] * inv_std;
        const float xhat_coeff = -scale * inv_std * sum_dy_xhat / n;
        const float offset = -scale * sum_dy / n;
        Row(dx + c * count, Eigen::Index(count)) = grad * scale + (in - mean) * xhat_coeff + offset;
    }
}

// PyTorch's rule for a window scanned in row-major order: a later value replaces the running maximum
// if it is greater or NaN. Written as selects (v != v is isnan) so that the loops over a row of windows
// vectorise.
static inline void max_step(float v, int index, float& best, int& best_index) {
    const bool wins = v > best || v != v;
    best = wins ? v : best;
    best_index = wins ? index : best_index;
}

// Max-pool works on blocks of kPairRows output rows of at most kMaxPairs windows (wider maps take the
// per-window path); the per-block buffers then live on the stack.
constexpr int kPairRows = 32;
constexpr int kMaxPairs = 64;

void maxpool2x2_forward(const float* x, float* y, std::size_t planes, int height, int width) {
    const int out_h = height / 2, out_w = width / 2;
    // Pairs within a row first, then the two rows: the same winner as PyTorch's row-major scan (first
    // of equal maxima, last NaN), and both passes are long or contiguous loops that vectorise, where a
    // loop over 2x2 windows of a 14-wide row does not. `pairs` holds the row maxima of a few rows.
    float pairs[2 * kPairRows * kMaxPairs];
    const bool flat = width % 2 == 0 && out_w <= kMaxPairs;
    for (std::size_t p = 0; p < planes; ++p) {
        const float* in = x + p * height * width;
        float* out = y + p * out_h * out_w;
        for (int oy0 = 0; oy0 < out_h; oy0 += kPairRows) {
            const int rows = std::min(kPairRows, out_h - oy0);
            if (!flat) {
                for (int oy = oy0; oy < oy0 + rows; ++oy)
                    for (int ox = 0; ox < out_w; ++ox) {
                        const float* top = in + std::size_t(2 * oy) * width + 2 * ox;
                        float best = top[0];
                        int unused = 0;
                        max_step(top[1], 1, best, unused);
                        float bottom = top[width];
                        max_step(top[width + 1], 1, bottom, unused);
                        max_step(bottom, 2, best, unused);
                        out[std::size_t(oy) * out_w + ox] = best;
                    }
                continue;
            }
            const float* block = in + std::size_t(2 * oy0) * width;
            const int count = 2 * rows * out_w;  // row maxima of 2 * rows input rows
            for (int i = 0; i < count; ++i) {
                float best = block[2 * i];
                int unused = 0;
                max_step(block[2 * i + 1], 1, best, unused);
                pairs[i] = best;
            }
            for (int r = 0; r < rows; ++r) {
                const float* top = pairs + std::size_t(2 * r) * out_w;
                float* row = out + std::size_t(oy0 + r) * out_w;
                for (int ox = 0; ox < out_w; ++ox) {
                    float best = top[ox];
                    int unused = 0;
                    max_step(top[out_w + ox], 1, best, unused);
                    row[ox] = best;
                }
            }
        }
    }
}

void maxpool2x2_backward(const float* x, const float* dy, float* dx, std::size_t planes, int height,
                         int width) {
    const int out_h = height / 2, out_w = width / 2;
    // The forward's two passes (pairs within rows, then rows), remembering each pass's winner, and a
    // third that writes every input element: the gradient at the winner, zero elsewhere.
    float pairs[2 * kPairRows * kMaxPairs], right_won[2 * kPairRows * kMaxPairs], routed[2 * kPairRows * kMaxPairs];
    const bool flat = width % 2 == 0 && out_w <= kMaxPairs;
    for (std::size_t p = 0; p < planes; ++p) {
        const float* in = x + p * height * width;
        float* grad_in = dx + p * height * width;
        const float* grad_out = dy + p * out_h * out_w;
        for (int oy0 = 0; oy0 < out_h; oy0 += kPairRows) {
            const int rows = std::min(kPairRows, out_h - oy0);
            if (!flat) {
                for (int oy = oy0; oy < oy0 + rows; ++oy) {
                    const std::size_t top = std::size_t(2 * oy) * width, bottom = top + width;
                    for (int ox = 0; ox < out_w; ++ox) {
                        float best = in[top + 2 * ox], lower = in[bottom + 2 * ox];
                        int top_arg = 0, bottom_arg = 2, arg = 0;
                        max_step(in[top + 2 * ox + 1], 1, best, top_arg);
                        max_step(in[bottom + 2 * ox + 1], 3, lower, bottom_arg);
                        arg = top_arg;
                        max_step(lower, bottom_arg, best, arg);
                        const float g = grad_out[std::size_t(oy) * out_w + ox];
                        grad_in[top + 2 * ox] = arg == 0 ? g : 0.0f;
                        grad_in[top + 2 * ox + 1] = arg == 1 ? g : 0.0f;
                        grad_in[bottom + 2 * ox] = arg == 2 ? g : 0.0f;
                        grad_in[bottom + 2 * ox + 1] = arg == 3 ? g : 0.0f;
                    }
                    grad_in[top + width - 1] = grad_in[bottom + width - 1] = 0.0f;  // width is odd here
                }
                continue;
            }
            const float* block = in + std::size_t(2 * oy0) * width;
            float* grad_block = grad_in + std::size_t(2 * oy0) * width;
            const int count = 2 * rows * out_w;
            for (int i = 0; i < count; ++i) {
                float best = block[2 * i];
                int arg = 0;
                max_step(block[2 * i + 1], 1, best, arg);
                pairs[i] = best;
                right_won[i] = float(arg);
            }
            for (int r = 0; r < rows; ++r) {
                const float* top = pairs + std::size_t(2 * r) * out_w;
                const float* g = grad_out + std::size_t(oy0 + r) * out_w;
                float* to_top = routed + std::size_t(2 * r) * out_w;
                for (int ox = 0; ox < out_w; ++ox) {
                    float best = top[ox];
                    int arg = 0;
                    max_step(top[out_w + ox], 1, best, arg);
                    to_top[ox] = arg == 0 ? g[ox] : 0.0f;
                    to_top[out_w + ox] = arg == 1 ? g[ox] : 0.0f;
                }
            }
            for (int i = 0; i < count; ++i) {
                grad_block[2 * i] = right_won[i] == 0.0f ? routed[i] : 0.0f;
                grad_block[2 * i + 1] = right_won[i] == 0.0f ? 0.0f : routed[i];
            }
        }
        if (height % 2 == 1) std::fill_n(grad_in + std::size_t(height - 1) * width, width, 0.0f);
    }
}

void global_avg_pool_forward(const float* x, float* y, int channels, int images, std::size_t plane) {
    for (int c = 0; c < channels; ++c)
        for (int n = 0; n < images; ++n)
        {
            const float* p = x + (std::size_t(c) * images + n) * plane;
            y[std::size_t(n) * channels + c] =
                float(fixed_order_sum(plane, [p](std::size_t i) { return p[i]; }) / double(plane));
        }
}

void global_avg_pool_backward(const float* dy, float* dx, int channels, int images, std::size_t plane) {
    for (int c = 0; c < channels; ++c)
        for (int n = 0; n < images; ++n)
            std::fill_n(dx + (std::size_t(c) * images + n) * plane, plane,
                        dy[std::size_t(n) * channels + c] / float(plane));
}

void residual_add(const float* a, const float* b, float* out, std::size_t count) {
    Row(out, Eigen::Index(count)) = ConstRow(a, Eigen::Index(count)) + ConstRow(b, Eigen::Index(count));
}

ConvLayer::ConvLayer(const Conv2d& geometry, FlatParameters& params)
    : geometry_(geometry), weight_(params.take(geometry.weight_count())), kernels_(geometry) {}

void ConvLayer::forward(const float* x, PlaneStrides x_strides, int images, Extent input, float* y) const {
    kernels_.forward(x, x_strides, images, input.height, input.width, weight_.value, y);
}

void ConvLayer::backward(const float* x, PlaneStrides x_strides, int images, Extent input, const float* dy,
                         float* dx) const {
    kernels_.backward(x, x_strides, images, input.height, input.width, weight_.value, dy, weight_.grad, dx);
}

void ConvLayer::init_pytorch_default(Rng& rng) noexcept {
    fill_uniform(weight_.value, weight_.size, 1.0f / std::sqrt(float(geometry_.fan_in())), rng);
}

BatchNormLayer::BatchNormLayer(int channels, FlatParameters& params)
    : bn_{channels}, gamma_(params.take(std::size_t(channels))), beta_(params.take(std::size_t(channels))),
      running_mean_(std::size_t(channels)), running_var_(std::size_t(channels)),
      saved_mean_(std::size_t(channels)), saved_inv_std_(std::size_t(channels)) {
    init();
}

void BatchNormLayer::init() noexcept {
    std::fill_n(gamma_.value, gamma_.size, 1.0f);
    std::fill_n(beta_.value, beta_.size, 0.0f);
    std::fill(running_mean_.begin(), running_mean_.end(), 0.0f);
    std::fill(running_var_.begin(), running_var_.end(), 1.0f);
}

void BatchNormLayer::forward_train(const float* x, float* y, std::size_t count) {
    batchnorm_forward_train(bn_, x, y, count, gamma_.value, beta_.value, saved_mean_.data(),
                            saved_inv_std_.data(), running_mean_.data(), running_var_.data());
}

void BatchNormLayer::forward_infer(const float* x, float* y, std::size_t count) const {
    batchnorm_forward_infer(bn_, x, y, count, gamma_.value, beta_.value, running_mean_.data(),
                            running_var_.data());
}

void BatchNormLayer::backward(const float* x, const float* dy, float* dx, std::size_t count) const {
    batchnorm_backward(bn_, x, dy, dx, count, gamma_.value, saved_mean_.data(), saved_inv_std_.data(),
                       gamma_.grad, beta_.grad);
}

ConvUnit::ConvUnit(const Conv2d& geometry, Extent input, const Program* activation, FlatParameters& params)
    : input_(input), output_{geometry.out_height(input.height), geometry.out_width(input.width)},
      conv_(geometry, params), bn_(geometry.out_channels, params) {
    if (activation != nullptr) act_.emplace(*activation, geometry.out_channels, params);
}

std::size_t ConvUnit::parameter_count(const Conv2d& geometry, const Program* activation) noexcept {
    return ConvLayer::parameter_count(geometry) + BatchNormLayer::parameter_count(geometry.out_channels) +
           (activation ? ActivationLayer::parameter_count(*activation, geometry.out_channels) : 0);
}

void ConvUnit::init_pytorch_default(Rng& rng) noexcept {
    conv_.init_pytorch_default(rng);
    bn_.init();
    if (act_) act_->init();
}

void ConvUnit::reserve(int images) {
    if (images <= capacity_) return;
    capacity_ = images;
    const std::size_t size = output_size(images);
    conv_out_.assign(size, 0.0f);
    bn_out_.assign(size, 0.0f);
    if (act_) act_out_.assign(size, 0.0f);
}

const float* ConvUnit::forward(const float* x, PlaneStrides x_strides, int images, bool training) {
    const std::size_t count = std::size_t(images) * output_.plane();
    conv_.forward(x, x_strides, images, input_, conv_out_.data());
    if (training)
        bn_.forward_train(conv_out_.data(), bn_out_.data(), count);
    else
        bn_.forward_infer(conv_out_.data(), bn_out_.data(), count);
    if (!act_) return bn_out_.data();
    // CNHW: each channel is one contiguous run of images * H * W values, so the per-channel betas see a
    // single "outer" block.
    act_->forward(bn_out_.data(), act_out_.data(), 1, count);
    return act_out_.data();
}

void ConvUnit::backward(const float* x, PlaneStrides x_strides, const float* dy, float* dx, int images,
                        float* temp_a, float* temp_b) const {
    if (!act_) {
        backward_from_pre_activation(x, x_strides, dy, dx, images, temp_a);
        return;
    }
    act_->backward(bn_out_.data(), dy, temp_a, 1, std::size_t(images) * output_.plane());
    backward_from_pre_activation(x, x_strides, temp_a, dx, images, temp_b);
}

void ConvUnit::backward_from_pre_activation(const float* x, PlaneStrides x_strides, const float* d_pre,
                                            float* dx, int images, float* temp) const {
    bn_.backward(conv_out_.data(), d_pre, temp, std::size_t(images) * output_.plane());
    conv_.backward(x, x_strides, images, input_, temp, dx);
}

}  // namespace actsearch::engine::conv
