// fmnist-cnn / cifar10-cnn and task files' cnn networks: conv3x3 (no bias) -> BatchNorm2d -> activation
// layers with 2x2 max-pools between them (NetworkConfig::cnn_layers), global average pool,
// linear(channels -> classes). By default C->w, w->w, maxpool2, w->2w, 2w->2w, maxpool2.
// Feature maps are NHWC (see conv.hpp); only the input images are NCHW.
#include <algorithm>
#include <optional>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "actsearch/engine/network.hpp"
#include "actsearch/engine/detail/conv.hpp"
#include "actsearch/engine/detail/layers.hpp"
#include "conv_network.hpp"

namespace actsearch::engine {
namespace {

using conv::Conv2d;
using conv::ConvUnit;
using conv::Extent;
using conv::AlignedFloats;
using conv::Layout;

class Cnn final : public ConvNetwork {
public:
    Cnn(const NetworkConfig& cfg, const Program& activation)
        : ConvNetwork(cfg, parameter_count(cfg, activation)) {
        Extent extent{cfg.input.height, cfg.input.width};
        int in = cfg.input.channels;
        for (const int layer : cfg.cnn_layers)
            if (layer > 0) ++convolutions_;
        units_.reserve(std::size_t(convolutions_));
        for (const int layer : cfg.cnn_layers) {
            if (layer == 0) {   // a 2x2 max-pool after the last unit
                pool_after_.back() = true;
                extent = Extent{extent.height / 2, extent.width / 2};
                continue;
            }
            units_.emplace_back(conv3x3(in, layer * cfg.width, cfg.bf16), extent, &activation, params_);
            pool_after_.push_back(false);
            in = layer * cfg.width;
            extent = units_.back().output();
        }
        pooled_.resize(units_.size());
        final_extent_ = extent;
        head_.emplace(in, cfg.classes, params_);
        if (!params_.fully_taken()) throw std::logic_error("make_cnn: parameter count mismatch");
        Rng rng(cfg.init_seed);
        for (auto& unit : units_) unit.init_pytorch_default(rng);
        head_->init_pytorch_default(rng);
    }

private:
    static void check(const NetworkConfig& cfg) {
        int pools = 0;
        bool ordered = !cfg.cnn_layers.empty() && cfg.cnn_layers.front() > 0;
        for (std::size_t i = 0; i < cfg.cnn_layers.size(); ++i) {
            const int layer = cfg.cnn_layers[i];
            if (layer == 0) ++pools;
            ordered = ordered && layer >= 0 && layer <= 1024 && (layer > 0 || cfg.cnn_layers[i - 1] > 0);
        }
        const int least = pools < 16 ? 1 << pools : 1 << 16;
        if (!ordered || cfg.width <= 0 || cfg.width > (1 << 20) || cfg.classes <= 1 || cfg.input.channels <= 0 ||
            cfg.input.height < least || cfg.input.width < least)
            throw std::invalid_argument(
                fmt::format("make_cnn: bad shape (input {}x{}x{}, width {}, classes {}, layers {}): needs width >= 1, "
                            "classes >= 2, layers starting with a convolution and no two pools in a row, and "
                            "images of at least {}x{}",
                            cfg.input.channels, cfg.input.height, cfg.input.width, cfg.width, cfg.classes,
                            fmt::join(cfg.cnn_layers, ","), least, least));
    }

    static Conv2d conv3x3(int in, int out, bool bf16 = false) { return Conv2d{in, out, 3, 1, 1, bf16}; }

    static std::size_t parameter_count(const NetworkConfig& cfg, const Program& activation) {
        check(cfg);
        std::size_t total = 0;
        int in = cfg.input.channels;
        for (const int layer : cfg.cnn_layers) {
            if (layer == 0) continue;
            total += ConvUnit::parameter_count(conv3x3(in, layer * cfg.width), &activation);
            in = layer * cfg.width;
        }
        return total + DenseLayer::parameter_count(in, cfg.classes);
    }

    void reserve(int batch) override {
        if (batch <= capacity_) return;
        std::size_t largest_output = 0;
        for (std::size_t i = 0; i < units_.size(); ++i) {
            units_[i].reserve(batch);
            largest_output = std::max(largest_output, units_[i].output_size(batch));
            if (pool_after_[i]) {
                const Extent out = units_[i].output();
                pooled_[i].assign(std::size_t(batch) * units_[i].out_channels() * (out.height / 2) * (out.width / 2),
                                  0.0f);
            }
        }
        reserve_common(batch, units_.back().out_channels(), largest_output, 2);
    }

    void set_batch_norm_momentum(float momentum) noexcept override {
        for (auto& unit : units_) unit.set_batch_norm_momentum(momentum);
    }

    // The input of unit i: the images, the previous unit's output, or its max-pooled output.
    const float* unit_input(std::size_t i, const float* x) const {
        if (i == 0) return x;
        return pool_after_[i - 1] ? pooled_[i - 1].data() : units_[i - 1].output_data();
    }

    void forward(const float* x, int n, bool training) override {
        const float* a = x;
        for (std::size_t i = 0; i < units_.size(); ++i) {
            a = units_[i].forward(a, i == 0 ? Layout::nchw : Layout::nhwc, n, training);
            if (pool_after_[i]) {
                const Extent out = units_[i].output();
                conv::maxpool2x2_forward(a, pooled_[i].data(), n, out.height, out.width, units_[i].out_channels());
                a = pooled_[i].data();
            }
        }
        conv::global_avg_pool_forward(a, features_.data(), units_.back().out_channels(), n, final_extent_.plane());
        head_->forward(features_.data(), n, logits_.data());
    }

    void backward(const float* x, int n) override {
        float* dy = grad_a_.data();
        float* dx = grad_b_.data();
        head_->backward(features_.data(), dlogits_.data(), n, d_features_.data());
        conv::global_avg_pool_backward(d_features_.data(), dy, units_.back().out_channels(), n, final_extent_.plane());
        for (std::size_t i = units_.size(); i-- > 0;) {
            if (pool_after_[i]) {
                const Extent out = units_[i].output();
                conv::maxpool2x2_backward(units_[i].output_data(), dy, dx, n, out.height, out.width,
                                          units_[i].out_channels());
                std::swap(dy, dx);
            }
            units_[i].backward(unit_input(i, x), i == 0 ? Layout::nchw : Layout::nhwc, dy, i == 0 ? nullptr : dx, n,
                               temp(0), temp(1));
            std::swap(dy, dx);
        }
    }

    int convolutions_ = 0;
    std::vector<ConvUnit> units_;
    std::vector<bool> pool_after_;            // a 2x2 max-pool follows unit i
    std::vector<AlignedFloats> pooled_;       // unit i's max-pooled output, NHWC (where pool_after_[i])
    Extent final_extent_;                     // of the map the global average pool reads
    std::optional<DenseLayer> head_;          // constructed after the units: parameters in network order
};

}  // namespace

std::unique_ptr<Network> make_cnn(const NetworkConfig& cfg, const Program& activation) {
    return std::make_unique<Cnn>(cfg, activation);
}

}  // namespace actsearch::engine
