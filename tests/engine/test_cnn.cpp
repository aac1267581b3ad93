// The convolutional proxy networks (fmnist-cnn / resnet-mini and their CIFAR shapes) on tiny shapes:
// whole-network gradients against finite differences for every parameter, activation betas included;
// a tiny batch is overfitted; inference is chunk-independent and uses running statistics.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "actsearch/engine/detail/rng.hpp"
#include "actsearch/engine/network.hpp"
#include "parsed.hpp"

namespace actsearch::engine {
namespace {

using test::compiled;

using Factory = std::function<std::unique_ptr<Network>(const NetworkConfig&, const Program&)>;

struct NetCase {
    const char* name;
    Factory make;
    NetworkConfig cfg;
    // For the gradient check: smooth, with one per-channel beta. The CNN's gets a monotone one with
    // slope >= 1: swish is flat around its minimum, which packs max-pool windows with near-ties whose
    // kinks a finite-difference step would cross.
    const char* smooth_activation;
};

// Width 2-4 on 8x8 images: every code path of the full-size networks (stride-2 convs, projection and
// identity shortcuts, both max-pools, odd 2x2 -> 1x1 pooling) at a few thousand parameters.
std::vector<NetCase> tiny_networks() {
    return {
        {"cnn_gray", make_cnn, NetworkConfig{{1, 8, 8}, 3, 2, 1, 42}, "x + beta * tanh(x)"},
        {"cnn_rgb", make_cnn, NetworkConfig{{3, 8, 6}, 4, 3, 1, 43}, "x + beta * tanh(x)"},
        {"resnet_depth1", make_resnet, NetworkConfig{{3, 8, 8}, 3, 2, 1, 44}, "x * sigmoid(beta * x)"},
        {"resnet_depth2", make_resnet, NetworkConfig{{1, 8, 8}, 3, 2, 2, 45}, "x * sigmoid(beta * x)"},
    };
}

struct Batch {
    std::vector<float> x;
    std::vector<std::int32_t> labels;
};

Batch random_batch(const NetworkConfig& cfg, int images, std::uint64_t seed) {
    Rng rng(seed);
    Batch b;
    b.x.resize(std::size_t(images) * cfg.input.size());
    for (float& v : b.x) v = rng.uniform(-2.0f, 2.0f);
    for (int i = 0; i < images; ++i) b.labels.push_back(std::int32_t(rng.below(std::size_t(cfg.classes))));
    return b;
}

class ConvNetTest : public ::testing::TestWithParam<NetCase> {};

TEST_P(ConvNetTest, ParameterGradientsMatchFiniteDifferences) {
    const NetCase& net_case = GetParam();
    // dbeta goes through Program::backward's per-channel reduction over the CNHW rows.
    const Program activation = compiled(net_case.smooth_activation);
    ASSERT_EQ(activation.beta_count(), 1);
    auto net = net_case.make(net_case.cfg, activation);
    const int images = 4;
    const Batch batch = random_batch(net_case.cfg, images, 7);
    auto params = net->params();
    // Betas start at 1; move everything off its initial value so that a beta that is silently unused
    // or a gamma/beta mix-up shows.
    Rng rng(99);
    for (float& p : params) p += rng.uniform(-0.2f, 0.2f);

    net->train_batch(batch.x.data(), batch.labels.data(), images);
    const std::vector<float> analytic(net->grads().begin(), net->grads().end());
    ASSERT_EQ(analytic.size(), params.size());
    ASSERT_GT(std::count_if(analytic.begin(), analytic.end(), [](float g) { return g != 0.0f; }),
              std::ptrdiff_t(analytic.size() * 9 / 10))
        << "most parameters should receive a gradient";

    // Max-pool is not differentiable where two values of a window tie; a finite-difference step that
    // crosses such a kink measures a jump, not a slope. Those parameters are recognised by the difference
    // quotients at two step sizes disagreeing (a smooth loss gives the same slope up to O(step^2)), and
    // skipped; a wrong gradient still shows, as two agreeing quotients that differ from the analytic one.
    const auto difference_quotient = [&](std::size_t i, float step) {
        const float saved = params[i];
        params[i] = saved + step;
        const double up = net->train_batch(batch.x.data(), batch.labels.data(), images);
        params[i] = saved - step;
        const double down = net->train_batch(batch.x.data(), batch.labels.data(), images);
        params[i] = saved;
        return (up - down) / (2.0 * double(step));
    };
    // The loss is a float: exact to ~1e-7, i.e. ~1e-4 in a quotient with step 1e-3.
    const auto tolerance = [](double a, double b) { return 3e-4 + 2e-2 * std::max(std::abs(a), std::abs(b)); };
    // Every parameter of the small networks; an evenly spaced sample of ~500 (all layers) of larger ones.
    const std::size_t stride = (params.size() + 499) / 500;
    std::size_t kinks = 0, checked = 0;
    for (std::size_t i = 0; i < params.size(); i += stride, ++checked) {
        const double coarse = difference_quotient(i, 2e-3f);
        const double fine = difference_quotient(i, 1e-3f);
        if (std::abs(coarse - fine) > tolerance(coarse, fine)) {
            ++kinks;
            continue;
        }
        EXPECT_NEAR(fine, analytic[i], tolerance(fine, analytic[i]))
            << net_case.name << " parameter " << i << " of " << params.size();
    }
    RecordProperty("kinks_skipped", int(kinks));
    EXPECT_LE(kinks, checked / 10) << "too many parameters near a max-pool kink to check the rest";
}

TEST_P(ConvNetTest, OverfitsATinyBatch) {
    const NetCase& net_case = GetParam();
    auto net = net_case.make(net_case.cfg, compiled("max(x, 0)"));
    const int images = 8;
    const Batch batch = random_batch(net_case.cfg, images, 11);
    auto params = net->params();
    auto grads = net->grads();
    std::vector<float> velocity(params.size(), 0.0f);
    const float first = net->train_batch(batch.x.data(), batch.labels.data(), images);
    float last = first;
    for (int step = 0; step < 50; ++step) {
        for (std::size_t i = 0; i < params.size(); ++i) {
            velocity[i] = 0.9f * velocity[i] + grads[i];
            params[i] -= 0.05f * velocity[i];
        }
        last = net->train_batch(batch.x.data(), batch.labels.data(), images);
        ASSERT_TRUE(std::isfinite(last)) << "step " << step;
    }
    EXPECT_LT(last, 0.3f * first) << net_case.name << ": loss " << first << " -> " << last;
}

TEST_P(ConvNetTest, InferenceIsPerImageAndUsesRunningStatistics) {
    const NetCase& net_case = GetParam();
    auto net = net_case.make(net_case.cfg, compiled("tanh(x)"));
    const int classes = net->classes();
    ASSERT_EQ(classes, net_case.cfg.classes);
    const Batch batch = random_batch(net_case.cfg, 5, 3);
    // Training on a 5-image batch sets the buffers' capacity: 13 images are inferred in chunks of 5.
    for (int step = 0; step < 3; ++step) net->train_batch(batch.x.data(), batch.labels.data(), 5);
    const Batch eval = random_batch(net_case.cfg, 13, 5);
    std::vector<float> all(13 * std::size_t(classes)), one(classes);
    net->infer(eval.x.data(), 13, all.data());
    for (int i = 0; i < 13; ++i) {
        net->infer(eval.x.data() + std::size_t(i) * net_case.cfg.input.size(), 1, one.data());
        for (int k = 0; k < classes; ++k) {
            ASSERT_TRUE(std::isfinite(one[k]));
            // Batch statistics would make an image's logits depend on its batch-mates.
            EXPECT_NEAR(all[std::size_t(i) * classes + k], one[k], 1e-5f * (1.0f + std::abs(one[k])))
                << "image " << i << " class " << k;
        }
    }
    // Inference leaves the running statistics alone: the same call gives the same logits.
    std::vector<float> again(all.size());
    net->infer(eval.x.data(), 13, again.data());
    EXPECT_EQ(all, again);
}

TEST_P(ConvNetTest, InitialisationIsDeterministicPerSeedAndWithinPyTorchBounds) {
    const NetCase& net_case = GetParam();
    const Program relu = compiled("max(x, 0)");
    auto a = net_case.make(net_case.cfg, relu);
    auto b = net_case.make(net_case.cfg, relu);
    NetworkConfig other = net_case.cfg;
    other.init_seed += 1;
    auto c = net_case.make(other, relu);
    const std::vector<float> pa(a->params().begin(), a->params().end());
    EXPECT_EQ(pa, std::vector<float>(b->params().begin(), b->params().end()));
    EXPECT_NE(pa, std::vector<float>(c->params().begin(), c->params().end()));
    // The first parameters are the first conv's weights, U(+-1/sqrt(C_in * 9)).
    const int fan_in = net_case.cfg.input.channels * 9;
    const float bound = 1.0f / std::sqrt(float(fan_in));
    const std::size_t first_conv = std::size_t(fan_in) * net_case.cfg.width;
    float largest = 0.0f;
    for (std::size_t i = 0; i < first_conv; ++i) largest = std::max(largest, std::abs(pa[i]));
    EXPECT_LE(largest, bound);
    EXPECT_GT(largest, 0.5f * bound);
    // Followed by batch norm's gamma = 1 and beta = 0.
    for (int ch = 0; ch < net_case.cfg.width; ++ch) {
        EXPECT_EQ(pa[first_conv + ch], 1.0f);
        EXPECT_EQ(pa[first_conv + net_case.cfg.width + ch], 0.0f);
    }
}

INSTANTIATE_TEST_SUITE_P(Tiny, ConvNetTest, ::testing::ValuesIn(tiny_networks()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ConvNets, ParameterCountsMatchThePyTorchModules) {
    // Counted by hand from the PyTorch definitions (conv weights, BN gamma+beta, linear W+b, and one
    // beta per channel per activation site for a one-beta activation).
    const Program swish_beta = compiled("x * sigmoid(beta * x)");
    const NetworkConfig fmnist{{1, 28, 28}, 10, 16, 1, 0};
    const std::size_t cnn_convs = 1 * 16 * 9 + 16 * 16 * 9 + 16 * 32 * 9 + 32 * 32 * 9;
    const std::size_t cnn_channels = 16 + 16 + 32 + 32;  // BN gamma and beta, and one activation beta, each
    EXPECT_EQ(make_cnn(fmnist, swish_beta)->params().size(), cnn_convs + 3 * cnn_channels + 32 * 10 + 10);

    const NetworkConfig cifar{{3, 32, 32}, 10, 16, 1, 0};
    const std::size_t stem = 3 * 16 * 9 + 2 * 16 + 16;
    const std::size_t stage1 = 2 * (16 * 16 * 9 + 2 * 16) + 2 * 16;
    const std::size_t stage2 = 16 * 32 * 9 + 32 * 32 * 9 + 16 * 32 + 3 * 2 * 32 + 2 * 32;
    const std::size_t stage3 = 32 * 64 * 9 + 64 * 64 * 9 + 32 * 64 + 3 * 2 * 64 + 2 * 64;
    EXPECT_EQ(make_resnet(cifar, swish_beta)->params().size(), stem + stage1 + stage2 + stage3 + 64 * 10 + 10);
}

TEST(ConvNets, BadShapesAreRejectedWithAMessage) {
    const Program relu = compiled("max(x, 0)");
    EXPECT_THROW(make_cnn(NetworkConfig{{1, 2, 2}, 10, 16, 1, 0}, relu), std::invalid_argument);
    EXPECT_THROW(make_cnn(NetworkConfig{{1, 28, 28}, 10, 0, 1, 0}, relu), std::invalid_argument);
    EXPECT_THROW(make_resnet(NetworkConfig{{3, 32, 32}, 10, 16, 0, 0}, relu), std::invalid_argument);
    EXPECT_THROW(make_resnet(NetworkConfig{{3, 32, 32}, 1, 16, 1, 0}, relu), std::invalid_argument);
}

}  // namespace
}  // namespace actsearch::engine
