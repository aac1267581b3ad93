// What the convolutional networks (cnn.cpp, resnet.cpp) share: the flat parameters, the classifier's
// buffers, and the preambles of train_batch, infer and recalibrate_statistics around each network's
// own forward and backward passes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "actsearch/engine/network.hpp"
#include "actsearch/engine/detail/conv.hpp"
#include "actsearch/engine/detail/layers.hpp"

namespace actsearch::engine {

class ConvNetwork : public Network {
public:
    std::span<float> params() final { return params_.values(); }
    std::span<float> grads() final { return params_.grads(); }
    int classes() const final { return classes_; }

    float train_batch(const float* x, const std::int32_t* labels, int batch) final {
        reserve(batch);
        params_.zero_grads();
        forward(x, batch, /*training=*/true);
        const double loss = softmax_cross_entropy(logits_.data(), labels, batch, classes_, dlogits_.data());
        backward(x, batch);
        return float(loss);
    }

    bool recalibrate_statistics(const float* x, int batch, int k) final {
        reserve(batch);
        set_batch_norm_momentum(1.0f / float(k + 1));
        forward(x, batch, /*training=*/true);
        set_batch_norm_momentum(conv::kBatchNormMomentum);
        return true;
    }

    void infer(const float* x, int batch, float* logits) final {
        if (capacity_ == 0) reserve(std::min(batch, conv::kInferChunk));
        for (int first = 0; first < batch; first += capacity_) {
            const int count = std::min(capacity_, batch - first);
            forward(x + std::size_t(first) * input_.size(), count, /*training=*/false);
            std::copy_n(logits_.data(), std::size_t(count) * classes_, logits + std::size_t(first) * classes_);
        }
    }

protected:
    ConvNetwork(const NetworkConfig& cfg, std::size_t parameter_count)
        : input_(cfg.input), classes_(cfg.classes), params_(parameter_count) {}

    // Buffers grow to the largest batch seen and are then reused: no allocation in a training step.
    // Sets capacity_ and sizes every buffer for `batch` images (reserve_common does the shared ones).
    virtual void reserve(int batch) = 0;
    // Writes logits_ for n images (n <= capacity_); `training`: batch statistics, running averages updated.
    virtual void forward(const float* x, int n, bool training) = 0;
    // Adds the gradient of the loss whose dlogits_ forward's last training call set up to grads().
    virtual void backward(const float* x, int n) = 0;
    virtual void set_batch_norm_momentum(float momentum) noexcept = 0;

    // The classifier's buffers for `features` pooled channels, and the ping-pong gradients and unit
    // temporaries (`temps` maps) of `largest_map` floats each.
    void reserve_common(int batch, int features, std::size_t largest_map, int temps) {
        capacity_ = batch;
        features_.assign(std::size_t(batch) * features, 0.0f);
        d_features_.assign(features_.size(), 0.0f);
        logits_.assign(std::size_t(batch) * classes_, 0.0f);
        dlogits_.assign(logits_.size(), 0.0f);
        largest_map = (largest_map + 15) / 16 * 16;  // every temp(i) 64-byte aligned
        grad_a_.assign(largest_map, 0.0f);
        grad_b_.assign(largest_map, 0.0f);
        temps_.assign(std::size_t(temps) * largest_map, 0.0f);
        temp_count_ = temps;
    }
    float* temp(int i) noexcept { return temps_.data() + std::size_t(i) * (temps_.size() / std::size_t(temp_count_)); }

    ImageShape input_;
    int classes_;
    FlatParameters params_;
    int capacity_ = 0;
    std::vector<float> features_, d_features_; // global average pool, [batch, channels]
    std::vector<float> logits_, dlogits_;      // [batch, classes]
    conv::AlignedFloats grad_a_, grad_b_;      // ping-pong gradients of feature maps between units / blocks
    conv::AlignedFloats temps_;                // temp(0 .. temps-1): maps of the largest size

private:
    int temp_count_ = 1;
};

}  // namespace actsearch::engine
