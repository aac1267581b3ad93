// Layer kernels shared by every proxy network (MLP here, CNN and ResNet in conv*.cpp / cnn.cpp /
// resnet.cpp). Everything works over flat float buffers owned by the network:
//   * parameters and their gradients are slices of two flat buffers (FlatParameters), allocated once;
//   * activations are row-major [batch, features] (dense) or NCHW (conv), preallocated per batch size.
// Backward passes ADD into gradient slices (as PyTorch does), so the network zeroes grads() once per
// step; input gradients (dx) are written, not added.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "actsearch/grammar/program.hpp"
#include "actsearch/engine/detail/rng.hpp"

namespace actsearch::engine {

// Threads a network may use inside one evaluation (see parallel GEMMs in DenseLayer). 1 by default;
// set by evaluate() for the duration of a call. Thread-local: evaluations on other threads (the
// driver's OpenMP loop over candidates) stay single-threaded.
int engine_threads() noexcept;
class ScopedEngineThreads {
public:
    explicit ScopedEngineThreads(int threads) noexcept;
    ~ScopedEngineThreads();
    ScopedEngineThreads(const ScopedEngineThreads&) = delete;
    ScopedEngineThreads& operator=(const ScopedEngineThreads&) = delete;
private:
    int previous_;
};

// Parameters and gradients of a whole network in two flat buffers of equal size, zero-filled. Layers
// take consecutive slices in construction order; params()/grads() are what the optimiser sees.
class FlatParameters {
public:
    struct Slice {
        float* value = nullptr;
        float* grad = nullptr;
        std::size_t size = 0;
    };

    explicit FlatParameters(std::size_t total) : values_(total, 0.0f), grads_(total, 0.0f) {}

    // The next n parameters. Throws std::logic_error past the end (a network sizing bug).
    Slice take(std::size_t n);
    // True once every parameter has been handed out (networks assert this after construction).
    bool fully_taken() const noexcept { return taken_ == values_.size(); }

    std::span<float> values() noexcept { return values_; }
    std::span<float> grads() noexcept { return grads_; }
    void zero_grads() noexcept;

private:
    std::vector<float> values_, grads_;
    std::size_t taken_ = 0;
};

// Fills [data, data + n) with U(-bound, bound).
void fill_uniform(float* data, std::size_t n, float bound, Rng& rng) noexcept;

// Fully connected layer y = x W^T + b over row-major [batch, features] buffers. W is [out, in] row-major
// (PyTorch's nn.Linear layout). The products run on oneDNN's matmul in blocks of a fixed size, which
// engine_threads() > 1 spreads over threads (bit-identical to the serial result, see layers.cpp).
class DenseLayer {
public:
    DenseLayer(int in, int out, FlatParameters& params);
    static std::size_t parameter_count(int in, int out) noexcept { return std::size_t(in) * out + out; }

    // PyTorch nn.Linear defaults: kaiming_uniform(a=sqrt(5)) on W, i.e. U(+-1/sqrt(in)), and the same
    // bound for b.
    void init_pytorch_default(Rng& rng) noexcept;

    // y[batch, out] = x[batch, in] W^T + b.
    void forward(const float* x, int batch, float* y) const;
    // dW += dy^T x, db += column sums of dy, and dx[batch, in] = dy W unless dx is null (first layer).
    void backward(const float* x, const float* dy, int batch, float* dx) const;

    int in() const noexcept { return in_; }
    int out() const noexcept { return out_; }
    float* weight() const noexcept { return weight_.value; }
    float* bias() const noexcept { return bias_.value; }
    float* weight_grad() const noexcept { return weight_.grad; }
    float* bias_grad() const noexcept { return bias_.grad; }

private:
    int in_, out_;
    FlatParameters::Slice weight_, bias_;
};

// The candidate activation with its per-channel betas (beta k of channel c at beta[k * channels + c],
// the layout Program expects), each initialised to its initial value (1 unless the expression says,
// `beta(0.25)`) and trained like every other parameter. The tensor is
// [outer, channels, inner]: dense layers pass (batch, units, 1), conv layers (batch, C, H*W).
class ActivationLayer {
public:
    ActivationLayer(const Program& program, int channels, FlatParameters& params);
    static std::size_t parameter_count(const Program& program, int channels) noexcept {
        return std::size_t(program.beta_count()) * channels;
    }

    void init() noexcept;   // every channel's beta k = the program's initial value of beta k
    void forward(const float* x, float* y, std::size_t outer, std::size_t inner = 1) const;
    // dx = dy * f'(x) (written); dbeta += sum over the channel of dy * df/dbeta.
    void backward(const float* x, const float* dy, float* dx, std::size_t outer, std::size_t inner = 1) const;

    int channels() const noexcept { return channels_; }
    const Program& program() const noexcept { return program_; }
    float* beta() const noexcept { return beta_.value; }
    float* beta_grad() const noexcept { return beta_.grad; }

private:
    Program program_;   // a copy per layer: no lifetime ties to the caller's Program
    int channels_;
    FlatParameters::Slice beta_;
};

// Mean softmax cross-entropy over the batch; if dlogits is not null, writes d(mean loss)/d(logits) =
// (softmax - onehot) / batch. Computed in double from max-shifted logits: finite for any finite logits;
// non-finite logits give a non-finite loss (the trainer's divergence signal).
double softmax_cross_entropy(const float* logits, const std::int32_t* labels, int batch, int classes,
                             float* dlogits);

// Validation statistics of a batch of logits: summed cross-entropy, correct top-1 count, and whether
// every logit was finite.
struct LogitStats {
    double loss_sum = 0.0;
    std::size_t correct = 0;
    bool finite = true;
};
void accumulate_logit_stats(const float* logits, const std::int32_t* labels, int batch, int classes,
                            LogitStats& stats);

}  // namespace actsearch::engine
