// Kernels of the convolutional proxy networks (cnn.cpp, resnet.cpp): conv2d by im2col + one GEMM,
// batch normalisation, 2x2 max-pool, global average pool, residual add. Plain functions over flat
// float buffers; the networks own every buffer and pass scratch in, so a training step never allocates.
//
// Layout. Feature maps inside the networks are channel-major, [C][N][H][W] ("CNHW"), not NCHW: the conv
// of a whole batch is then W[Cout x Cin*k*k] * col[Cin*k*k x N*Ho*Wo], whose output rows are already
// the CNHW output channels (no transpose), and batch norm / per-channel betas reduce over one
// contiguous row per channel. Only the network input is NCHW; conv2d reads any (channel, image)
// strides, so the first conv reads it directly. Semantics match PyTorch (Conv2d, BatchNorm2d,
// MaxPool2d(2), AdaptiveAvgPool2d(1)) so that the networks can be compared side by side with it.
#pragma once

#include <cstddef>
#include <span>

namespace actsearch::engine::conv {

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

// Floats of scratch conv2d_forward/backward need for `images` images of height x width. The im2col
// matrix is built for a few images at a time (about kColumnBudget floats), so scratch stays small
// (L2-sized) whatever the batch: a 1000-image inference chunk does not need a 450 MB im2col buffer.
inline constexpr std::size_t kColumnBudget = std::size_t(1) << 18;
std::size_t conv2d_scratch_size(const Conv2d& conv, int images, int height, int width) noexcept;

// y (CNHW, [out_channels][images][Ho][Wo]) = conv(x). x is read through `x_strides`.
void conv2d_forward(const Conv2d& conv, const float* x, PlaneStrides x_strides, int images, int height,
                    int width, const float* weight, float* y, std::span<float> scratch);

// dweight += dL/dweight; dx (if not null) = dL/dx, written through `x_strides` (every element of the
// images is written). dy is CNHW like conv2d_forward's y.
void conv2d_backward(const Conv2d& conv, const float* x, PlaneStrides x_strides, int images, int height,
                     int width, const float* weight, const float* dy, float* dweight, float* dx,
                     std::span<float> scratch);

// Batch normalisation over rows: x is [channels][count] (CNHW: count = images * H * W).
struct BatchNorm {
    int channels = 1;
    float momentum = 0.1f;  // running = (1 - momentum) * running + momentum * batch statistic
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

}  // namespace actsearch::engine::conv
