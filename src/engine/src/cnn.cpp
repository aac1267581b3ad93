// fmnist-cnn / cifar10-cnn: four conv3x3 (no bias) -> BatchNorm2d -> activation blocks,
// C->w, w->w, maxpool2, w->2w, 2w->2w, maxpool2, global average pool, linear(2w -> classes).
// Feature maps are NHWC (see conv.hpp); only the input images are NCHW.
#include <algorithm>
#include <array>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "actsearch/engine/network.hpp"
#include "actsearch/engine/detail/conv.hpp"
#include "actsearch/engine/detail/layers.hpp"

namespace actsearch::engine {
namespace {

using conv::Conv2d;
using conv::ConvUnit;
using conv::Extent;
using conv::AlignedFloats;
using conv::Layout;

class Cnn final : public Network {
public:
    Cnn(const NetworkConfig& cfg, const Program& activation)
        : input_(cfg.input), classes_(cfg.classes), params_(parameter_count(cfg, activation)),
          units_{make_unit(cfg.input.channels, cfg.width, full(), activation),
                 make_unit(cfg.width, cfg.width, full(), activation),
                 make_unit(cfg.width, 2 * cfg.width, half(), activation),
                 make_unit(2 * cfg.width, 2 * cfg.width, half(), activation)},
          head_(2 * cfg.width, cfg.classes, params_) {
        if (!params_.fully_taken()) throw std::logic_error("make_cnn: parameter count mismatch");
        Rng rng(cfg.init_seed);
        for (auto& unit : units_) unit.init_pytorch_default(rng);
        head_.init_pytorch_default(rng);
    }

    std::span<float> params() override { return params_.values(); }
    std::span<float> grads() override { return params_.grads(); }
    int classes() const override { return classes_; }

    float train_batch(const float* x, const std::int32_t* labels, int batch) override {
        reserve(batch);
        params_.zero_grads();
        forward(x, batch, /*training=*/true);
        const double loss = softmax_cross_entropy(logits_.data(), labels, batch, classes_, dlogits_.data());

        const int n = batch;
        float* grad_a = grad_a_.data();
        float* grad_b = grad_b_.data();
        head_.backward(features_.data(), dlogits_.data(), n, d_features_.data());
        conv::global_avg_pool_backward(d_features_.data(), grad_a, units_[3].out_channels(), n, quarter().plane());
        conv::maxpool2x2_backward(units_[3].output_data(), grad_a, grad_b, n, half().height, half().width,
                                  units_[3].out_channels());
        units_[3].backward(units_[2].output_data(), Layout::nhwc, grad_b, grad_a, n, temp_a(), temp_b());
        units_[2].backward(pooled_.data(), Layout::nhwc, grad_a, grad_b, n, temp_a(), temp_b());
        conv::maxpool2x2_backward(units_[1].output_data(), grad_b, grad_a, n, full().height, full().width,
                                  units_[1].out_channels());
        units_[1].backward(units_[0].output_data(), Layout::nhwc, grad_a, grad_b, n, temp_a(), temp_b());
        units_[0].backward(x, Layout::nchw, grad_b, nullptr, n, temp_a(), temp_b());
        return float(loss);
    }

    bool recalibrate_statistics(const float* x, int batch, int k) override {
        reserve(batch);
        for (auto& unit : units_) unit.set_batch_norm_momentum(1.0f / float(k + 1));
        forward(x, batch, /*training=*/true);
        for (auto& unit : units_) unit.set_batch_norm_momentum(conv::kBatchNormMomentum);
        return true;
    }

    void infer(const float* x, int batch, float* logits) override {
        if (capacity_ == 0) reserve(std::min(batch, conv::kInferChunk));
        for (int first = 0; first < batch; first += capacity_) {
            const int count = std::min(capacity_, batch - first);
            forward(x + std::size_t(first) * input_.size(), count, /*training=*/false);
            std::copy_n(logits_.data(), std::size_t(count) * classes_, logits + std::size_t(first) * classes_);
        }
    }

private:
    Extent full() const noexcept { return {input_.height, input_.width}; }
    Extent half() const noexcept { return {input_.height / 2, input_.width / 2}; }
    Extent quarter() const noexcept { return {input_.height / 4, input_.width / 4}; }

    static void check(const NetworkConfig& cfg) {
        if (cfg.width <= 0 || cfg.classes <= 1 || cfg.input.channels <= 0 || cfg.input.height < 4 ||
            cfg.input.width < 4)
            throw std::invalid_argument(
                fmt::format("make_cnn: bad shape (input {}x{}x{}, width {}, classes {}): needs width >= 1, "
                            "classes >= 2 and images of at least 4x4",
                            cfg.input.channels, cfg.input.height, cfg.input.width, cfg.width, cfg.classes));
    }

    static Conv2d conv3x3(int in, int out) { return Conv2d{in, out, 3, 1, 1}; }

    static std::size_t parameter_count(const NetworkConfig& cfg, const Program& activation) {
        check(cfg);
        const int w = cfg.width;
        return ConvUnit::parameter_count(conv3x3(cfg.input.channels, w), &activation) +
               ConvUnit::parameter_count(conv3x3(w, w), &activation) +
               ConvUnit::parameter_count(conv3x3(w, 2 * w), &activation) +
               ConvUnit::parameter_count(conv3x3(2 * w, 2 * w), &activation) +
               DenseLayer::parameter_count(2 * w, cfg.classes);
    }

    ConvUnit make_unit(int in, int out, Extent extent, const Program& activation) {
        return ConvUnit(conv3x3(in, out), extent, &activation, params_);
    }

    // Buffers grow to the largest batch seen and are then reused: no allocation in a training step.
    void reserve(int batch) {
        if (batch <= capacity_) return;
        capacity_ = batch;
        std::size_t largest_output = 0;
        for (auto& unit : units_) {
            unit.reserve(batch);
            largest_output = std::max(largest_output, unit.output_size(batch));
        largest_output = (largest_output + 15) / 16 * 16;  // temp_b() 64-byte aligned too
        }
        pooled_.assign(std::size_t(batch) * units_[1].out_channels() * half().plane(), 0.0f);
        pooled2_.assign(std::size_t(batch) * units_[3].out_channels() * quarter().plane(), 0.0f);
        features_.assign(std::size_t(batch) * units_[3].out_channels(), 0.0f);
        d_features_.assign(features_.size(), 0.0f);
        logits_.assign(std::size_t(batch) * classes_, 0.0f);
        dlogits_.assign(logits_.size(), 0.0f);
        grad_a_.assign(largest_output, 0.0f);
        grad_b_.assign(largest_output, 0.0f);
        temps_.assign(2 * largest_output, 0.0f);
    }
    float* temp_a() noexcept { return temps_.data(); }
    float* temp_b() noexcept { return temps_.data() + temps_.size() / 2; }

    void forward(const float* x, int n, bool training) {
        const float* a = units_[0].forward(x, Layout::nchw, n,
                                           training);
        a = units_[1].forward(a, Layout::nhwc, n, training);
        conv::maxpool2x2_forward(a, pooled_.data(), n, full().height, full().width, units_[1].out_channels());
        a = units_[2].forward(pooled_.data(), Layout::nhwc, n, training);
        a = units_[3].forward(a, Layout::nhwc, n, training);
        conv::maxpool2x2_forward(a, pooled2_.data(), n, half().height, half().width, units_[3].out_channels());
        conv::global_avg_pool_forward(pooled2_.data(), features_.data(), units_[3].out_channels(), n,
                                      quarter().plane());
        head_.forward(features_.data(), n, logits_.data());
    }

    ImageShape input_;
    int classes_;
    FlatParameters params_;
    std::array<ConvUnit, 4> units_;
    DenseLayer head_;
    int capacity_ = 0;
    AlignedFloats pooled_, pooled2_;           // after the first / second max-pool, NHWC
    std::vector<float> features_, d_features_; // global average pool, [batch, 2w]
    std::vector<float> logits_, dlogits_;      // [batch, classes]
    AlignedFloats grad_a_, grad_b_;            // ping-pong gradients of feature maps between units
    AlignedFloats temps_;                      // two temporaries inside a unit's backward pass
};

}  // namespace

std::unique_ptr<Network> make_cnn(const NetworkConfig& cfg, const Program& activation) {
    return std::make_unique<Cnn>(cfg, activation);
}

}  // namespace actsearch::engine
