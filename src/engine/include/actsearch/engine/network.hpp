// A proxy network: parameters and gradients live in flat buffers allocated once; forward and backward
// are explicit. The trainer (trainer.cpp) owns the optimiser and the loop; networks own the maths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "actsearch/grammar/program.hpp"

namespace actsearch::engine {

struct ImageShape {
    int channels = 1, height = 28, width = 28;
    std::size_t size() const noexcept { return std::size_t(channels) * height * width; }
};

class Network {
public:
    virtual ~Network() = default;

    // All trainable parameters, activation betas included, in one flat buffer; grads() matches it.
    virtual std::span<float> params() = 0;
    virtual std::span<float> grads() = 0;

    // One training batch: x is [batch, C, H, W] normalised floats, labels in [0, classes).
    // Zeroes grads(), runs forward (batch statistics for batch norm, updating running averages) and
    // backward, and returns the mean softmax cross-entropy over the batch.
    virtual float train_batch(const float* x, const std::int32_t* labels, int batch) = 0;

    // Inference (running statistics for batch norm): logits [batch, classes].
    virtual void infer(const float* x, int batch, float* logits) = 0;

    // Batch-norm recalibration. After a short schedule the running averages lag the final weights
    // (they average statistics of weights from many steps ago), which punishes activations whose
    // output statistics drift. Call k = 0, 1, ..., K-1 with K training batches: each runs a
    // training-mode forward pass (no backward, parameters unchanged) and folds that batch's
    // statistics into a cumulative average that replaces the running statistics (call 0 discards the
    // old ones). Returns false, doing nothing, for a network without batch norm.
    virtual bool recalibrate_statistics(const float* x, int batch, int k) {
        (void)x, (void)batch, (void)k;
        return false;
    }

    virtual int classes() const = 0;
};

struct NetworkConfig {
    ImageShape input;
    int classes = 10;
    int width = 128;   // MLP hidden units; CNN base channels (16 for fmnist-cnn)
    int depth = 3;     // MLP hidden layers; ResNet blocks per stage
    std::uint64_t init_seed = 0;
    // CNN layers in order: n > 0 is a conv3x3-BN-act layer of n * width channels, 0 a 2x2 max-pool
    // (after a convolution). The default is fmnist-cnn's network.
    std::vector<int> cnn_layers{1, 1, 0, 2, 2, 0};
    int resnet_stages = 3;   // ResNet stages, widths width * 2^stage
    bool bf16 = false;       // convolutions on bf16 operands (Precision::Bf16); the MLP ignores it
};

// Layers initialised as PyTorch's defaults (kaiming-uniform(a=sqrt(5)) weights, uniform biases),
// activation betas at 1.
std::unique_ptr<Network> make_mlp(const NetworkConfig& cfg, const Program& activation);
// conv3x3 (no bias) -> BN -> act layers and 2x2 max-pools as cfg.cnn_layers says, GAP, linear. By
// default four layers: C->w, w->w, maxpool2, w->2w, 2w->2w, maxpool2, GAP, linear.
std::unique_ptr<Network> make_cnn(const NetworkConfig& cfg, const Program& activation);
// A small ResNet: conv-BN-act stem, cfg.resnet_stages (default three) stages of `depth` basic blocks
// (widths w, 2w, 4w, ..., stride 2 between stages), GAP, linear.
std::unique_ptr<Network> make_resnet(const NetworkConfig& cfg, const Program& activation);

}  // namespace actsearch::engine
