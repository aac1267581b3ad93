// Forward + backward throughput of the compiled evaluator beside hand-written fused C++ loops for the
// same functions, on the proxy MLP's hidden activation ([128 x 128], one beta per unit).
// Run through scripts/bench_evaluator.sh, which prints the hand-written / actsearch time ratios.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "actsearch/grammar/expr.hpp"
#include "actsearch/grammar/program.hpp"

namespace {

using actsearch::ActShape;
using actsearch::Expr;
using actsearch::Op;
using actsearch::Program;
using actsearch::make_beta;
using actsearch::make_binary;
using actsearch::make_leaf_x;
using actsearch::make_unary;

constexpr ActShape kShape{.outer = 128, .channels = 128, .inner = 1};

struct Tensors {
    std::vector<float> x, y, dy, dx, beta, dbeta;
    Tensors()
        : x(kShape.size()), y(kShape.size()), dy(kShape.size()), dx(kShape.size()), beta(kShape.channels),
          dbeta(kShape.channels) {
        for (std::size_t i = 0; i < x.size(); ++i) {
            x[i] = 4.0f * std::sin(0.731f * static_cast<float>(i));
            dy[i] = std::cos(0.377f * static_cast<float>(i));
        }
        for (std::size_t c = 0; c < beta.size(); ++c) beta[c] = 0.5f + 0.01f * static_cast<float>(c);
    }
};

// ---- The expressions -----------------------------------------------------------------------------

Expr relu_expr() { return make_unary(Op::Relu, make_leaf_x()); }

Expr swish_beta_expr() {  // x * sigmoid(beta * x)
    return make_binary(Op::Mul, make_leaf_x(),
                       make_unary(Op::Sigmoid, make_binary(Op::Mul, make_beta(), make_leaf_x())));
}

Expr hard_swish_expr() { return make_unary(Op::HardSwish, make_leaf_x()); }

Expr two_unit_expr() {  // max(x, tanh(x)) * sigmoid(beta * (x + cos(x)))
    const Expr first = make_binary(Op::Max, make_leaf_x(), make_unary(Op::Tanh, make_leaf_x()));
    const Expr inner = make_binary(Op::Add, make_leaf_x(), make_unary(Op::Cos, make_leaf_x()));
    return make_binary(Op::Mul, first, make_unary(Op::Sigmoid, make_binary(Op::Mul, make_beta(), inner)));
}

Expr sin_expr() { return make_unary(Op::Sin, make_leaf_x()); }

Expr cos_minus_x_expr() { return make_binary(Op::Sub, make_unary(Op::Cos, make_leaf_x()), make_leaf_x()); }

void run_program(benchmark::State& state, const Expr& e) {
    const Program program(e);
    Tensors t;
    const float* beta = program.beta_count() > 0 ? t.beta.data() : nullptr;
    float* dbeta = program.beta_count() > 0 ? t.dbeta.data() : nullptr;
    for (auto _ : state) {
        program.forward(t.x.data(), t.y.data(), beta, kShape);
        program.backward(t.x.data(), t.dy.data(), t.dx.data(), beta, dbeta, kShape);
        benchmark::DoNotOptimize(t.y.data());
        benchmark::DoNotOptimize(t.dx.data());
        benchmark::DoNotOptimize(t.dbeta.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kShape.size()));
}

// ---- Hand-written fused loops: what a user would write for one known activation ------------------

// fn(x, dy, beta, &y, &dx, &dbeta_term) for every element; dbeta accumulated per channel.
template <class Fn>
void run_fused(benchmark::State& state, Fn fn) {
    Tensors t;
    for (auto _ : state) {
        for (std::size_t o = 0; o < kShape.outer; ++o) {
            const std::size_t base = o * kShape.channels;
            for (std::size_t c = 0; c < kShape.channels; ++c) {
                float dbeta_term = 0.0f;
                fn(t.x[base + c], t.dy[base + c], t.beta[c], t.y[base + c], t.dx[base + c], dbeta_term);
                t.dbeta[c] += dbeta_term;
            }
        }
        benchmark::DoNotOptimize(t.y.data());
        benchmark::DoNotOptimize(t.dx.data());
        benchmark::DoNotOptimize(t.dbeta.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kShape.size()));
}

void BM_relu_actsearch(benchmark::State& state) { run_program(state, relu_expr()); }
void BM_relu_handwritten(benchmark::State& state) {
    run_fused(state, [](float x, float dy, float, float& y, float& dx, float&) {
        y = x > 0.0f ? x : 0.0f;
        dx = x > 0.0f ? dy : 0.0f;
    });
}

void BM_swish_beta_actsearch(benchmark::State& state) { run_program(state, swish_beta_expr()); }
void BM_swish_beta_handwritten(benchmark::State& state) {
    run_fused(state, [](float x, float dy, float beta, float& y, float& dx, float& dbeta) {
        const float s = 1.0f / (1.0f + std::exp(-beta * x));
        const float ds = s * (1.0f - s);
        y = x * s;
        dx = dy * (s + beta * x * ds);
        dbeta = dy * x * x * ds;
    });
}

void BM_hard_swish_actsearch(benchmark::State& state) { run_program(state, hard_swish_expr()); }
void BM_hard_swish_handwritten(benchmark::State& state) {
    run_fused(state, [](float x, float dy, float, float& y, float& dx, float&) {
        y = x * std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f;
        dx = x <= -3.0f ? 0.0f : (x < 3.0f ? dy * (2.0f * x + 3.0f) / 6.0f : dy);
    });
}

void BM_two_unit_actsearch(benchmark::State& state) { run_program(state, two_unit_expr()); }
void BM_two_unit_handwritten(benchmark::State& state) {
    run_fused(state, [](float x, float dy, float beta, float& y, float& dx, float& dbeta) {
        const float t = std::tanh(x);
        const bool take_x = x >= t;
        const float m = take_x ? x : t;
        const float dm = take_x ? 1.0f : 1.0f - t * t;
        const float u = x + std::cos(x);
        const float du = 1.0f - std::sin(x);
        const float s = 1.0f / (1.0f + std::exp(-beta * u));
        const float ds = s * (1.0f - s);
        y = m * s;
        dx = dy * (dm * s + m * ds * beta * du);
        dbeta = dy * m * ds * u;
    });
}

void BM_sin_actsearch(benchmark::State& state) { run_program(state, sin_expr()); }
void BM_sin_handwritten(benchmark::State& state) {
    run_fused(state, [](float x, float dy, float, float& y, float& dx, float&) {
        y = std::sin(x);
        dx = dy * std::cos(x);
    });
}

void BM_cos_minus_x_actsearch(benchmark::State& state) { run_program(state, cos_minus_x_expr()); }
void BM_cos_minus_x_handwritten(benchmark::State& state) {
    run_fused(state, [](float x, float dy, float, float& y, float& dx, float&) {
        y = std::cos(x) - x;
        dx = dy * (-std::sin(x) - 1.0f);
    });
}

BENCHMARK(BM_relu_handwritten);
BENCHMARK(BM_relu_actsearch);
BENCHMARK(BM_swish_beta_handwritten);
BENCHMARK(BM_swish_beta_actsearch);
BENCHMARK(BM_hard_swish_handwritten);
BENCHMARK(BM_hard_swish_actsearch);
BENCHMARK(BM_two_unit_handwritten);
BENCHMARK(BM_two_unit_actsearch);
BENCHMARK(BM_sin_handwritten);
BENCHMARK(BM_sin_actsearch);
BENCHMARK(BM_cos_minus_x_handwritten);
BENCHMARK(BM_cos_minus_x_actsearch);

}  // namespace

BENCHMARK_MAIN();
