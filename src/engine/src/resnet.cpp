// resnet-mini / cifar10-resnet: a small ResNet in the spirit of He et al.'s CIFAR ResNet-20.
//   stem: conv3x3(C -> w) -> BN -> act
//   three stages (NetworkConfig::resnet_stages) of `depth` basic blocks, widths w, 2w, 4w; the first
//   block of every stage after the first has stride 2. Basic block: conv3x3 -> BN -> act -> conv3x3 -> BN, plus the shortcut, then act.
//   The shortcut is the identity, or, where the shape changes, a 1x1 stride-2 conv -> BN projection
//   (He et al.'s option B, as torchvision's ResNets do; option A's zero padding has no parameters but
//   is not what PyTorch users reach for first).
//   global average pool -> linear(4w -> classes).
// Every activation site has its own per-channel betas. Feature maps are NHWC (see conv.hpp).
#include <algorithm>
#include <array>
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

// Temporaries a block's backward pass may use; each holds the largest feature map of the network.
struct BackwardTemps {
    float* d_sum;     // gradient at the residual join
    float* d_hidden;  // gradient of the first unit's output; then of x through the projection
    float* unit_a;    // the units' own temporaries
    float* unit_b;
};

class BasicBlock {
public:
    BasicBlock(int in, int out, int stride, Extent input, const Program& activation, FlatParameters& params,
               bool bf16)
        : first_(Conv2d{in, out, 3, stride, 1, bf16}, input, &activation, params),
          second_(Conv2d{out, out, 3, 1, 1, bf16}, first_.output(), nullptr, params),
          output_act_(activation, out, params) {
        if (needs_projection(in, out, stride))
            projection_.emplace(Conv2d{in, out, 1, stride, 0, bf16}, input, nullptr, params);
    }

    static bool needs_projection(int in, int out, int stride) { return stride != 1 || in != out; }
    static std::size_t parameter_count(int in, int out, int stride, const Program& activation) {
        return ConvUnit::parameter_count(Conv2d{in, out, 3, stride, 1}, &activation) +
               ConvUnit::parameter_count(Conv2d{out, out, 3, 1, 1}, nullptr) +
               (needs_projection(in, out, stride) ? ConvUnit::parameter_count(Conv2d{in, out, 1, stride, 0}, nullptr)
                                                   : 0) +
               ActivationLayer::parameter_count(activation, out);
    }

    void init_pytorch_default(Rng& rng) {
        first_.init_pytorch_default(rng);
        second_.init_pytorch_default(rng);
        if (projection_) projection_->init_pytorch_default(rng);
        output_act_.init();
    }

    void reserve(int images) {
        for (ConvUnit* unit : units())
            if (unit != nullptr) unit->reserve(images);
        const std::size_t size = output_size(images);
        if (sum_.size() < size) {
            sum_.assign(size, 0.0f);
            out_.assign(size, 0.0f);
        }
    }

    // x: NHWC [images][input extent][in]; returns the NHWC output.
    const float* forward(const float* x, int images, bool training) {
        const float* hidden = first_.forward(x, Layout::nhwc, images, training);
        const float* branch = second_.forward(hidden, Layout::nhwc, images, training);
        const float* shortcut = projection_ ? projection_->forward(x, Layout::nhwc, images, training)
                                            : x;
        const std::size_t count = output_size(images);
        conv::residual_add(branch, shortcut, sum_.data(), count);
        output_act_.forward(sum_.data(), out_.data(), std::size_t(images) * output().plane(), 1);
        return out_.data();
    }

    // dx (NHWC, written) from dy, the gradient of forward's output.
    void backward(const float* x, const float* dy, float* dx, int images,
                  const BackwardTemps& t) const {
        const std::size_t count = output_size(images);
        output_act_.backward(sum_.data(), dy, t.d_sum, std::size_t(images) * output().plane(), 1);
        second_.backward_from_pre_activation(first_.output_data(), Layout::nhwc, t.d_sum, t.d_hidden,
                                             images, t.unit_a);
        first_.backward(x, Layout::nhwc, t.d_hidden, dx, images, t.unit_a, t.unit_b);
        const std::size_t input_count = std::size_t(images) * first_.in_channels() * input().plane();
        if (projection_) {
            projection_->backward_from_pre_activation(x, Layout::nhwc, t.d_sum, t.d_hidden, images,
                                                      t.unit_a);
            conv::residual_add(dx, t.d_hidden, dx, input_count);
        } else {
            conv::residual_add(dx, t.d_sum, dx, count);
        }
    }

    void set_batch_norm_momentum(float momentum) noexcept {
        for (ConvUnit* unit : units())
            if (unit != nullptr) unit->set_batch_norm_momentum(momentum);
    }

    Extent input() const noexcept { return first_.input(); }
    Extent output() const noexcept { return first_.output(); }
    int out_channels() const noexcept { return first_.out_channels(); }
    std::size_t output_size(int images) const noexcept { return first_.output_size(images); }
    std::size_t largest_map(int images) const noexcept {
        return std::max(output_size(images), std::size_t(images) * first_.in_channels() * input().plane());
    }
    const float* output_data() const noexcept { return out_.data(); }

private:
    std::array<ConvUnit*, 3> units() { return {&first_, &second_, projection_ ? &*projection_ : nullptr}; }

    ConvUnit first_, second_;
    std::optional<ConvUnit> projection_;
    ActivationLayer output_act_;
    AlignedFloats sum_, out_;  // the residual join before / after the activation
};

class ResNet final : public ConvNetwork {
public:
    ResNet(const NetworkConfig& cfg, const Program& activation)
        : ConvNetwork(cfg, parameter_count(cfg, activation)),
          stem_(Conv2d{cfg.input.channels, cfg.width, 3, 1, 1, cfg.bf16}, Extent{cfg.input.height, cfg.input.width},
                &activation, params_) {
        blocks_.reserve(std::size_t(cfg.resnet_stages * cfg.depth));
        int in = cfg.width;
        Extent extent = stem_.output();
        for (int stage = 0; stage < cfg.resnet_stages; ++stage) {
            const int out = cfg.width << stage;
            for (int b = 0; b < cfg.depth; ++b) {
                const int stride = stage > 0 && b == 0 ? 2 : 1;
                blocks_.emplace_back(in, out, stride, extent, activation, params_, cfg.bf16);
                in = out;
                extent = blocks_.back().output();
            }
        }
        head_.emplace(in, cfg.classes, params_);
        if (!params_.fully_taken()) throw std::logic_error("make_resnet: parameter count mismatch");
        Rng rng(cfg.init_seed);
        stem_.init_pytorch_default(rng);
        for (auto& block : blocks_) block.init_pytorch_default(rng);
        head_->init_pytorch_default(rng);
    }

private:
    void backward(const float* x, int n) override {
        const BasicBlock& last = blocks_.back();
        head_->backward(features_.data(), dlogits_.data(), n, d_features_.data());
        float* dy = grad_a_.data();
        float* dx = grad_b_.data();
        conv::global_avg_pool_backward(d_features_.data(), dy, last.out_channels(), n, last.output().plane());
        const BackwardTemps temps{temp(0), temp(1), temp(2), temp(3)};
        for (std::size_t b = blocks_.size(); b-- > 0;) {
            const float* block_input = b == 0 ? stem_.output_data() : blocks_[b - 1].output_data();
            blocks_[b].backward(block_input, dy, dx, n, temps);
            std::swap(dy, dx);
        }
        stem_.backward(x, Layout::nchw, dy, nullptr, n, temp(0), temp(1));
    }

    void set_batch_norm_momentum(float momentum) noexcept override {
        stem_.set_batch_norm_momentum(momentum);
        for (auto& block : blocks_) block.set_batch_norm_momentum(momentum);
    }

    static std::size_t parameter_count(const NetworkConfig& cfg, const Program& activation) {
        // Every stage after the first halves the map: the input must leave at least a 1x1 map.
        const int least = cfg.resnet_stages >= 1 && cfg.resnet_stages <= 16 ? 1 << (cfg.resnet_stages - 1) : 0;
        if (cfg.width <= 0 || cfg.depth <= 0 || cfg.classes <= 1 || cfg.input.channels <= 0 || least == 0 ||
            cfg.input.height < least || cfg.input.width < least || cfg.width > (1 << 20) ||
            (std::int64_t(cfg.width) << (cfg.resnet_stages - 1)) > (1 << 20))
            throw std::invalid_argument(
                fmt::format("make_resnet: bad shape (input {}x{}x{}, width {}, depth {}, classes {}, stages {}): needs "
                            "width >= 1, depth >= 1, classes >= 2, 1 to 16 stages and images of at least {}x{}",
                            cfg.input.channels, cfg.input.height, cfg.input.width, cfg.width, cfg.depth,
                            cfg.classes, cfg.resnet_stages, least, least));
        std::size_t total = ConvUnit::parameter_count(Conv2d{cfg.input.channels, cfg.width, 3, 1, 1}, &activation);
        int in = cfg.width;
        for (int stage = 0; stage < cfg.resnet_stages; ++stage) {
            const int out = cfg.width << stage;
            for (int b = 0; b < cfg.depth; ++b) {
                total += BasicBlock::parameter_count(in, out, stage > 0 && b == 0 ? 2 : 1, activation);
                in = out;
            }
        }
        return total + DenseLayer::parameter_count(in, cfg.classes);
    }

    void reserve(int batch) override {
        if (batch <= capacity_) return;
        stem_.reserve(batch);
        std::size_t largest_map = stem_.output_size(batch);
        for (auto& block : blocks_) {
            block.reserve(batch);
            largest_map = std::max(largest_map, block.largest_map(batch));
        }
        reserve_common(batch, blocks_.back().out_channels(), largest_map, 4);   // BackwardTemps: four maps
    }

    void forward(const float* x, int n, bool training) override {
        const float* a = stem_.forward(x, Layout::nchw, n, training);
        for (auto& block : blocks_) a = block.forward(a, n, training);
        const BasicBlock& last = blocks_.back();
        conv::global_avg_pool_forward(a, features_.data(), last.out_channels(), n, last.output().plane());
        head_->forward(features_.data(), n, logits_.data());
    }

    ConvUnit stem_;
    std::vector<BasicBlock> blocks_;
    std::optional<DenseLayer> head_;           // constructed after the blocks: parameters in network order
};

}  // namespace

std::unique_ptr<Network> make_resnet(const NetworkConfig& cfg, const Program& activation) {
    return std::make_unique<ResNet>(cfg, activation);
}

}  // namespace actsearch::engine
