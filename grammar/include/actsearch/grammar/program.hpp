// Compiled evaluator: an Expr becomes a flat register program run over blocks of floats, one dispatch
// per instruction per block. This is what the proxy networks call for every activation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "actsearch/grammar/expr.hpp"

namespace actsearch {

// Layout of an activation tensor: element (o, c, i) is at ((o * channels) + c) * inner + i.
// Dense layers: outer = batch, channels = units, inner = 1. Conv layers: inner = H*W.
struct ActShape {
    std::size_t outer = 1;
    std::size_t channels = 1;
    std::size_t inner = 1;
    std::size_t size() const noexcept { return outer * channels * inner; }
};

class Program {
public:
    explicit Program(const Expr& e);   // any well-formed Expr whose X leaves all have index 0
    ~Program();
    Program(const Program&);
    Program& operator=(const Program&);
    Program(Program&&) noexcept;
    Program& operator=(Program&&) noexcept;

    int beta_count() const noexcept;
    // Initial value of each beta (Expr::beta_initial_values in float): what a network's per-channel
    // betas start at, and the betas to pass to see the function as it starts training.
    const std::vector<float>& beta_initial_values() const noexcept;

    // y = f(x). beta: beta_count() * channels values, beta k of channel c at beta[k * channels + c].
    // Thread-safe: each call uses its own stack/thread-local scratch; no allocation in steady state.
    void forward(const float* x, float* y, const float* beta, ActShape shape) const;

    // dx = dy * f'(x); dbeta[k * channels + c] += sum over that channel of dy * df/dbeta_k.
    // dbeta may be null when beta_count() == 0.
    void backward(const float* x, const float* dy, float* dx, const float* beta, float* dbeta,
                  ActShape shape) const;

    // Convenience for a single channel with scalar betas (tests, plots, export checks).
    void eval(const float* x, float* y, std::size_t n, const float* beta = nullptr) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace actsearch
