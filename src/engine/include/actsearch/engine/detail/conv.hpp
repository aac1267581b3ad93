// Kernels of the convolutional proxy networks (cnn.cpp, resnet.cpp): conv2d on oneDNN, batch
// normalisation, 2x2 max-pool, global average pool, residual add. Plain functions over flat float
// buffers; the networks own every buffer, so a training step never allocates.
//
// Layout. Feature maps inside the networks are NHWC ([N][H][W][C], channels innermost), the layout in
// which oneDNN's convolutions read and write them directly, with no reorder: batch norm and the
// per-channel betas see a [pixels][channels] matrix (the activation program's (outer, channels, 1)
// shape). Only the network input is NCHW (identical to NHWC for one channel; a 3-channel input is
// reordered by the first convolution). Buffers handed to oneDNN are 64-byte aligned (AlignedFloats),
// so its kernels never see an alignment that depends on what ran before. Semantics match PyTorch
// (Conv2d, BatchNorm2d, MaxPool2d(2), AdaptiveAvgPool2d(1)) so that the networks can be compared side
// by side with it.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <vector>

#include "actsearch/engine/detail/layers.hpp"

namespace actsearch::engine::conv {

// A network's infer() before any training step processes at most this many images at a time, so
// that the validation pass (1,000-image calls) needs no more memory than a training batch.
constexpr int kInferChunk = 128;

// How a map's elements are laid out: NHWC inside the networks, NCHW for a network's input images.
enum class Layout { nhwc, nchw };

// 64-byte aligned float buffers: every feature map the networks give oneDNN.
template <class T>
struct AlignedAllocator {
    using value_type = T;
    static constexpr std::align_val_t kAlignment{64};
    AlignedAllocator() = default;
    template <class U>
    AlignedAllocator(const AlignedAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlignment)); }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, kAlignment); }
    template <class U>
    bool operator==(const AlignedAllocator<U>&) const noexcept { return true; }
};
using AlignedFloats = std::vector<float, AlignedAllocator<float>>;

// A square-kernel 2-D convolution without bias (PyTorch Conv2d(bias=False), dilation 1, groups 1).
// Weights are [out][in][k][k], PyTorch's order, i.e. a row-major [out x in*k*k] matrix.
struct Conv2d {
    int in_channels = 1;
    int out_channels = 1;
    int kernel = 3;
    int stride = 1;
    int padding = 1;
    // Operands in bf16, accumulation and outputs in fp32 (Precision::Bf16); the weights and the maps stay
    // fp32 in the networks' buffers and are rounded as the convolution reads them.
    bool bf16 = false;

    int out_height(int height) const noexcept { return (height + 2 * padding - kernel) / stride + 1; }
    int out_width(int width) const noexcept { return (width + 2 * padding - kernel) / stride + 1; }
    std::size_t weight_count() const noexcept { return std::size_t(out_channels) * patch_size(); }
    // Weights per output channel: one per (input channel, kernel row, kernel column).
    std::size_t patch_size() const noexcept { return std::size_t(in_channels) * kernel * kernel; }
    // fan_in of PyTorch's init: bound 1/sqrt(fan_in) for kaiming_uniform(a=sqrt(5)).
    std::size_t fan_in() const noexcept { return patch_size(); }
};

// The convolution kernels of one Conv2d, on oneDNN (conv_dnnl.cpp): primitives are made on first use
// for each (images, height, width, input layout) and reused. Single-threaded, and independent of the
// callers' buffer alignment (see conv_dnnl.cpp). Not thread-safe: one per layer of a network.
class ConvKernels {
public:
    explicit ConvKernels(const Conv2d& conv);
    ~ConvKernels();
    ConvKernels(ConvKernels&&) noexcept;
    ConvKernels& operator=(ConvKernels&&) noexcept;

    // y (NHWC, [images][Ho][Wo][out_channels]) = conv(x); x is [images][in_channels][H][W] in `layout`.
    void forward(const float* x, Layout layout, int images, int height, int width, const float* weight,
                 float* y);
    // dweight += dL/dweight; dx (if not null) = dL/dx in x's layout (every element written). dy is
    // NHWC like forward's y.
    void backward(const float* x, Layout layout, int images, int height, int width, const float* weight,
                  const float* dy, float* dweight, float* dx);

private:
    struct Plan;
    Plan& plan(int images, int height, int width, Layout layout);
    Conv2d conv_;
    std::vector<std::unique_ptr<Plan>> plans_;
};

// One-off calls of ConvKernels (tests; a network keeps its ConvKernels).
void conv2d_forward(const Conv2d& conv, const float* x, Layout layout, int images, int height, int width,
                    const float* weight, float* y);
void conv2d_backward(const Conv2d& conv, const float* x, Layout layout, int images, int height, int width,
                     const float* weight, const float* dy, float* dweight, float* dx);

// Batch normalisation per channel of x = [count][channels] (NHWC: count = images * H * W). Every
// per-channel sum runs over the rows in order, in double: its bits depend only on the data.
inline constexpr float kBatchNormMomentum = 0.1f;   // PyTorch's default
struct BatchNorm {
    int channels = 1;
    float momentum = kBatchNormMomentum;  // running = (1 - momentum) * running + momentum * batch statistic
    float eps = 1e-5f;
};

// Training mode: normalises with the batch mean and biased variance, stores the mean and
// 1/sqrt(var + eps) per channel in saved_mean / saved_inv_std for the backward pass, and updates the
// running mean and running variance, the latter with the unbiased batch variance (as PyTorch does).
void batchnorm_forward_train(const BatchNorm& bn, const float* x, float* y, std::size_t count,
                             const float* gamma, const float* beta, float* saved_mean, float* saved_inv_std,
                             float* running_mean, float* running_var);

// Inference mode: y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta.
void batchnorm_forward_infer(const BatchNorm& bn, const float* x, float* y, std::size_t count,
                             const float* gamma, const float* beta, const float* running_mean,
                             const float* running_var);

// dx = dL/dx through the batch statistics; dgamma, dbeta += their gradients. x is the forward input.
void batchnorm_backward(const BatchNorm& bn, const float* x, const float* dy, float* dx, std::size_t count,
                        const float* gamma, const float* saved_mean, const float* saved_inv_std,
                        float* dgamma, float* dbeta);

// 2x2 max-pool, stride 2, floor mode (odd last row/column dropped), of an NHWC map
// [images][height][width][channels]. NaN wins, and among equal values the first in row-major order,
// as in PyTorch.
void maxpool2x2_forward(const float* x, float* y, int images, int height, int width, int channels);
// dx (every element written) from dy; the argmax is recomputed from x rather than stored.
void maxpool2x2_backward(const float* x, const float* dy, float* dx, int images, int height, int width,
                         int channels);

// Global average pool of an NHWC map [images][plane][channels] into features [images][channels]
// (row-major, what the linear head reads).
void global_avg_pool_forward(const float* x, float* y, int channels, int images, std::size_t plane);
void global_avg_pool_backward(const float* dy, float* dx, int channels, int images, std::size_t plane);

// out = a + b (the residual join). Backward is the identity into both branches.
void residual_add(const float* a, const float* b, float* out, std::size_t count);

// ---- Layers: the kernels above bound to parameters in a network's FlatParameters. ----

// Spatial size of a feature map; the channel count is the layer's.
struct Extent {
    int height = 0, width = 0;
    std::size_t plane() const noexcept { return std::size_t(height) * width; }
};

class ConvLayer {
public:
    ConvLayer(const Conv2d& geometry, FlatParameters& params);
    static std::size_t parameter_count(const Conv2d& geometry) noexcept { return geometry.weight_count(); }
    // PyTorch's Conv2d default, kaiming_uniform(a=sqrt(5)): U(+-1/sqrt(fan_in)).
    void init_pytorch_default(Rng& rng) noexcept;

    const Conv2d& geometry() const noexcept { return geometry_; }
    float* weight() const noexcept { return weight_.value; }
    float* weight_grad() const noexcept { return weight_.grad; }

    // y = conv(x) with this layer's weights; see ConvKernels.
    void forward(const float* x, Layout layout, int images, Extent input, float* y) const;
    // weight_grad() += dL/dW; dx (unless null) = dL/dx.
    void backward(const float* x, Layout layout, int images, Extent input, const float* dy, float* dx) const;

private:
    Conv2d geometry_;
    FlatParameters::Slice weight_;
    // Cached primitives and buffers, not state of the layer: const methods use them.
    mutable ConvKernels kernels_;
};

// BatchNorm2d: gamma and beta are parameters; running and per-batch statistics are state, not trained.
class BatchNormLayer {
public:
    BatchNormLayer(int channels, FlatParameters& params);
    static std::size_t parameter_count(int channels) noexcept { return 2 * std::size_t(channels); }
    void init() noexcept;  // gamma = 1, beta = 0, running mean 0, running variance 1

    // x, y: [count][channels].
    void forward_train(const float* x, float* y, std::size_t count);
    void forward_infer(const float* x, float* y, std::size_t count) const;
    void backward(const float* x, const float* dy, float* dx, std::size_t count) const;

    int channels() const noexcept { return bn_.channels; }
    // The running-average momentum (PyTorch's default 0.1); 1 / (k + 1) on the k-th of a series of
    // batches makes the running statistics the plain mean over the series (recalibration).
    void set_momentum(float momentum) noexcept { bn_.momentum = momentum; }
    float* gamma() const noexcept { return gamma_.value; }
    float* beta() const noexcept { return beta_.value; }
    const std::vector<float>& running_mean() const noexcept { return running_mean_; }
    const std::vector<float>& running_var() const noexcept { return running_var_; }

private:
    BatchNorm bn_;
    FlatParameters::Slice gamma_, beta_;
    std::vector<float> running_mean_, running_var_, saved_mean_, saved_inv_std_;
};

// conv -> batch norm [-> activation]: the unit both proxy networks are built from. It keeps every
// forward value its backward pass needs (conv output, batch-norm output, activation output) in buffers
// that grow to the largest batch seen and are then reused.
class ConvUnit {
public:
    // `activation` null: no activation (a ResNet block's second conv, a projection shortcut).
    ConvUnit(const Conv2d& geometry, Extent input, const Program* activation, FlatParameters& params);
    static std::size_t parameter_count(const Conv2d& geometry, const Program* activation) noexcept;
    void init_pytorch_default(Rng& rng) noexcept;

    // Grows the buffers to hold `images` images (allocates only when images exceeds the capacity).
    void reserve(int images);
    std::size_t output_size(int images) const noexcept { return std::size_t(images) * out_channels() * output().plane(); }

    // Runs on `images` (<= reserved) images of x, in `layout`; returns the NHWC output,
    // valid until the next forward. Training mode uses and updates batch statistics.
    const float* forward(const float* x, Layout layout, int images, bool training);
    // The last forward's output (what forward returned).
    const float* output_data() const noexcept { return act_ ? act_out_.data() : bn_out_.data(); }
    // Adds parameter gradients; writes dx in x's layout unless dx is null. dy and dx are not
    // modified / must not alias the temporaries; temp_a and temp_b hold output_size(images) floats.
    void backward(const float* x, Layout layout, const float* dy, float* dx, int images,
                  float* temp_a, float* temp_b) const;
    // Backward from a gradient with respect to the batch-norm output (skips the activation): the
    // ResNet block applies its second activation after the residual add.
    void backward_from_pre_activation(const float* x, Layout layout, const float* d_pre, float* dx,
                                      int images, float* temp) const;

    int in_channels() const noexcept { return conv_.geometry().in_channels; }
    int out_channels() const noexcept { return conv_.geometry().out_channels; }
    Extent input() const noexcept { return input_; }
    Extent output() const noexcept { return output_; }
    const ConvLayer& conv() const noexcept { return conv_; }
    const BatchNormLayer& batch_norm() const noexcept { return bn_; }
    void set_batch_norm_momentum(float momentum) noexcept { bn_.set_momentum(momentum); }
    const ActivationLayer* activation() const noexcept { return act_ ? &*act_ : nullptr; }

private:
    Extent input_, output_;
    ConvLayer conv_;
    BatchNormLayer bn_;
    std::optional<ActivationLayer> act_;
    int capacity_ = 0;
    AlignedFloats conv_out_, bn_out_, act_out_;
};

}  // namespace actsearch::engine::conv
