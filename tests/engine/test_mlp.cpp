// Gradient checks of the layer kernels and the whole MLP against central finite differences, and the
// bit-identity of the threaded GEMM blocks.
#include <cmath>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "actsearch/engine/detail/layers.hpp"
#include "actsearch/engine/detail/rng.hpp"
#include "actsearch/engine/network.hpp"
#include "helpers.hpp"
#include "parsed.hpp"

using namespace actsearch;
using namespace actsearch::engine;

namespace {

using test::compiled;
using test::random_vector;

double dot(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
    return s;
}

// Central difference of loss() with respect to *p, with the step actually representable in float.
double central_difference(float* p, float eps, const std::function<double()>& loss) {
    const float saved = *p;
    *p = saved + eps;
    const float up = *p;
    const double l_up = loss();
    *p = saved - eps;
    const float down = *p;
    const double l_down = loss();
    *p = saved;
    return (l_up - l_down) / (double(up) - double(down));
}

// Compares analytic gradients with finite differences, tolerance scaled by the gradient's size.
void expect_gradients(const char* what, float* params, const float* grads, std::size_t n, float eps, double tolerance,
                      const std::function<double()>& loss) {
    for (std::size_t i = 0; i < n; ++i) {
        const double numeric = central_difference(params + i, eps, loss);
        EXPECT_NEAR(grads[i], numeric, tolerance * (1.0 + std::abs(numeric))) << what << " [" << i << "]";
    }
}

}  // namespace

TEST(Layers, FlatParametersHandOutConsecutiveSlices) {
    FlatParameters params(10);
    const auto a = params.take(4), b = params.take(6);
    EXPECT_EQ(b.value, a.value + 4);
    EXPECT_EQ(b.grad, a.grad + 4);
    EXPECT_TRUE(params.fully_taken());
    EXPECT_THROW(params.take(1), std::logic_error);
}

TEST(Layers, DenseGradientsMatchFiniteDifferences) {
    constexpr int kBatch = 3, kIn = 5, kOut = 4;
    FlatParameters params(DenseLayer::parameter_count(kIn, kOut));
    DenseLayer dense(kIn, kOut, params);
    Rng rng(1);
    dense.init_pytorch_default(rng);
    std::vector<float> x = random_vector(kBatch * kIn, rng), weighting = random_vector(kBatch * kOut, rng);
    std::vector<float> y(kBatch * kOut), dx(kBatch * kIn);
    // L = sum(weighting .* y), so dL/dy = weighting.
    const auto loss = [&] {
        dense.forward(x.data(), kBatch, y.data());
        return dot(y, weighting);
    };
    dense.backward(x.data(), weighting.data(), kBatch, dx.data());
    expect_gradients("dW", dense.weight(), dense.weight_grad(), kIn * kOut, 1e-2f, 1e-3, loss);
    expect_gradients("db", dense.bias(), dense.bias_grad(), kOut, 1e-2f, 1e-3, loss);
    expect_gradients("dx", x.data(), dx.data(), x.size(), 1e-2f, 1e-3, loss);

    // Backward adds into the parameter gradients: a second call doubles them.
    const std::vector<float> once(dense.weight_grad(), dense.weight_grad() + kIn * kOut);
    dense.backward(x.data(), weighting.data(), kBatch, nullptr);
    for (int i = 0; i < kIn * kOut; ++i) EXPECT_FLOAT_EQ(dense.weight_grad()[i], 2 * once[std::size_t(i)]);
}

TEST(Layers, PytorchDefaultInitBounds) {
    constexpr int kIn = 784, kOut = 128;
    FlatParameters params(DenseLayer::parameter_count(kIn, kOut));
    DenseLayer dense(kIn, kOut, params);
    Rng rng(7);
    dense.init_pytorch_default(rng);
    const float bound = 1.0f / std::sqrt(float(kIn));
    double sum = 0.0, max_abs = 0.0, sum_sq = 0.0;
    for (float w : params.values()) {
        sum += w;
        sum_sq += double(w) * w;
        max_abs = std::max(max_abs, double(std::abs(w)));
    }
    const double n = double(params.values().size());
    EXPECT_LE(max_abs, bound);
    EXPECT_GT(max_abs, 0.99 * bound);
    EXPECT_NEAR(sum / n, 0.0, 0.01 * bound);
    EXPECT_NEAR(sum_sq / n, bound * bound / 3.0, 0.02 * bound * bound);   // variance of U(-b, b)
}

TEST(Layers, SoftmaxCrossEntropyGradientMatchesFiniteDifferences) {
    constexpr int kBatch = 4, kClasses = 5;
    Rng rng(2);
    std::vector<float> logits = random_vector(kBatch * kClasses, rng, -3.0f, 3.0f), dlogits(logits.size());
    const std::vector<std::int32_t> labels{0, 3, 4, 1};
    softmax_cross_entropy(logits.data(), labels.data(), kBatch, kClasses, dlogits.data());
    const auto loss = [&] { return softmax_cross_entropy(logits.data(), labels.data(), kBatch, kClasses, nullptr); };
    expect_gradients("dlogits", logits.data(), dlogits.data(), logits.size(), 1e-2f, 1e-4, loss);

    // Uniform logits: the loss is ln(classes); huge logits stay finite; NaN logits give NaN.
    std::vector<float> flat(kClasses, 1000.0f);
    EXPECT_NEAR(softmax_cross_entropy(flat.data(), labels.data(), 1, kClasses, nullptr), std::log(kClasses), 1e-9);
    flat[2] = 3.0e38f;
    EXPECT_TRUE(std::isfinite(softmax_cross_entropy(flat.data(), labels.data(), 1, kClasses, nullptr)));
    flat[1] = std::nanf("");
    EXPECT_FALSE(std::isfinite(softmax_cross_entropy(flat.data(), labels.data(), 1, kClasses, nullptr)));

    LogitStats stats;
    const std::vector<float> two{0.0f, 2.0f, 5.0f, 1.0f};
    const std::vector<std::int32_t> truth{1, 1};
    accumulate_logit_stats(two.data(), truth.data(), 2, 2, stats);
    EXPECT_EQ(stats.correct, 1u);
    EXPECT_NEAR(stats.loss_sum, std::log1p(std::exp(-2.0)) + std::log1p(std::exp(4.0)), 1e-6);
}

TEST(Layers, ActivationGradientsIncludingBetaMatchFiniteDifferences) {
    constexpr std::size_t kOuter = 4, kChannels = 3, kInner = 2;
    for (const char* text : {"x * sigmoid(beta * x)", "beta * tanh(beta2 * x) + sin(x)"}) {
        const Program program = compiled(text);
        FlatParameters params(ActivationLayer::parameter_count(program, kChannels));
        ActivationLayer act(program, kChannels, params);
        for (float b : params.values()) EXPECT_EQ(b, 1.0f) << text;
        Rng rng(3);
        fill_uniform(act.beta(), params.values().size(), 0.5f, rng);
        for (float& b : params.values()) b += 1.0f;   // distinct betas per channel, around 1
        const std::size_t n = kOuter * kChannels * kInner;
        std::vector<float> x = random_vector(n, rng, -2.0f, 2.0f), weighting = random_vector(n, rng), y(n), dx(n);
        const auto loss = [&] {
            act.forward(x.data(), y.data(), kOuter, kInner);
            return dot(y, weighting);
        };
        act.backward(x.data(), weighting.data(), dx.data(), kOuter, kInner);
        expect_gradients(text, x.data(), dx.data(), n, 1e-3f, 2e-3, loss);
        expect_gradients(text, act.beta(), act.beta_grad(), params.values().size(), 1e-3f, 2e-3, loss);
    }
}

// Betas that carry an initial value (beta(0.25)) start there on every channel, init() restores them, and
// the gradients at the start match finite differences (PReLU, APTx).
TEST(Layers, BetasStartAtTheirInitialValuesOnEveryChannel) {
    constexpr std::size_t kOuter = 4, kChannels = 3, kInner = 2;
    const std::pair<const char*, std::vector<float>> cases[] = {
        {"max(x, 0) + beta(0.25)*min(x, 0)", {0.25f}},
        {"(beta(1) + tanh(beta2(1)*x))*beta3(0.5)*x", {1.0f, 1.0f, 0.5f}},
        {"beta2(-2)*sin(x) + beta*x", {1.0f, -2.0f}},
    };
    for (const auto& [text, initial] : cases) {
        const Program program = compiled(text);
        FlatParameters params(ActivationLayer::parameter_count(program, kChannels));
        ActivationLayer act(program, kChannels, params);
        ASSERT_EQ(params.values().size(), initial.size() * kChannels) << text;
        for (std::size_t k = 0; k < initial.size(); ++k)
            for (std::size_t c = 0; c < kChannels; ++c) EXPECT_EQ(act.beta()[k * kChannels + c], initial[k]) << text;
        act.beta()[kChannels - 1] = 7.0f;
        act.init();
        EXPECT_EQ(act.beta()[kChannels - 1], initial[0]) << text;

        Rng rng(7);
        const std::size_t n = kOuter * kChannels * kInner;
        std::vector<float> x = random_vector(n, rng, 2.0f), weighting = random_vector(n, rng), y(n), dx(n);
        const auto loss = [&] {
            act.forward(x.data(), y.data(), kOuter, kInner);
            return dot(y, weighting);
        };
        act.backward(x.data(), weighting.data(), dx.data(), kOuter, kInner);
        expect_gradients(text, x.data(), dx.data(), n, 1e-3f, 2e-3, loss);
        expect_gradients(text, act.beta(), act.beta_grad(), params.values().size(), 1e-3f, 2e-3, loss);
    }
}

TEST(Mlp, BetasStartAtTheirInitialValuesAndGradientsMatch) {
    NetworkConfig cfg;
    cfg.input = ImageShape{1, 1, 5};
    cfg.classes = 3;
    cfg.width = 6;
    cfg.depth = 2;
    cfg.init_seed = 11;
    const Program program = compiled("(beta(1) + tanh(beta2(1)*x))*beta3(0.5)*x");   // APTx
    auto net = make_mlp(cfg, program);
    // Per hidden layer: weights, bias, then betas k = 0, 1, 2 for the 6 channels.
    const std::size_t first_betas[] = {5 * 6 + 6, 5 * 6 + 6 + 18 + 6 * 6 + 6};
    for (std::size_t first : first_betas)
        for (std::size_t i = 0; i < 18; ++i) EXPECT_EQ(net->params()[first + i], i < 12 ? 1.0f : 0.5f) << first + i;
    constexpr int kBatch = 4;
    Rng rng(5);
    const std::vector<float> x = random_vector(kBatch * 5, rng, 2.0f);
    const std::vector<std::int32_t> labels{0, 2, 1, 2};
    net->train_batch(x.data(), labels.data(), kBatch);
    const std::vector<float> grads(net->grads().begin(), net->grads().end());
    std::vector<float> logits(kBatch * 3);
    const auto inferred_loss = [&] {
        net->infer(x.data(), kBatch, logits.data());
        return softmax_cross_entropy(logits.data(), labels.data(), kBatch, 3, nullptr);
    };
    expect_gradients("mlp aptx", net->params().data(), grads.data(), grads.size(), 1e-2f, 5e-3, inferred_loss);
}

TEST(Mlp, WholeNetworkGradientsMatchFiniteDifferences) {
    NetworkConfig cfg;
    cfg.input = ImageShape{1, 1, 5};
    cfg.classes = 3;
    cfg.width = 6;
    cfg.depth = 2;
    cfg.init_seed = 11;
    const Program program = compiled("x * sigmoid(beta * x)");
    auto net = make_mlp(cfg, program);
    // Two dense layers of 5x6 / 6x6 plus the 6x3 classifier, and 6 betas per hidden layer.
    EXPECT_EQ(net->params().size(), std::size_t(5 * 6 + 6 + 6 + 6 * 6 + 6 + 6 + 6 * 3 + 3));
    constexpr int kBatch = 4;
    Rng rng(5);
    const std::vector<float> x = random_vector(kBatch * 5, rng, -2.0f, 2.0f);
    const std::vector<std::int32_t> labels{0, 2, 1, 2};
    // Move betas off 1 so that their gradients are generic.
    for (std::size_t i : {36u, 38u, 84u}) net->params()[i] = 1.3f;
    const float loss = net->train_batch(x.data(), labels.data(), kBatch);
    const std::vector<float> grads(net->grads().begin(), net->grads().end());
    std::vector<float> logits(kBatch * 3);
    const auto inferred_loss = [&] {
        net->infer(x.data(), kBatch, logits.data());
        return softmax_cross_entropy(logits.data(), labels.data(), kBatch, 3, nullptr);
    };
    EXPECT_NEAR(loss, inferred_loss(), 1e-6);
    expect_gradients("mlp", net->params().data(), grads.data(), grads.size(), 1e-2f, 5e-3, inferred_loss);

    // train_batch zeroes the gradients first: a second identical step reproduces them exactly.
    net->train_batch(x.data(), labels.data(), kBatch);
    EXPECT_TRUE(std::equal(grads.begin(), grads.end(), net->grads().begin()));
}

TEST(Mlp, InitialisationDependsOnlyOnTheSeed) {
    NetworkConfig cfg;
    cfg.input = ImageShape{1, 4, 4};
    cfg.width = 8;
    cfg.depth = 1;
    const Program relu = compiled("relu(x)");
    cfg.init_seed = 1;
    auto a = make_mlp(cfg, relu), b = make_mlp(cfg, relu);
    cfg.init_seed = 2;
    auto c = make_mlp(cfg, relu);
    EXPECT_TRUE(std::equal(a->params().begin(), a->params().end(), b->params().begin()));
    EXPECT_FALSE(std::equal(a->params().begin(), a->params().end(), c->params().begin()));
    cfg.width = 0;
    EXPECT_THROW(make_mlp(cfg, relu), std::invalid_argument);
}

// The threaded GEMM blocks must reproduce the serial results bit for bit, for the MLP's shapes and for
// ragged ones (batch not a multiple of the block grain, a narrow classifier).
TEST(Layers, ThreadedDenseIsBitIdenticalToSerial) {
    struct Shape { int batch, in, out; };
    for (const Shape s : {Shape{128, 784, 128}, Shape{128, 128, 10}, Shape{200, 100, 60}, Shape{97, 300, 131}}) {
        FlatParameters params(DenseLayer::parameter_count(s.in, s.out));
        DenseLayer dense(s.in, s.out, params);
        Rng rng(9);
        dense.init_pytorch_default(rng);
        const std::vector<float> x = random_vector(std::size_t(s.batch) * s.in, rng);
        const std::vector<float> dy = random_vector(std::size_t(s.batch) * s.out, rng);
        std::vector<float> y[2], dx[2], dw[2];
        for (int threads : {1, 2}) {
            const ScopedEngineThreads scoped(threads);
            const int k = threads - 1;
            y[k].resize(std::size_t(s.batch) * s.out);
            dx[k].resize(std::size_t(s.batch) * s.in);
            params.zero_grads();
            dense.forward(x.data(), s.batch, y[k].data());
            dense.backward(x.data(), dy.data(), s.batch, dx[k].data());
            dw[k].assign(params.grads().begin(), params.grads().end());
        }
        EXPECT_EQ(y[0], y[1]) << s.batch << "x" << s.in << "x" << s.out;
        EXPECT_EQ(dx[0], dx[1]) << s.batch << "x" << s.in << "x" << s.out;
        EXPECT_EQ(dw[0], dw[1]) << s.batch << "x" << s.in << "x" << s.out;
    }
}

// The dense products run on oneDNN's matmul (matmul_dnnl.cpp), which blocks by shape only: the same
// layer at the MLP's first shape gives the same bits with its parameters, input and output gradient
// shifted by 0..15 floats (misaligned for AVX-512 loads on all but one shift).
TEST(Layers, DenseBitsDoNotDependOnWhereTheBuffersAre) {
    constexpr int kBatch = 128, kIn = 784, kOut = 128;
    Rng rng(12);
    const std::vector<float> x0 = random_vector(std::size_t(kBatch) * kIn, rng);
    const std::vector<float> dy0 = random_vector(std::size_t(kBatch) * kOut, rng);
    std::vector<float> y_ref, dx_ref, dw_ref;
    for (std::size_t shift = 0; shift < 16; ++shift) {
        FlatParameters params(shift + DenseLayer::parameter_count(kIn, kOut));
        params.take(shift);
        DenseLayer dense(kIn, kOut, params);
        Rng init(1);
        dense.init_pytorch_default(init);
        std::vector<float> x(shift + x0.size()), dy(shift + dy0.size());
        std::copy(x0.begin(), x0.end(), x.begin() + std::ptrdiff_t(shift));
        std::copy(dy0.begin(), dy0.end(), dy.begin() + std::ptrdiff_t(shift));
        std::vector<float> y(shift + std::size_t(kBatch) * kOut), dx(shift + x0.size());
        params.zero_grads();
        dense.forward(x.data() + shift, kBatch, y.data() + shift);
        dense.backward(x.data() + shift, dy.data() + shift, kBatch, dx.data() + shift);
        std::vector<float> yv(y.begin() + std::ptrdiff_t(shift), y.end());
        std::vector<float> dxv(dx.begin() + std::ptrdiff_t(shift), dx.end());
        std::vector<float> dwv(dense.weight_grad(), dense.weight_grad() + std::size_t(kIn) * kOut);
        if (shift == 0) {
            y_ref = yv, dx_ref = dxv, dw_ref = dwv;
            continue;
        }
        EXPECT_EQ(yv, y_ref) << "shift " << shift;
        EXPECT_EQ(dxv, dx_ref) << "shift " << shift;
        EXPECT_EQ(dwv, dw_ref) << "shift " << shift;
    }
}

// Where the allocator puts the flat buffers must not change a single bit (vectorised reductions that
// peel by alignment would): the same layers over parameter buffers shifted by 0..15 floats.
TEST(Layers, ResultsDoNotDependOnBufferAlignment) {
    constexpr int kBatch = 40, kIn = 3, kOut = 32;
    const Program program = compiled("x * sigmoid(beta * x)");
    Rng rng(4);
    const std::vector<float> x = random_vector(kBatch * kIn, rng), dy = random_vector(kBatch * kOut, rng);
    std::vector<float> reference;
    for (std::size_t shift = 0; shift < 16; ++shift) {
        FlatParameters params(shift + DenseLayer::parameter_count(kIn, kOut) +
                              ActivationLayer::parameter_count(program, kOut));
        params.take(shift);
        DenseLayer dense(kIn, kOut, params);
        ActivationLayer act(program, kOut, params);
        Rng init(1);
        dense.init_pytorch_default(init);
        std::vector<float> pre(kBatch * kOut), post(kBatch * kOut), d_pre(kBatch * kOut), dx(kBatch * kIn);
        dense.forward(x.data(), kBatch, pre.data());
        act.forward(pre.data(), post.data(), kBatch);
        act.backward(pre.data(), dy.data(), d_pre.data(), kBatch);
        dense.backward(x.data(), d_pre.data(), kBatch, dx.data());
        std::vector<float> result(params.grads().begin() + std::ptrdiff_t(shift), params.grads().end());
        result.insert(result.end(), post.begin(), post.end());
        result.insert(result.end(), dx.begin(), dx.end());
        if (shift == 0) reference = result;
        else EXPECT_EQ(result, reference) << "shift " << shift;
    }
}
