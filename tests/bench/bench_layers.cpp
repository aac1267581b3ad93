// Where a training step's time goes: each layer of the fmnist-cnn and fmnist-mlp training steps
// (batch 128) timed on its own, in thread CPU time (CLOCK_THREAD_CPUTIME_ID: robust on a shared
// machine), with the FLOPs it performs, against the measured single-core FMA peak. A benchmark, not a
// test: scripts/bench_engine.sh runs it and prints its markdown.
//   bench_layers [--activation EXPR] [--repeats N]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

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
    return 0;
}
