// The fmnist-mlp / synthetic proxy: input -> [dense -> activation] x depth -> dense -> softmax CE.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "actsearch/engine/network.hpp"
#include "actsearch/engine/detail/layers.hpp"

namespace actsearch::engine {
namespace {

class Mlp final : public Network {
public:
    Mlp(const NetworkConfig& cfg, const Program& activation)
        : input_(int(cfg.input.size())), width_(cfg.width), classes_(cfg.classes),
          params_(parameter_count(cfg, activation)) {
        dense_.reserve(std::size_t(cfg.depth) + 1);
        act_.reserve(std::size_t(cfg.depth));
        for (int l = 0; l < cfg.depth; ++l) {
            dense_.emplace_back(l == 0 ? input_ : width_, width_, params_);
            act_.emplace_back(activation, width_, params_);
        }
        dense_.emplace_back(width_, classes_, params_);
        if (!params_.fully_taken()) throw std::logic_error("make_mlp: parameter count mismatch");
        Rng rng(cfg.init_seed);
        for (auto& layer : dense_) layer.init_pytorch_default(rng);
    }

    std::span<float> params() override { return params_.values(); }
    std::span<float> grads() override { return params_.grads(); }
    int classes() const override { return classes_; }

    float train_batch(const float* x, const std::int32_t* labels, int batch) override {
        reserve(batch);
        params_.zero_grads();
        forward(x, batch);
        const double loss = softmax_cross_entropy(logits_.data(), labels, batch, classes_, dlogits_.data());
        // d_post_ holds dL/d(output of activation l), d_pre_ dL/d(input of activation l).
        const std::size_t depth = act_.size();
        dense_[depth].backward(post(depth - 1), dlogits_.data(), batch, d_post_.data());
        for (std::size_t l = depth; l-- > 0;) {
            act_[l].backward(pre(l), d_post_.data(), d_pre_.data(), std::size_t(batch));
            dense_[l].backward(l == 0 ? x : post(l - 1), d_pre_.data(), batch, l == 0 ? nullptr : d_post_.data());
        }
        return float(loss);
    }

    void infer(const float* x, int batch, float* logits) override {
        reserve(batch);
        forward(x, batch);
        std::copy_n(logits_.data(), std::size_t(batch) * classes_, logits);
    }

private:
    static std::size_t parameter_count(const NetworkConfig& cfg, const Program& activation) {
        const int input = int(cfg.input.size());
        if (cfg.width <= 0 || cfg.depth <= 0 || cfg.classes <= 1 || input <= 0)
            throw std::invalid_argument(fmt::format("make_mlp: bad shape (input {}, width {}, depth {}, classes {})",
                                                    input, cfg.width, cfg.depth, cfg.classes));
        std::size_t total = DenseLayer::parameter_count(cfg.width, cfg.classes);
        for (int l = 0; l < cfg.depth; ++l)
            total += DenseLayer::parameter_count(l == 0 ? input : cfg.width, cfg.width) +
                     ActivationLayer::parameter_count(activation, cfg.width);
        return total;
    }

    // Buffers grow to the largest batch seen and are then reused: no allocation in the training step.
    void reserve(int batch) {
        if (batch <= capacity_) return;
        capacity_ = batch;
        const std::size_t hidden = std::size_t(batch) * width_;
        pre_.assign(hidden * act_.size(), 0.0f);
        post_.assign(hidden * act_.size(), 0.0f);
        d_pre_.assign(hidden, 0.0f);
        d_post_.assign(hidden, 0.0f);
        logits_.assign(std::size_t(batch) * classes_, 0.0f);
        dlogits_.assign(std::size_t(batch) * classes_, 0.0f);
    }

    float* pre(std::size_t l) { return pre_.data() + l * std::size_t(capacity_) * width_; }
    float* post(std::size_t l) { return post_.data() + l * std::size_t(capacity_) * width_; }

    void forward(const float* x, int batch) {
        const float* in = x;
        for (std::size_t l = 0; l < act_.size(); ++l) {
            dense_[l].forward(in, batch, pre(l));
            act_[l].forward(pre(l), post(l), std::size_t(batch));
            in = post(l);
        }
        dense_.back().forward(in, batch, logits_.data());
    }

    int input_, width_, classes_;
    FlatParameters params_;
    std::vector<DenseLayer> dense_;        // depth hidden layers, then the classifier
    std::vector<ActivationLayer> act_;     // one per hidden layer, each with its own betas
    int capacity_ = 0;
    std::vector<float> pre_, post_;        // per hidden layer: [capacity, width] before / after activation
    std::vector<float> d_pre_, d_post_;    // backward scratch, [capacity, width]
    std::vector<float> logits_, dlogits_;  // [capacity, classes]
};

}  // namespace

std::unique_ptr<Network> make_mlp(const NetworkConfig& cfg, const Program& activation) {
    return std::make_unique<Mlp>(cfg, activation);
}

}  // namespace actsearch::engine
