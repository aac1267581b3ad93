// Conv-network kernels: conv2d against a direct convolution (forward and its adjoint), finite-difference
// gradients of every kernel on small random tensors, and batch norm's running statistics.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#include "actsearch/engine/detail/conv.hpp"
#include "actsearch/engine/detail/rng.hpp"
#include "actsearch/engine/evaluate.hpp"
#include "helpers.hpp"

namespace actsearch::engine::conv {
namespace {

using test::random_vector;

double dot(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
    return s;
}

// Central differences of `loss` with respect to every element of `values` (perturbed in place),
// compared with `analytic`: |fd - analytic| <= tol * max(1, |fd|, |analytic|).
void expect_gradient(std::vector<float>& values, const std::vector<float>& analytic,
                     const std::function<double()>& loss, const char* what, float step = 1e-2f,
                     double tol = 1e-2) {
    ASSERT_EQ(values.size(), analytic.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        const float saved = values[i];
        values[i] = saved + step;
        const double up = loss();
        values[i] = saved - step;
        const double down = loss();
        values[i] = saved;
        const double fd = (up - down) / (2.0 * double(step));
        const double scale = std::max({1.0, std::abs(fd), std::abs(double(analytic[i]))});
        EXPECT_NEAR(fd, analytic[i], tol * scale) << what << "[" << i << "]";
    }
}

// Direct convolution in double over NCHW tensors, the definition PyTorch's Conv2d implements.
std::vector<double> naive_conv(const Conv2d& cv, const std::vector<float>& x, int images, int h, int w,
                               const std::vector<float>& weight) {
    const int oh = cv.out_height(h), ow = cv.out_width(w), k = cv.kernel;
    std::vector<double> y(std::size_t(images) * cv.out_channels * oh * ow, 0.0);
    for (int n = 0; n < images; ++n)
        for (int co = 0; co < cv.out_channels; ++co)
            for (int oy = 0; oy < oh; ++oy)
                for (int ox = 0; ox < ow; ++ox) {
                    double s = 0.0;
                    for (int ci = 0; ci < cv.in_channels; ++ci)
                        for (int ky = 0; ky < k; ++ky)
                            for (int kx = 0; kx < k; ++kx) {
                                const int iy = oy * cv.stride - cv.padding + ky;
                                const int ix = ox * cv.stride - cv.padding + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                s += double(weight[((std::size_t(co) * cv.in_channels + ci) * k + ky) * k + kx]) *
                                     x[((std::size_t(n) * cv.in_channels + ci) * h + iy) * w + ix];
                            }
                    y[((std::size_t(n) * cv.out_channels + co) * oh + oy) * ow + ox] = s;
                }
    return y;
}

// NCHW -> NHWC for tests that start from the PyTorch layout.
std::vector<float> nchw_to_nhwc(const std::vector<float>& x, int images, int channels, std::size_t plane) {
    std::vector<float> y(x.size());
    for (int n = 0; n < images; ++n)
        for (int c = 0; c < channels; ++c)
            for (std::size_t i = 0; i < plane; ++i)
                y[(std::size_t(n) * plane + i) * channels + c] = x[(std::size_t(n) * channels + c) * plane + i];
    return y;
}

struct ConvCase {
    Conv2d conv;
    int images, height, width;
};

class ConvTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvTest, ForwardMatchesDirectConvolutionOnNchwAndNhwcInput) {
    const auto [cv, images, h, w] = GetParam();
    Rng rng(7);
    const std::size_t plane = std::size_t(h) * w;
    auto x = random_vector(std::size_t(images) * cv.in_channels * plane, rng);
    auto weight = random_vector(cv.weight_count(), rng);
    const int oh = cv.out_height(h), ow = cv.out_width(w);
    const std::size_t out_plane = std::size_t(oh) * ow;
    std::vector<float> y_from_nchw(std::size_t(images) * cv.out_channels * out_plane);
    std::vector<float> y_from_nhwc(y_from_nchw.size());
    conv2d_forward(cv, x.data(), Layout::nchw, images, h, w, weight.data(), y_from_nchw.data());
    const auto x_nhwc = nchw_to_nhwc(x, images, cv.in_channels, plane);
    conv2d_forward(cv, x_nhwc.data(), Layout::nhwc, images, h, w, weight.data(), y_from_nhwc.data());
    const auto expected = naive_conv(cv, x, images, h, w, weight);
    for (int n = 0; n < images; ++n)
        for (int co = 0; co < cv.out_channels; ++co)
            for (std::size_t i = 0; i < out_plane; ++i) {
                const double want = expected[(std::size_t(n) * cv.out_channels + co) * out_plane + i];
                const std::size_t at = (std::size_t(n) * out_plane + i) * cv.out_channels + co;
                ASSERT_NEAR(y_from_nchw[at], want, 1e-4 * (1.0 + std::abs(want))) << "co=" << co << " n=" << n;
                ASSERT_EQ(y_from_nhwc[at], y_from_nchw[at]);
            }
}

TEST_P(ConvTest, BackwardIsTheAdjointOfTheDirectConvolution) {
    // <dy, conv(x, W)> is bilinear, so dW and dx are exact adjoints of the direct convolution; this
    // checks them in double against the reference on every element, including multi-chunk cases.
    const auto [cv, images, h, w] = GetParam();
    Rng rng(11);
    const std::size_t plane = std::size_t(h) * w;
    const int oh = cv.out_height(h), ow = cv.out_width(w);
    const std::size_t out_plane = std::size_t(oh) * ow;
    auto x = random_vector(std::size_t(images) * cv.in_channels * plane, rng);  // NHWC
    auto weight = random_vector(cv.weight_count(), rng);
    auto dy = random_vector(std::size_t(images) * cv.out_channels * out_plane, rng);  // NHWC
    std::vector<float> dweight(cv.weight_count(), 0.5f);  // accumulates onto what is there
    std::vector<float> dx(x.size(), std::numeric_limits<float>::quiet_NaN());  // fully overwritten
    conv2d_backward(cv, x.data(), Layout::nhwc, images, h, w, weight.data(), dy.data(), dweight.data(),
                    dx.data());

    std::vector<double> dweight_ref(cv.weight_count(), 0.5), dx_ref(x.size(), 0.0);
    const int k = cv.kernel;
    for (int n = 0; n < images; ++n)
        for (int co = 0; co < cv.out_channels; ++co)
            for (int oy = 0; oy < oh; ++oy)
                for (int ox = 0; ox < ow; ++ox) {
                    const double g = dy[(std::size_t(n) * out_plane + std::size_t(oy) * ow + ox) * cv.out_channels + co];
                    for (int ci = 0; ci < cv.in_channels; ++ci)
                        for (int ky = 0; ky < k; ++ky)
                            for (int kx = 0; kx < k; ++kx) {
                                const int iy = oy * cv.stride - cv.padding + ky;
                                const int ix = ox * cv.stride - cv.padding + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                const std::size_t wi = ((std::size_t(co) * cv.in_channels + ci) * k + ky) * k + kx;
                                const std::size_t xi = (std::size_t(n) * plane + std::size_t(iy) * w + ix) * cv.in_channels + ci;
                                dweight_ref[wi] += g * x[xi];
                                dx_ref[xi] += g * weight[wi];
                            }
                }
    for (std::size_t i = 0; i < dweight.size(); ++i)
        ASSERT_NEAR(dweight[i], dweight_ref[i], 1e-3 * (1.0 + std::abs(dweight_ref[i]))) << "dweight " << i;
    for (std::size_t i = 0; i < dx.size(); ++i)
        ASSERT_NEAR(dx[i], dx_ref[i], 1e-4 * (1.0 + std::abs(dx_ref[i]))) << "dx " << i;
}

class ConvGradientTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvGradientTest, GradientsMatchFiniteDifferences) {
    const auto [cv, images, h, w] = GetParam();
    for (const Layout layout : {Layout::nhwc, Layout::nchw}) {
        Rng rng(13);
        const std::size_t plane = std::size_t(h) * w;
        const std::size_t out_size = std::size_t(images) * cv.out_channels * cv.out_height(h) * cv.out_width(w);
        auto x = random_vector(std::size_t(images) * cv.in_channels * plane, rng);
        auto weight = random_vector(cv.weight_count(), rng);
        const auto projection = random_vector(out_size, rng);  // loss = <projection, y>
        std::vector<float> y(out_size);
        auto loss = [&] {
            conv2d_forward(cv, x.data(), layout, images, h, w, weight.data(), y.data());
            return dot(projection, y);
        };
        std::vector<float> dweight(weight.size(), 0.0f), dx(x.size());
        conv2d_backward(cv, x.data(), layout, images, h, w, weight.data(), projection.data(), dweight.data(),
                        dx.data());
        expect_gradient(weight, dweight, loss, "dweight");
        expect_gradient(x, dx, loss, layout == Layout::nhwc ? "dx (NHWC)" : "dx (NCHW)");
    }
}

// oneDNN sizes its kernels' work split by the OpenMP thread count and could take other code paths
// for other addresses: the same bits whatever the caller's OpenMP settings, inside a parallel region,
// and from unaligned buffers (which ConvKernels copies to aligned ones).
TEST(ConvKernels, SameBitsWhateverTheCallersThreadsAndAlignment) {
    const Conv2d cv{16, 32, 3, 1, 1};
    const int images = 8, h = 14, w = 14;
    Rng rng(31);
    const std::size_t in_size = std::size_t(images) * cv.in_channels * h * w;
    const std::size_t out_size = std::size_t(images) * cv.out_channels * h * w;
    const auto x = random_vector(in_size, rng);
    const auto weight = random_vector(cv.weight_count(), rng);
    const auto dy = random_vector(out_size, rng);
    struct Result {
        std::vector<float> y, dweight, dx;
    };
    // offset: floats by which the buffers are shifted from their (aligned) allocation.
    const auto run = [&](int offset) {
        AlignedFloats xs(in_size + 16), dys(out_size + 16), ys(out_size + 16), dxs(in_size + 16);
        std::copy(x.begin(), x.end(), xs.begin() + offset);
        std::copy(dy.begin(), dy.end(), dys.begin() + offset);
        Result r;
        r.dweight.assign(weight.size(), 0.0f);
        ConvKernels kernels(cv);
        kernels.forward(xs.data() + offset, Layout::nhwc, images, h, w, weight.data(), ys.data() + offset);
        kernels.backward(xs.data() + offset, Layout::nhwc, images, h, w, weight.data(), dys.data() + offset,
                         r.dweight.data(), dxs.data() + offset);
        r.y.assign(ys.begin() + offset, ys.begin() + offset + std::ptrdiff_t(out_size));
        r.dx.assign(dxs.begin() + offset, dxs.begin() + offset + std::ptrdiff_t(in_size));
        return r;
    };
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    const Result reference = run(0);
    const auto expect_same = [&](const Result& r, const char* what) {
        EXPECT_EQ(r.y, reference.y) << what;
        EXPECT_EQ(r.dweight, reference.dweight) << what;
        EXPECT_EQ(r.dx, reference.dx) << what;
    };
    omp_set_num_threads(4);
    expect_same(run(0), "4 OpenMP threads");
    expect_same(run(1), "4 threads, buffers 4 bytes off alignment");
    expect_same(run(3), "4 threads, buffers 12 bytes off alignment");
    Result in_region[2];
#pragma omp parallel num_threads(2)
    in_region[omp_get_thread_num()] = run(omp_get_thread_num());
    expect_same(in_region[0], "in a parallel region, thread 0");
    expect_same(in_region[1], "in a parallel region, thread 1");
    omp_set_num_threads(saved);
}

// bf16 round-to-nearest-even of a finite float: what oneDNN's reorder does to the convolutions' operands.
float round_to_bf16(float v) {
    std::uint32_t u = 0;
    std::memcpy(&u, &v, sizeof u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    u &= 0xFFFF0000u;
    std::memcpy(&v, &u, sizeof v);
    return v;
}

std::vector<float> rounded_to_bf16(std::vector<float> v) {
    for (float& x : v) x = round_to_bf16(x);
    return v;
}

// A bf16 convolution multiplies bf16 operands exactly and accumulates in fp32: it is the fp32
// convolution of the rounded operands, up to the order of the fp32 additions. Forward (y from x and W),
// backward-data (dx from dy and W) and backward-weights (dW from x and dy), on both input layouts, and
// the results differ from the unrounded fp32 ones (the bf16 path really ran).
TEST_P(ConvTest, Bf16IsTheFp32ConvolutionOfOperandsRoundedToBf16) {
    if (!bf16_native()) GTEST_SKIP() << "this CPU has no native bf16 (AVX512-BF16 or AMX)";
    auto [cv, images, h, w] = GetParam();
    Conv2d bf = cv;
    bf.bf16 = true;
    Rng rng(17);
    const std::size_t plane = std::size_t(h) * w;
    const std::size_t out_size = std::size_t(images) * cv.out_channels * cv.out_height(h) * cv.out_width(w);
    const auto x = random_vector(std::size_t(images) * cv.in_channels * plane, rng);
    const auto weight = random_vector(cv.weight_count(), rng);
    const auto dy = random_vector(out_size, rng);
    const auto xr = rounded_to_bf16(x), wr = rounded_to_bf16(weight), dyr = rounded_to_bf16(dy);
    // fp32 sums in another order: dW sums images * output pixels terms (9,000 here), y and dx a few dozen.
    const auto close = [](const std::vector<float>& got, const std::vector<float>& want, const char* what,
                          double tol = 1e-5) {
        ASSERT_EQ(got.size(), want.size());
        for (std::size_t i = 0; i < got.size(); ++i)
            ASSERT_NEAR(got[i], want[i], tol * (1.0 + std::abs(want[i]))) << what << "[" << i << "]";
    };
    bool differs = false;
    for (const Layout layout : {Layout::nhwc, Layout::nchw}) {
        std::vector<float> y(out_size), y_ref(out_size), y_fp32(out_size);
        conv2d_forward(bf, x.data(), layout, images, h, w, weight.data(), y.data());
        conv2d_forward(cv, xr.data(), layout, images, h, w, wr.data(), y_ref.data());
        conv2d_forward(cv, x.data(), layout, images, h, w, weight.data(), y_fp32.data());
        close(y, y_ref, "y");
        differs = differs || y != y_fp32;

        std::vector<float> dw(weight.size(), 0.5f), dw_ref(weight.size(), 0.5f), dx(x.size()), dx_ref(x.size());
        conv2d_backward(bf, x.data(), layout, images, h, w, weight.data(), dy.data(), dw.data(), dx.data());
        conv2d_backward(cv, xr.data(), layout, images, h, w, wr.data(), dyr.data(), dw_ref.data(), dx_ref.data());
        close(dw, dw_ref, "dweight", 1e-4);
        close(dx, dx_ref, "dx");
    }
    EXPECT_TRUE(differs) << "bf16 gave the fp32 results bit for bit: the operands were not rounded";
}

const ConvCase kSmallCases[] = {
    {{3, 4, 3, 1, 1}, 2, 5, 5},  // 3x3, same padding
    {{3, 4, 3, 2, 1}, 2, 5, 5},  // 3x3 stride 2 (ResNet downsampling)
    {{3, 2, 3, 2, 1}, 2, 6, 4},  // stride 2, even and non-square sizes
    {{3, 4, 1, 2, 0}, 2, 5, 5},  // 1x1 stride 2 projection shortcut
    {{2, 3, 3, 1, 1}, 1, 1, 1},  // 1x1 image: only the kernel centre is inside
};
INSTANTIATE_TEST_SUITE_P(Small, ConvTest, ::testing::ValuesIn(kSmallCases));
INSTANTIATE_TEST_SUITE_P(Small, ConvGradientTest, ::testing::ValuesIn(kSmallCases));
// Larger shapes: oneDNN's blocked layouts (channels in blocks of 8/16, a partial last block) and its
// kernels' spatial and batch blocking.
INSTANTIATE_TEST_SUITE_P(Larger, ConvTest,
                         ::testing::Values(ConvCase{{32, 2, 3, 1, 1}, 3, 48, 48},
                                           ConvCase{{8, 4, 3, 2, 1}, 30, 40, 30},
                                           ConvCase{{16, 32, 3, 1, 1}, 5, 14, 14},   // fmnist-cnn's third conv
                                           ConvCase{{20, 24, 3, 1, 1}, 4, 9, 7}));   // partial channel blocks

TEST(BatchNorm, GradientsOfInputGammaAndBetaMatchFiniteDifferences) {
    const BatchNorm bn{3};
    const std::size_t count = 2 * 5 * 5;  // B=2, 5x5 per channel
    Rng rng(17);
    auto x = random_vector(bn.channels * count, rng, -2.0f, 2.0f);
    auto gamma = random_vector(bn.channels, rng, 0.5f, 1.5f);
    auto beta = random_vector(bn.channels, rng);
    const auto projection = random_vector(x.size(), rng);
    std::vector<float> y(x.size()), mean(bn.channels), inv_std(bn.channels);
    std::vector<float> running_mean(bn.channels, 0.0f), running_var(bn.channels, 1.0f);
    auto loss = [&] {
        batchnorm_forward_train(bn, x.data(), y.data(), count, gamma.data(), beta.data(), mean.data(),
                                inv_std.data(), running_mean.data(), running_var.data());
        return dot(projection, y);
    };
    loss();
    std::vector<float> dx(x.size()), dgamma(bn.channels, 0.0f), dbeta(bn.channels, 0.0f);
    batchnorm_backward(bn, x.data(), projection.data(), dx.data(), count, gamma.data(), mean.data(),
                       inv_std.data(), dgamma.data(), dbeta.data());
    expect_gradient(x, dx, loss, "dx", 1e-3f);
    expect_gradient(gamma, dgamma, loss, "dgamma", 1e-3f);
    expect_gradient(beta, dbeta, loss, "dbeta", 1e-3f);
}

TEST(BatchNorm, TrainingNormalisesWithBatchStatisticsAndUpdatesRunningOnesLikePyTorch) {
    const BatchNorm bn{2};
    const std::size_t count = 3 * 4;
    Rng rng(19);
    const auto x = random_vector(bn.channels * count, rng, -1.0f, 3.0f);
    const std::vector<float> gamma{1.5f, 0.5f}, beta{0.25f, -1.0f};
    std::vector<float> running_mean{0.5f, -0.5f}, running_var{2.0f, 0.25f};
    std::vector<float> y(x.size()), mean(2), inv_std(2);
    batchnorm_forward_train(bn, x.data(), y.data(), count, gamma.data(), beta.data(), mean.data(),
                            inv_std.data(), running_mean.data(), running_var.data());
    const std::vector<float> old_mean{0.5f, -0.5f}, old_var{2.0f, 0.25f};
    for (int c = 0; c < bn.channels; ++c) {
        double m = 0.0, ss = 0.0;
        const auto at = [&](std::size_t i) { return x[i * bn.channels + c]; };   // [count][channels]
        for (std::size_t i = 0; i < count; ++i) m += at(i);
        m /= count;
        for (std::size_t i = 0; i < count; ++i) ss += (at(i) - m) * (at(i) - m);
        const double biased = ss / count, unbiased = ss / (count - 1);
        EXPECT_NEAR(running_mean[c], 0.9 * old_mean[c] + 0.1 * m, 1e-6);
        EXPECT_NEAR(running_var[c], 0.9 * old_var[c] + 0.1 * unbiased, 1e-6);
        for (std::size_t i = 0; i < count; ++i)
            EXPECT_NEAR(y[i * bn.channels + c], (at(i) - m) / std::sqrt(biased + 1e-5) * gamma[c] + beta[c], 1e-5);
    }
}

TEST(BatchNorm, InferenceUsesRunningStatistics) {
    const BatchNorm bn{2};
    const std::size_t count = 4;
    const std::vector<float> x{1, -1, 2, 0, 3, 1, 4, 2};   // [count][channels]: channel 0 is 1 2 3 4
    const std::vector<float> gamma{2.0f, 1.0f}, beta{0.0f, 0.5f};
    const std::vector<float> running_mean{1.0f, -1.0f}, running_var{4.0f - 1e-5f, 0.25f - 1e-5f};
    std::vector<float> y(x.size());
    batchnorm_forward_infer(bn, x.data(), y.data(), count, gamma.data(), beta.data(), running_mean.data(),
                            running_var.data());
    const std::vector<float> expected{0, 0.5f, 1, 2.5f, 2, 4.5f, 3, 6.5f};
    for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y[i], expected[i], 1e-5) << i;
}

// Distinct values at least `gap` apart in random order, so that a finite-difference step below gap/2
// never changes which element of a pooling window is the maximum.
std::vector<float> shuffled_distinct(std::size_t n, float gap, Rng& rng) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = gap * (float(i) - float(n) / 2);
    for (std::size_t i = n; i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
    return v;
}

TEST(MaxPool, GradientMatchesFiniteDifferencesIncludingOddSizes) {
    Rng rng(23);
    for (const auto& [h, w] : {std::pair{4, 6}, std::pair{5, 5}}) {
        const int images = 2, channels = 3;  // NHWC
        const std::size_t planes = images * channels;
        auto x = shuffled_distinct(planes * h * w, 0.1f, rng);
        const std::size_t out_size = planes * (h / 2) * (w / 2);
        const auto projection = random_vector(out_size, rng);
        std::vector<float> y(out_size);
        auto loss = [&] {
            maxpool2x2_forward(x.data(), y.data(), images, h, w, channels);
            return dot(projection, y);
        };
        std::vector<float> dx(x.size(), 1.0f);
        maxpool2x2_backward(x.data(), projection.data(), dx.data(), images, h, w, channels);
        expect_gradient(x, dx, loss, "dx", 1e-2f);
        if (h % 2 == 1) {  // the dropped last row gets no gradient
            for (int n = 0; n < images; ++n)
                for (std::size_t i = 0; i < std::size_t(w) * channels; ++i)
                    EXPECT_EQ(dx[(std::size_t(n) * h + h - 1) * w * channels + i], 0.0f);
        }
    }
}

TEST(MaxPool, PropagatesNaNAndRoutesTiesToTheFirstInRowMajorOrderLikePyTorch) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    // Windows: tie across the rows (t1 = b0), tie in the bottom row, NaN at the top left, a NaN in each
    // row (PyTorch's scan keeps the last NaN). An odd width adds a column that takes no part.
    for (const int width : {8, 9}) {
        const std::vector<float> top{0, 5, 1, 0, nan, 2, nan, 0, 7};
        const std::vector<float> bottom{5, 1, 5, 5, 3, 1, 0, nan, 9};
        std::vector<float> x(top.begin(), top.begin() + width);
        x.insert(x.end(), bottom.begin(), bottom.begin() + width);
        std::vector<float> y(4);
        maxpool2x2_forward(x.data(), y.data(), 1, 2, width, 1);
        EXPECT_EQ(y[0], 5.0f);
        EXPECT_EQ(y[1], 5.0f);
        EXPECT_TRUE(std::isnan(y[2]));
        EXPECT_TRUE(std::isnan(y[3]));
        const std::vector<float> dy{1, 2, 3, 4};
        std::vector<float> dx(x.size(), -1.0f);
        maxpool2x2_backward(x.data(), dy.data(), dx.data(), 1, 2, width, 1);
        std::vector<float> expected{0, 1, 0, 0, 3, 0, 0, 0,  //
                                    0, 0, 2, 0, 0, 0, 0, 4};
        if (width == 9) {
            expected.insert(expected.begin() + 8, 0.0f);
            expected.push_back(0.0f);
        }
        EXPECT_EQ(dx, expected) << "width " << width;
    }
}

TEST(GlobalAvgPool, ForwardAveragesEachPlaneAndGradientMatchesFiniteDifferences) {
    const int channels = 3, images = 2;
    const std::size_t plane = 5 * 5;
    Rng rng(29);
    auto x = random_vector(channels * images * plane, rng);
    std::vector<float> y(images * channels);
    global_avg_pool_forward(x.data(), y.data(), channels, images, plane);
    for (int c = 0; c < channels; ++c)
        for (int n = 0; n < images; ++n) {
            double s = 0.0;
            for (std::size_t i = 0; i < plane; ++i) s += x[(std::size_t(n) * plane + i) * channels + c];  // NHWC
            EXPECT_NEAR(y[std::size_t(n) * channels + c], s / plane, 1e-6);
        }
    const auto projection = random_vector(y.size(), rng);
    auto loss = [&] {
        global_avg_pool_forward(x.data(), y.data(), channels, images, plane);
        return dot(projection, y);
    };
    std::vector<float> dx(x.size());
    global_avg_pool_backward(projection.data(), dx.data(), channels, images, plane);
    expect_gradient(x, dx, loss, "dx");
}

TEST(ResidualAdd, SumsElementwise) {
    const std::vector<float> a{1, 2, 3}, b{0.5f, -2, 4};
    std::vector<float> out(3);
    residual_add(a.data(), b.data(), out.data(), 3);
    EXPECT_EQ(out, (std::vector<float>{1.5f, 0, 7}));
}

}  // namespace
}  // namespace actsearch::engine::conv
