// Kernels of the convolutional proxy networks (cnn.cpp, resnet.cpp): conv2d on oneDNN, batch
// normalisation, 2x2 max-pool, global average pool, residual add. Plain functions over flat float
// buffers; the networks own every buffer, so a training step never allocates.
//
// Layout. Feature maps inside the networks are channel-major, [C][N][H][W] ("CNHW"), not NCHW: batch
// norm and the per-channel betas then reduce over one contiguous row per channel. Only the network
// input is NCHW; conv2d reads any (channel, image) strides. oneDNN runs the convolutions in its own
// blocked layouts, reordered from and to CNHW around each call (conv_dnnl.cpp). Semantics match PyTorch (Conv2d, BatchNorm2d,
// MaxPool2d(2), AdaptiveAvgPool2d(1)) so that the networks can be compared side by side with it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "layers.hpp"

namespace actsearch::engine::conv {

// A network's infer() before any training step processes at most this many images at a time, so
// that the validation pass (1,000-image calls) needs no more memory than a training batch.
constexpr int kInferChunk = 128;

// Where element (channel c, image n, row y, column x) of a feature map lives:
// data[c * channel_stride + n * image_stride + y * width + x]. Rows of one plane are contiguous.
struct PlaneStrides {
    std::size_t channel_stride = 0;
    std::size_t image_stride = 0;

    static PlaneStrides cnhw(std::size_t images, std::size_t plane) noexcept { return {images * plane, plane}; }
    static PlaneStrides nchw(std::size_t channels, std::size_t plane) noexcept { return {plane, channels * plane}; }
};

// A square-kernel 2-D convolution without bias (PyTorch Conv2d(bias=False), dilation 1, groups 1).
// Weights are [out][in][k][k], PyTorch's order, i.e. a row-major [out x in*k*k] matrix.
struct Conv2d {
    int in_channels = 1;
    int out_channels = 1;
    int kernel = 3;
    int stride = 1;
    int padding = 1;

    int out_height(int height) const noexcept { return (height + 2 * padding - kernel) / stride + 1; }
    int out_width(int width) const noexcept { return (width + 2 * padding - kernel) / stride + 1; }
    std::size_t weight_count() const noexcept { return std::size_t(out_channels) * patch_size(); }
    // Rows of the im2col matrix: one per (input channel, kernel row, kernel column).
    std::size_t patch_size() const noexcept { return std::size_t(in_channels) * kernel * kernel; }
    // fan_in of PyTorch's init: bound 1/sqrt(fan_in) for kaiming_uniform(a=sqrt(5)).
    std::size_t fan_in() const noexcept { return patch_size(); }
};

// The convolution kernels of one Conv2d, on oneDNN (conv_dnnl.cpp): primitives and buffers in
// oneDNN's layouts are made on first use for each (images, height, width, input strides) and reused.
// Single-threaded and independent of the callers' buffer alignment (see conv_dnnl.cpp). Not
// thread-safe: one per layer of a network.
class ConvKernels {
public:
    explicit ConvKernels(const Conv2d& conv);
    ~ConvKernels();
    ConvKernels(ConvKernels&&) noexcept;
    ConvKernels& operator=(ConvKernels&&) noexcept;

    // y (CNHW, [out_channels][images][Ho][Wo]) = conv(x). x is read through `x_strides`.
    void forward(const float* x, PlaneStrides x_strides, int images, int height, int width,
                 const float* weight, float* y);
    // dweight += dL/dweight; dx (if not null) = dL/dx, written through `x_strides` (every element of
    // the images is written). dy is CNHW like forward's y.
    void backward(const float* x, PlaneStrides x_strides, int images, int height, int width,
                  const float* weight, const float* dy, float* dweight, float* dx);

private:
    struct Plan;
    Plan& plan(int images, int height, int width, PlaneStrides x_strides);
    Conv2d conv_;
    std::vector<std::unique_ptr<Plan>> plans_;
};

// One-off calls of ConvKernels (tests; a network keeps its ConvKernels).
void conv2d_forward(const Conv2d& conv, const float* x, PlaneStrides x_strides, int images, int height,
                    int width, const float* weight, float* y);
void conv2d_backward(const Conv2d& conv, const float* x, PlaneStrides x_strides, int images, int height,
                     int width, const float* weight, const float* dy, float* dweight, float* dx);

// Batch normalisation over rows: x is [channels][count] (CNHW: count = images * H * W).
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

// 2x2 max-pool, stride 2, floor mode (odd last row/column dropped), over `planes` planes of
// height x width. NaN wins, and among equal values the first in row-major order, as in PyTorch.
void maxpool2x2_forward(const float* x, float* y, std::size_t planes, int height, int width);
// dx (every element written) from dy; the argmax is recomputed from x rather than stored.
void maxpool2x2_backward(const float* x, const float* dy, float* dx, std::size_t planes, int height,
                         int width);

// Global average pool of a CNHW map [channels][images][plane] into features [images][channels]
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
    void forward(const float* x, PlaneStrides x_strides, int images, Extent input, float* y) const;
    // weight_grad() += dL/dW; dx (unless null) = dL/dx.
    void backward(const float* x, PlaneStrides x_strides, int images, Extent input, const float* dy,
                  float* dx) const;

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

    // x, y: [channels][count].
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

    // Runs on `images` (<= reserved) images of x, read through x_strides; returns the CNHW output,
    // valid until the next forward. Training mode uses and updates batch statistics.
    const float* forward(const float* x, PlaneStrides x_strides, int images, bool training);
    // The last forward's output (what forward returned).
    const float* output_data() const noexcept { return act_ ? act_out_.data() : bn_out_.data(); }
    // Adds parameter gradients; writes dx through x_strides unless dx is null. dy and dx are not
    // modified / must not alias the temporaries; temp_a and temp_b hold output_size(images) floats.
    void backward(const float* x, PlaneStrides x_strides, const float* dy, float* dx, int images,
                  float* temp_a, float* temp_b) const;
    // Backward from a gradient with respect to the batch-norm output (skips the activation): the
    // ResNet block applies its second activation after the residual add.
    void backward_from_pre_activation(const float* x, PlaneStrides x_strides, const float* d_pre, float* dx,
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
    std::vector<float> conv_out_, bn_out_, act_out_;
};

}  // namespace actsearch::engine::conv
