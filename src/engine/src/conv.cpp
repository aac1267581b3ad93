#include "actsearch/engine/detail/conv.hpp"

#include <algorithm>
#include <cmath>

namespace actsearch::engine::conv {
namespace {

// Per-channel accumulators of a [rows][channels] reduction, reused by the thread (no allocation in a
// training step).
std::vector<double>& accumulators(std::size_t n) {
    thread_local std::vector<double> buffer;
    if (buffer.size() < n) buffer.resize(n);
    return buffer;
}

// sums[c] = sum over rows r of term(r, c). Each channel's sum runs over the rows in order: in float
// over blocks of kRowBlock rows, the block sums added in double. The loops vectorise across channels,
// which never reorders one channel's additions, so the bits depend only on the data (an
// alignment-peeling reduction once made scores depend on what ran before).
constexpr std::size_t kRowBlock = 64;

// The same sums for a channel count known at compile time: the partial sums stay in registers instead
// of a store and a reload per row (same additions in the same order: the same bits).
template <int Channels, class Term>
void column_sums_fixed(std::size_t rows, double* __restrict sums, Term&& term) {
    std::fill_n(sums, Channels, 0.0);
    for (std::size_t r0 = 0; r0 < rows; r0 += kRowBlock) {
        const std::size_t r1 = std::min(rows, r0 + kRowBlock);
        float partial[Channels] = {};
        for (std::size_t r = r0; r < r1; ++r) {
#pragma omp simd
            for (int c = 0; c < Channels; ++c) partial[c] += term(r, c);
        }
#pragma omp simd
        for (int c = 0; c < Channels; ++c) sums[c] += double(partial[c]);
    }
}

template <int Channels, class TermA, class TermB>
void column_sums2_fixed(std::size_t rows, double* __restrict sums_a, double* __restrict sums_b, TermA&& term_a,
                        TermB&& term_b) {
    std::fill_n(sums_a, Channels, 0.0);
    std::fill_n(sums_b, Channels, 0.0);
    for (std::size_t r0 = 0; r0 < rows; r0 += kRowBlock) {
        const std::size_t r1 = std::min(rows, r0 + kRowBlock);
        float partial_a[Channels] = {}, partial_b[Channels] = {};
        for (std::size_t r = r0; r < r1; ++r) {
#pragma omp simd
            for (int c = 0; c < Channels; ++c) {
                partial_a[c] += term_a(r, c);
                partial_b[c] += term_b(r, c);
            }
        }
#pragma omp simd
        for (int c = 0; c < Channels; ++c) {
            sums_a[c] += double(partial_a[c]);
            sums_b[c] += double(partial_b[c]);
        }
    }
}

template <class Term>
void column_sums(std::size_t rows, int channels, double* __restrict sums, Term&& term) {
    switch (channels) {
    case 16: return column_sums_fixed<16>(rows, sums, term);
    case 32: return column_sums_fixed<32>(rows, sums, term);
    case 64: return column_sums_fixed<64>(rows, sums, term);
    default: break;
    }
    thread_local std::vector<float> block;
    if (block.size() < std::size_t(channels)) block.resize(std::size_t(channels));
    float* __restrict partial = block.data();
    std::fill_n(sums, channels, 0.0);
    for (std::size_t r0 = 0; r0 < rows; r0 += kRowBlock) {
        const std::size_t r1 = std::min(rows, r0 + kRowBlock);
        std::fill_n(partial, channels, 0.0f);
        for (std::size_t r = r0; r < r1; ++r) {
#pragma omp simd
            for (int c = 0; c < channels; ++c) partial[c] += term(r, c);
        }
#pragma omp simd
        for (int c = 0; c < channels; ++c) sums[c] += double(partial[c]);
    }
}

// Two such sums in one pass over the data (each in the same order as column_sums would take).
template <class TermA, class TermB>
void column_sums2(std::size_t rows, int channels, double* __restrict sums_a, double* __restrict sums_b,
                  TermA&& term_a, TermB&& term_b) {
    switch (channels) {
    case 16: return column_sums2_fixed<16>(rows, sums_a, sums_b, term_a, term_b);
    case 32: return column_sums2_fixed<32>(rows, sums_a, sums_b, term_a, term_b);
    case 64: return column_sums2_fixed<64>(rows, sums_a, sums_b, term_a, term_b);
    default: break;
    }
    thread_local std::vector<float> block;
    if (block.size() < 2 * std::size_t(channels)) block.resize(2 * std::size_t(channels));
    float* __restrict partial_a = block.data();
    float* __restrict partial_b = block.data() + channels;
    std::fill_n(sums_a, channels, 0.0);
    std::fill_n(sums_b, channels, 0.0);
    for (std::size_t r0 = 0; r0 < rows; r0 += kRowBlock) {
        const std::size_t r1 = std::min(rows, r0 + kRowBlock);
        std::fill_n(partial_a, channels, 0.0f);
        std::fill_n(partial_b, channels, 0.0f);
        for (std::size_t r = r0; r < r1; ++r) {
#pragma omp simd
            for (int c = 0; c < channels; ++c) {
                partial_a[c] += term_a(r, c);
                partial_b[c] += term_b(r, c);
            }
        }
#pragma omp simd
        for (int c = 0; c < channels; ++c) {
            sums_a[c] += double(partial_a[c]);
            sums_b[c] += double(partial_b[c]);
        }
    }
}

}  // namespace

void batchnorm_forward_train(const BatchNorm& bn, const float* x, float* y, std::size_t count,
                             const float* gamma, const float* beta, float* saved_mean, float* saved_inv_std,
                             float* running_mean, float* running_var) {
    const int channels = bn.channels;
    const std::size_t stride = std::size_t(channels);
    const float n = float(count);
    // PyTorch divides by n - 1 for the running variance; with one value per channel it raises, we keep
    // the (zero) biased variance instead.
    const float unbiased = count > 1 ? n / (n - 1.0f) : 1.0f;
    double* sums = accumulators(stride).data();
    column_sums(count, channels, sums, [x, stride](std::size_t r, int c) { return x[r * stride + c]; });
    for (int c = 0; c < channels; ++c) saved_mean[c] = float(sums[c] / n);
    // Two passes: no cancellation.
    column_sums(count, channels, sums, [x, stride, saved_mean](std::size_t r, int c) {
        const float d = x[r * stride + c] - saved_mean[c];
        return d * d;
    });
    for (int c = 0; c < channels; ++c) {
        const float var = float(sums[c] / n);
        saved_inv_std[c] = 1.0f / std::sqrt(var + bn.eps);
        running_mean[c] = (1.0f - bn.momentum) * running_mean[c] + bn.momentum * saved_mean[c];
        running_var[c] = (1.0f - bn.momentum) * running_var[c] + bn.momentum * var * unbiased;
    }
    for (std::size_t r = 0; r < count; ++r) {
        const float* in = x + r * stride;
        float* out = y + r * stride;
#pragma omp simd
        for (int c = 0; c < channels; ++c) out[c] = (in[c] - saved_mean[c]) * (gamma[c] * saved_inv_std[c]) + beta[c];
    }
}

void batchnorm_forward_infer(const BatchNorm& bn, const float* x, float* y, std::size_t count,
                             const float* gamma, const float* beta, const float* running_mean,
                             const float* running_var) {
    const int channels = bn.channels;
    const std::size_t stride = std::size_t(channels);
    thread_local std::vector<float> scales;
    if (scales.size() < stride) scales.resize(stride);
    float* __restrict scale = scales.data();
    for (int c = 0; c < channels; ++c) scale[c] = gamma[c] / std::sqrt(running_var[c] + bn.eps);
    for (std::size_t r = 0; r < count; ++r) {
        const float* in = x + r * stride;
        float* out = y + r * stride;
#pragma omp simd
        for (int c = 0; c < channels; ++c) out[c] = (in[c] - running_mean[c]) * scale[c] + beta[c];
    }
}

void batchnorm_backward(const BatchNorm& bn, const float* x, const float* dy, float* dx, std::size_t count,
                        const float* gamma, const float* saved_mean, const float* saved_inv_std,
                        float* dgamma, float* dbeta) {
    const int channels = bn.channels;
    const std::size_t stride = std::size_t(channels);
    const float n = float(count);
    std::vector<double>& buffer = accumulators(2 * stride);
    double* sum_dy = buffer.data();
    double* sum_dy_xc = buffer.data() + stride;
    column_sums2(
        count, channels, sum_dy, sum_dy_xc, [dy, stride](std::size_t r, int c) { return dy[r * stride + c]; },
        [x, dy, stride, saved_mean](std::size_t r, int c) { return dy[r * stride + c] * (x[r * stride + c] - saved_mean[c]); });
    // dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat)), xhat recomputed from x.
    float coeffs[3 * 256];
    std::vector<float> heap;
    float* coeff = coeffs;
    if (channels > 256) {
        heap.resize(3 * stride);
        coeff = heap.data();
    }
    float* scale = coeff;
    float* xc_coeff = coeff + stride;
    float* offset = coeff + 2 * stride;
    for (int c = 0; c < channels; ++c) {
        const float inv_std = saved_inv_std[c];
        const float s_dy = float(sum_dy[c]);
        const float s_dy_xhat = float(sum_dy_xc[c]) * inv_std;
        dgamma[c] += s_dy_xhat;
        dbeta[c] += s_dy;
        scale[c] = gamma[c] * inv_std;
        xc_coeff[c] = -scale[c] * inv_std * s_dy_xhat / n;
        offset[c] = -scale[c] * s_dy / n;
    }
    for (std::size_t r = 0; r < count; ++r) {
        const float* in = x + r * stride;
        const float* g = dy + r * stride;
        float* out = dx + r * stride;
#pragma omp simd
        for (int c = 0; c < channels; ++c)
            out[c] = g[c] * scale[c] + (in[c] - saved_mean[c]) * xc_coeff[c] + offset[c];
    }
}

// PyTorch's rule for a window scanned in row-major order: a later value replaces the running maximum
// if it is greater or NaN. Written as selects (v != v is isnan) so that the loops over channels
// vectorise.
static inline void max_step(float v, int index, float& best, int& best_index) {
    const bool wins = v > best || v != v;
    best = wins ? v : best;
    best_index = wins ? index : best_index;
}

void maxpool2x2_forward(const float* x, float* y, int images, int height, int width, int channels) {
    const int out_h = height / 2, out_w = width / 2;
    const std::size_t row = std::size_t(width) * channels;
    for (int n = 0; n < images; ++n)
        for (int oy = 0; oy < out_h; ++oy)
            for (int ox = 0; ox < out_w; ++ox) {
                const float* top = x + ((std::size_t(n) * height + 2 * oy) * width + 2 * ox) * channels;
                const float* bottom = top + row;
                float* out = y + ((std::size_t(n) * out_h + oy) * out_w + ox) * channels;
#pragma omp simd
                for (int c = 0; c < channels; ++c) {
                    float best = top[c], lower = bottom[c];
                    int unused = 0;
                    max_step(top[channels + c], 1, best, unused);
                    max_step(bottom[channels + c], 1, lower, unused);
                    max_step(lower, 2, best, unused);
                    out[c] = best;
                }
            }
}

void maxpool2x2_backward(const float* x, const float* dy, float* dx, int images, int height, int width,
                         int channels) {
    const int out_h = height / 2, out_w = width / 2;
    const std::size_t row = std::size_t(width) * channels;
    // An odd last row or column takes no part: zero everything first, then write every window.
    if (height % 2 == 1 || width % 2 == 1) std::fill_n(dx, std::size_t(images) * height * row, 0.0f);
    for (int n = 0; n < images; ++n)
        for (int oy = 0; oy < out_h; ++oy)
            for (int ox = 0; ox < out_w; ++ox) {
                const std::size_t at = ((std::size_t(n) * height + 2 * oy) * width + 2 * ox) * channels;
                const float* top = x + at;
                const float* bottom = top + row;
                float* dtop = dx + at;
                float* dbottom = dtop + row;
                const float* g = dy + ((std::size_t(n) * out_h + oy) * out_w + ox) * channels;
#pragma omp simd
                for (int c = 0; c < channels; ++c) {
                    float best = top[c], lower = bottom[c];
                    int top_arg = 0, bottom_arg = 2;
                    max_step(top[channels + c], 1, best, top_arg);
                    max_step(bottom[channels + c], 3, lower, bottom_arg);
                    int arg = top_arg;
                    max_step(lower, bottom_arg, best, arg);
                    dtop[c] = arg == 0 ? g[c] : 0.0f;
                    dtop[channels + c] = arg == 1 ? g[c] : 0.0f;
                    dbottom[c] = arg == 2 ? g[c] : 0.0f;
                    dbottom[channels + c] = arg == 3 ? g[c] : 0.0f;
                }
            }
}

void global_avg_pool_forward(const float* x, float* y, int channels, int images, std::size_t plane) {
    const std::size_t stride = std::size_t(channels);
    double* sums = accumulators(stride).data();
    for (int n = 0; n < images; ++n) {
        const float* map = x + std::size_t(n) * plane * stride;
        column_sums(plane, channels, sums, [map, stride](std::size_t r, int c) { return map[r * stride + c]; });
        for (int c = 0; c < channels; ++c) y[std::size_t(n) * stride + c] = float(sums[c] / double(plane));
    }
}

void global_avg_pool_backward(const float* dy, float* dx, int channels, int images, std::size_t plane) {
    const std::size_t stride = std::size_t(channels);
    for (int n = 0; n < images; ++n) {
        const float* g = dy + std::size_t(n) * stride;
        float* map = dx + std::size_t(n) * plane * stride;
        for (std::size_t r = 0; r < plane; ++r) {
#pragma omp simd
            for (int c = 0; c < channels; ++c) map[r * stride + c] = g[c] / float(plane);
        }
    }
}

void residual_add(const float* a, const float* b, float* out, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) out[i] = a[i] + b[i];
}

ConvLayer::ConvLayer(const Conv2d& geometry, FlatParameters& params)
    : geometry_(geometry), weight_(params.take(geometry.weight_count())), kernels_(geometry) {}

void ConvLayer::forward(const float* x, Layout layout, int images, Extent input, float* y) const {
    kernels_.forward(x, layout, images, input.height, input.width, weight_.value, y);
}

void ConvLayer::backward(const float* x, Layout layout, int images, Extent input, const float* dy,
                         float* dx) const {
    kernels_.backward(x, layout, images, input.height, input.width, weight_.value, dy, weight_.grad, dx);
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

const float* ConvUnit::forward(const float* x, Layout layout, int images, bool training) {
    const std::size_t count = std::size_t(images) * output_.plane();
    conv_.forward(x, layout, images, input_, conv_out_.data());
    if (training)
        bn_.forward_train(conv_out_.data(), bn_out_.data(), count);
    else
        bn_.forward_infer(conv_out_.data(), bn_out_.data(), count);
    if (!act_) return bn_out_.data();
    // NHWC: count pixels of out_channels() channels each, the program's (outer, channels, 1) shape.
    act_->forward(bn_out_.data(), act_out_.data(), count, 1);
    return act_out_.data();
}

void ConvUnit::backward(const float* x, Layout layout, const float* dy, float* dx, int images,
                        float* temp_a, float* temp_b) const {
    if (!act_) {
        backward_from_pre_activation(x, layout, dy, dx, images, temp_a);
        return;
    }
    act_->backward(bn_out_.data(), dy, temp_a, std::size_t(images) * output_.plane(), 1);
    backward_from_pre_activation(x, layout, temp_a, dx, images, temp_b);
}

void ConvUnit::backward_from_pre_activation(const float* x, Layout layout, const float* d_pre,
                                            float* dx, int images, float* temp) const {
    bn_.backward(conv_out_.data(), d_pre, temp, std::size_t(images) * output_.plane());
    conv_.backward(x, layout, images, input_, temp, dx);
}

}  // namespace actsearch::engine::conv
