// Where a training step's time goes: each layer of the fmnist-cnn and fmnist-mlp training steps
// (batch 128) timed on its own, in thread CPU time (CLOCK_THREAD_CPUTIME_ID: robust on a shared
// machine), with the FLOPs it performs, against the measured single-core FMA peak. A benchmark, not a
// test: scripts/bench_engine.sh runs it and prints its markdown. A last table times oneDNN's own batch
// norm, max-pool and Winograd convolutions beside the engine's layers at the same shapes, the evidence
// for which layers the engine takes from oneDNN.
//   bench_layers [--activation EXPR] [--repeats N]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#include "actsearch/grammar/parse.hpp"
#include "actsearch/engine/detail/conv.hpp"
#include "actsearch/engine/detail/layers.hpp"
#include "actsearch/engine/detail/rng.hpp"

namespace {

using namespace actsearch;
using namespace actsearch::engine;
using namespace actsearch::engine::conv;

double thread_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// Fastest of `repeats` runs of f (after one warm-up run), in seconds.
double best_of(int repeats, const std::function<void()>& f) {
    f();
    double best = 1e30;
    for (int r = 0; r < repeats; ++r) {
        const double t0 = thread_seconds();
        f();
        best = std::min(best, thread_seconds() - t0);
    }
    return best;
}

// Single-core fp32 FMA peak: 12 independent accumulator chains of the widest vectors the compiler
// targets (-march=native), so that the FMA units, not latency, bound the loop.
double fma_peak_gflops() {
    typedef float v16 __attribute__((vector_size(64)));
    constexpr int kChains = 12;
    v16 acc[kChains];
    for (int i = 0; i < kChains; ++i) acc[i] = v16{} + float(i) * 1e-3f;
    const v16 a = v16{} + 0.999999f, b = v16{} + 1e-7f;
    const long iterations = 20'000'000;
    const double t0 = thread_seconds();
    for (long it = 0; it < iterations; ++it)
        for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * a + b;
    const double seconds = thread_seconds() - t0;
    float sink = 0.0f;
    for (int i = 0; i < kChains; ++i) sink += acc[i][0];
    std::fprintf(stderr, "(fma sink %g)\n", double(sink));
    return 2.0 * 16 * kChains * double(iterations) / seconds / 1e9;
}

std::vector<float> random_vector(std::size_t n, Rng& rng) {
    std::vector<float> v(n);
    for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
    return v;
}
AlignedFloats random_aligned(std::size_t n, Rng& rng) {
    AlignedFloats v(n);
    for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
    return v;
}

struct Row {
    std::string layer;
    double seconds = 0.0;
    double flops = 0.0;
};

void print_table(const char* title, const std::vector<Row>& rows, double peak) {
    double total = 0.0, total_flops = 0.0;
    for (const Row& r : rows) total += r.seconds, total_flops += r.flops;
    std::printf("### %s\n\n| layer | ms | share | GFLOP/s |\n|---|---:|---:|---:|\n", title);
    for (const Row& r : rows)
        std::printf("| %s | %.3f | %.1f%% | %s |\n", r.layer.c_str(), r.seconds * 1e3, 100.0 * r.seconds / total,
                    r.flops > 0 ? std::to_string(int(std::lround(r.flops / r.seconds / 1e9))).c_str() : "");
    std::printf("| **training step (sum)** | **%.3f** | 100%% | **%.0f** (%.0f%% of the %.0f GFLOP/s FMA peak) |\n\n",
                total * 1e3, total_flops / total / 1e9, 100.0 * total_flops / total / 1e9 / peak, peak);
}

void cnn_breakdown(const Program& activation, int repeats, double peak) {
    const int batch = 128, w = 16;
    FlatParameters params(1 << 20);
    struct Spec {
        int in, out, size;
    };
    const Spec specs[4] = {{1, w, 28}, {w, w, 28}, {w, 2 * w, 14}, {2 * w, 2 * w, 14}};
    Rng rng(1);
    std::vector<Row> rows;
    for (int u = 0; u < 4; ++u) {
        const Spec s = specs[u];
        const Conv2d geometry{s.in, s.out, 3, 1, 1};
        ConvLayer conv(geometry, params);
        conv.init_pytorch_default(rng);
        BatchNormLayer bn(s.out, params);
        ActivationLayer act(activation, s.out, params);
        const std::size_t plane = std::size_t(s.size) * s.size;
        const std::size_t in_size = batch * s.in * plane, out_size = batch * s.out * plane;
        const AlignedFloats x = random_aligned(in_size, rng), dy = random_aligned(out_size, rng);
        AlignedFloats y(out_size), z(out_size), a(out_size), d1(out_size), d2(out_size), dx(in_size);
        const Extent extent{s.size, s.size};
        const Layout layout = u == 0 ? Layout::nchw : Layout::nhwc;
        const double flops = 2.0 * batch * s.out * s.in * 9 * plane;
        const std::string name = "conv" + std::to_string(u + 1) + " " + std::to_string(s.in) + "->" +
                                 std::to_string(s.out) + " " + std::to_string(s.size) + "x" + std::to_string(s.size);
        rows.push_back({name + " forward", best_of(repeats, [&] { conv.forward(x.data(), layout, batch, extent, y.data()); }),
                        flops});
        rows.push_back({name + " backward (" + (u == 0 ? "weights" : "data + weights") + ")",
                        best_of(repeats, [&] { conv.backward(x.data(), layout, batch, extent, dy.data(), u == 0 ? nullptr : dx.data()); }),
                        u == 0 ? flops : 2 * flops});
        const std::size_t count = std::size_t(batch) * plane;
        rows.push_back({"batch norm " + std::to_string(u + 1) + " forward + backward", best_of(repeats, [&] {
                            bn.forward_train(y.data(), z.data(), count);
                            bn.backward(y.data(), dy.data(), d1.data(), count);
                        }),
                        0});
        rows.push_back({"activation " + std::to_string(u + 1) + " forward + backward", best_of(repeats, [&] {
                            act.forward(z.data(), a.data(), count, 1);
                            act.backward(z.data(), dy.data(), d2.data(), count, 1);
                        }),
                        0});
        if (u == 1 || u == 3) {
            AlignedFloats pooled(out_size / 4), dpooled(out_size / 4);
            rows.push_back({"max-pool after " + std::to_string(u + 1) + " forward + backward", best_of(repeats, [&] {
                                maxpool2x2_forward(a.data(), pooled.data(), batch, s.size, s.size, s.out);
                                maxpool2x2_backward(a.data(), dpooled.data(), d2.data(), batch, s.size, s.size, s.out);
                            }),
                            0});
        }
    }
    print_table("fmnist-cnn training step, batch 128, per layer (thread CPU time, best of repeats)", rows, peak);
}

void mlp_breakdown(const Program& activation, int repeats, double peak) {
    const int batch = 128, width = 128;
    FlatParameters params(1 << 20);
    Rng rng(2);
    std::vector<Row> rows;
    const int dims[5] = {784, width, width, width, 10};
    for (int l = 0; l < 4; ++l) {
        DenseLayer dense(dims[l], dims[l + 1], params);
        dense.init_pytorch_default(rng);
        const auto x = random_vector(std::size_t(batch) * dims[l], rng);
        const auto dy = random_vector(std::size_t(batch) * dims[l + 1], rng);
        std::vector<float> y(dy.size()), dx(x.size());
        const double flops = 2.0 * batch * dims[l] * dims[l + 1];
        const std::string name = "dense " + std::to_string(dims[l]) + "->" + std::to_string(dims[l + 1]);
        rows.push_back({name + " forward", best_of(repeats, [&] { dense.forward(x.data(), batch, y.data()); }), flops});
        rows.push_back({name + " backward", best_of(repeats, [&] { dense.backward(x.data(), dy.data(), batch, l == 0 ? nullptr : dx.data()); }),
                        l == 0 ? flops : 2 * flops});
        if (l < 3) {
            ActivationLayer act(activation, dims[l + 1], params);
            std::vector<float> a(dy.size()), da(dy.size());
            rows.push_back({"activation " + std::to_string(l + 1) + " forward + backward", best_of(repeats, [&] {
                                act.forward(y.data(), a.data(), batch, 1);
                                act.backward(y.data(), dy.data(), da.data(), batch, 1);
                            }),
                            0});
        }
    }
    print_table("fmnist-mlp training step, batch 128, per layer (thread CPU time, best of repeats)", rows, peak);
}


// oneDNN's batch norm (forward training + backward with scale and shift), max-pool (forward training
// with its workspace + backward) and Winograd convolutions (forward + backward-data + backward-weights,
// in the layouts oneDNN picks, reorders to and from NHWC not counted) beside the engine's layers at the
// fmnist-cnn shapes, single-threaded like the engine's primitives.
void onednn_alternatives(int repeats) {
    using namespace dnnl;
    const int previous_threads = omp_get_max_threads();
    omp_set_num_threads(1);
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    stream strm(eng);
    const int batch = 128, w = 16;
    Rng rng(3);
    auto fill = [&](memory& m) {
        float* p = static_cast<float*>(m.get_data_handle());
        for (std::size_t i = 0; i < m.get_desc().get_size() / sizeof(float); ++i) p[i] = rng.uniform(-1.0f, 1.0f);
    };
    std::printf("### oneDNN's own layers beside the engine's (fmnist-cnn shapes, batch 128, thread CPU time, best of "
                "repeats)\n\n| layer | engine ms | oneDNN ms | engine / oneDNN |\n|---|---:|---:|---:|\n");
    std::string nan_rule;
    auto row = [](const std::string& name, double ours, double theirs) {
        std::printf("| %s | %.3f | %.3f | %.2f |\n", name.c_str(), ours * 1e3, theirs * 1e3, ours / theirs);
    };

    // Batch norm after each convolution: [batch * plane][channels] in NHWC.
    const struct {
        int channels, size;
    } maps[4] = {{w, 28}, {w, 28}, {2 * w, 14}, {2 * w, 14}};
    for (int u = 1; u < 4; ++u) {  // the first unit's map has the second's shape
        const int c = maps[u].channels, size = maps[u].size;
        const std::size_t count = std::size_t(batch) * size * size, n = count * c;
        FlatParameters params(1 << 12);
        BatchNormLayer bn(c, params);
        bn.init();
        const AlignedFloats x = random_aligned(n, rng), dy = random_aligned(n, rng);
        AlignedFloats y(n), dx(n);
        const double ours = best_of(repeats, [&] {
            bn.forward_train(x.data(), y.data(), count);
            bn.backward(x.data(), dy.data(), dx.data(), count);
        });
        const memory::desc data({batch, c, size, size}, memory::data_type::f32, memory::format_tag::nhwc);
        const auto flags = normalization_flags::use_scale | normalization_flags::use_shift;
        const batch_normalization_forward::primitive_desc fwd_pd(
            batch_normalization_forward::desc(prop_kind::forward_training, data, 1e-5f, flags), eng);
        const batch_normalization_backward::primitive_desc bwd_pd(
            batch_normalization_backward::desc(prop_kind::backward, data, data, 1e-5f, flags), eng, fwd_pd);
        memory src(data, eng), dst(data, eng), diff_dst(data, eng), diff_src(data, eng);
        memory mean(fwd_pd.mean_desc(), eng), variance(fwd_pd.variance_desc(), eng);
        const memory::desc per_channel({c}, memory::data_type::f32, memory::format_tag::a);
        memory scale(per_channel, eng), shift(per_channel, eng), diff_scale(per_channel, eng), diff_shift(per_channel, eng);
        fill(src), fill(diff_dst), fill(scale), fill(shift);
        batch_normalization_forward fwd(fwd_pd);
        batch_normalization_backward bwd(bwd_pd);
        const double theirs = best_of(repeats, [&] {
            fwd.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_MEAN, mean},
                               {DNNL_ARG_VARIANCE, variance}, {DNNL_ARG_SCALE, scale}, {DNNL_ARG_SHIFT, shift}});
            bwd.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_MEAN, mean}, {DNNL_ARG_VARIANCE, variance},
                               {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_SCALE, scale}, {DNNL_ARG_SHIFT, shift},
                               {DNNL_ARG_DIFF_SRC, diff_src},
                               {DNNL_ARG_DIFF_SCALE, diff_scale}, {DNNL_ARG_DIFF_SHIFT, diff_shift}});
            strm.wait();
        });
        row("batch norm " + std::to_string(u + 1) + " (" + std::to_string(c) + " channels, " + std::to_string(size) + "x" +
                std::to_string(size) + ") forward + backward (" + fwd_pd.impl_info_str() + ")",
            ours, theirs);
    }

    // 2x2 max-pool after the second and fourth units.
    for (int u : {1, 3}) {
        const int c = maps[u].channels, size = maps[u].size;
        const std::size_t n = std::size_t(batch) * size * size * c;
        const AlignedFloats x = random_aligned(n, rng), dy = random_aligned(n / 4, rng);
        AlignedFloats y(n / 4), dx(n);
        const double ours = best_of(repeats, [&] {
            maxpool2x2_forward(x.data(), y.data(), batch, size, size, c);
            maxpool2x2_backward(x.data(), dy.data(), dx.data(), batch, size, size, c);
        });
        const memory::desc src_md({batch, c, size, size}, memory::data_type::f32, memory::format_tag::nhwc);
        const memory::desc dst_md({batch, c, size / 2, size / 2}, memory::data_type::f32, memory::format_tag::nhwc);
        const pooling_forward::primitive_desc fwd_pd(
            pooling_forward::desc(prop_kind::forward_training, algorithm::pooling_max, src_md, dst_md, {2, 2}, {2, 2},
                                  {0, 0}, {0, 0}),
            eng);
        const pooling_backward::primitive_desc bwd_pd(
            pooling_backward::desc(algorithm::pooling_max, src_md, dst_md, {2, 2}, {2, 2}, {0, 0}, {0, 0}), eng, fwd_pd);
        memory src(src_md, eng), dst(dst_md, eng), diff_dst(dst_md, eng), diff_src(src_md, eng);
        memory workspace(fwd_pd.workspace_desc(), eng);
        fill(src), fill(diff_dst);
        pooling_forward fwd(fwd_pd);
        pooling_backward bwd(bwd_pd);
        const double theirs = best_of(repeats, [&] {
            fwd.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_WORKSPACE, workspace}});
            bwd.execute(strm, {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_SRC, diff_src}, {DNNL_ARG_WORKSPACE, workspace}});
            strm.wait();
        });
        row("max-pool after " + std::to_string(u + 1) + " forward + backward (" + fwd_pd.impl_info_str() + ")", ours, theirs);
    }
    {
        // What each max-pool makes of a window holding a NaN (PyTorch's rule, the engine's: NaN wins).
        const int c = 16;
        const memory::desc src_md({1, c, 2, 2}, memory::data_type::f32, memory::format_tag::nhwc);
        const memory::desc dst_md({1, c, 1, 1}, memory::data_type::f32, memory::format_tag::nhwc);
        const pooling_forward::primitive_desc pd(
            pooling_forward::desc(prop_kind::forward_training, algorithm::pooling_max, src_md, dst_md, {2, 2}, {2, 2},
                                  {0, 0}, {0, 0}),
            eng);
        memory src(src_md, eng), dst(dst_md, eng), workspace(pd.workspace_desc(), eng);
        float* x = static_cast<float*>(src.get_data_handle());
        std::fill_n(x, 4 * c, 0.5f);
        x[0] = std::nanf("");   // channel 0's first value
        pooling_forward(pd).execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_WORKSPACE, workspace}});
        strm.wait();
        std::vector<float> ours(c);
        maxpool2x2_forward(x, ours.data(), 1, 2, 2, c);
        nan_rule = "A 2x2 window of 0.5s holding one NaN pools to " +
                   std::to_string(static_cast<const float*>(dst.get_data_handle())[0]) + " in oneDNN and to " +
                   std::to_string(ours[0]) + " in the engine (PyTorch's rule: NaN).";
    }

    // Winograd against the engine's direct convolutions (conv2-4; the first layer has one input channel).
    const struct {
        int in, out, size;
    } convs[3] = {{w, w, 28}, {w, 2 * w, 14}, {2 * w, 2 * w, 14}};
    for (int u = 0; u < 3; ++u) {
        const auto s = convs[u];
        FlatParameters params(1 << 16);
        ConvLayer conv(Conv2d{s.in, s.out, 3, 1, 1}, params);
        conv.init_pytorch_default(rng);
        const std::size_t plane = std::size_t(s.size) * s.size;
        const AlignedFloats x = random_aligned(batch * s.in * plane, rng), dy = random_aligned(batch * s.out * plane, rng);
        AlignedFloats y(dy.size()), dx(x.size());
        const Extent extent{s.size, s.size};
        const double ours = best_of(repeats, [&] {
            conv.forward(x.data(), Layout::nhwc, batch, extent, y.data());
            conv.backward(x.data(), Layout::nhwc, batch, extent, dy.data(), dx.data());
        });
        std::string name = "conv" + std::to_string(u + 2) + " " + std::to_string(s.in) + "->" + std::to_string(s.out) +
                           " " + std::to_string(s.size) + "x" + std::to_string(s.size) +
                           " forward + backward, Winograd F(4x4, 3x3)";
        try {
            const auto any = memory::format_tag::any;
            const memory::desc src_md({batch, s.in, s.size, s.size}, memory::data_type::f32, any);
            const memory::desc wei_md({s.out, s.in, 3, 3}, memory::data_type::f32, any);
            const memory::desc dst_md({batch, s.out, s.size, s.size}, memory::data_type::f32, any);
            const memory::dims strides{1, 1}, pad{1, 1};
            const auto alg = algorithm::convolution_winograd;
            const convolution_forward::primitive_desc fwd_pd(
                convolution_forward::desc(prop_kind::forward_training, alg, src_md, wei_md, dst_md, strides, pad, pad), eng);
            const convolution_backward_data::primitive_desc bwd_data_pd(
                convolution_backward_data::desc(alg, src_md, wei_md, dst_md, strides, pad, pad), eng, fwd_pd);
            const convolution_backward_weights::primitive_desc bwd_weights_pd(
                convolution_backward_weights::desc(alg, src_md, wei_md, dst_md, strides, pad, pad), eng, fwd_pd);
            memory src(fwd_pd.src_desc(), eng), wei(fwd_pd.weights_desc(), eng), dst(fwd_pd.dst_desc(), eng);
            memory diff_dst(bwd_weights_pd.diff_dst_desc(), eng), diff_src(bwd_data_pd.diff_src_desc(), eng);
            memory diff_wei(bwd_weights_pd.diff_weights_desc(), eng);
            memory diff_dst_for_data(bwd_data_pd.diff_dst_desc(), eng), wei_for_data(bwd_data_pd.weights_desc(), eng);
            fill(src), fill(wei), fill(diff_dst), fill(diff_dst_for_data), fill(wei_for_data);
            convolution_forward fwd(fwd_pd);
            convolution_backward_data bwd_data(bwd_data_pd);
            convolution_backward_weights bwd_weights(bwd_weights_pd);
            const double theirs = best_of(repeats, [&] {
                fwd.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
                bwd_data.execute(strm, {{DNNL_ARG_DIFF_DST, diff_dst_for_data}, {DNNL_ARG_WEIGHTS, wei_for_data},
                                        {DNNL_ARG_DIFF_SRC, diff_src}});
                bwd_weights.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_WEIGHTS, diff_wei}});
                strm.wait();
            });
            row(name + " (" + fwd_pd.impl_info_str() + ")", ours, theirs);
        } catch (const dnnl::error& e) {
            std::printf("| %s | %.3f | unavailable on this CPU (%s) | |\n", name.c_str(), ours * 1e3, e.what());
        }
    }
    std::printf("\n%s\n\n", nan_rule.c_str());
    omp_set_num_threads(previous_threads);
}

}  // namespace

int main(int argc, char** argv) {
    std::string expr = "relu(x)";
    int repeats = 20;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--activation") == 0 && i + 1 < argc) expr = argv[++i];
        else if (std::strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) repeats = std::max(1, std::atoi(argv[++i]));
        else {
            std::fprintf(stderr, "usage: bench_layers [--activation EXPR] [--repeats N]\n");
            return 2;
        }
    }
    const ParseResult parsed = parse(expr);
    if (!parsed.ok()) {
        std::fprintf(stderr, "bench_layers: %s\n", parsed.error().message.c_str());
        return 2;
    }
    const Program activation(parsed.expr());
    const double peak = fma_peak_gflops();
    std::printf("Single-core fp32 FMA peak, measured (12 chains of 16-float FMAs, thread CPU time): **%.0f GFLOP/s**; "
                "activation `%s`\n\n",
                peak, expr.c_str());
    cnn_breakdown(activation, repeats, peak);
    mlp_breakdown(activation, repeats, peak);
    onednn_alternatives(repeats);
    return 0;
}
