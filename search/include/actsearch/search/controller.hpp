// The RL strategy's policy: the controller of Zoph & Le (2017) as used by Ramachandran et al. (2017).
// A one-layer LSTM emits a candidate token by token; the input at step t is a learned embedding of
// (t - 1, token t - 1) (a start embedding at t = 0); a linear softmax head per position covers exactly
// that position's allowed values, so no masking is needed. Forward and backward (BPTT) are written
// out over one flat parameter buffer, in double precision: the network is tiny (a few tens of
// thousands of parameters), a policy update costs milliseconds, and the gradient check is exact.
// Public for the tests (gradient check) and for anyone inspecting a trained controller.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "actsearch/search/choice_shape.hpp"

namespace actsearch::search {

class Controller {
public:
    // Weights drawn from `seed`; the heads start at zero, so the untrained policy is uniform.
    Controller(const ChoiceShape& shape, int hidden, std::uint64_t seed);

    std::size_t tokens() const noexcept { return arities_.size(); }
    int hidden() const noexcept { return hidden_; }
    std::span<double> parameters() noexcept { return parameters_; }
    std::span<const double> parameters() const noexcept { return parameters_; }

    // A named slice of parameters() (embedding, LSTM weights and bias, heads).
    struct Block {
        std::string name;
        std::size_t offset = 0;
        std::size_t size = 0;
    };
    std::vector<Block> blocks() const;

    struct Sample {
        Space::Choice choice;
        double log_prob = 0.0;  // under the policy itself, whatever the sampling temperature
    };
    // Draws a choice by inverting each step's CDF at uniforms[t] (one uniform in [0, 1) per token).
    // Logits are multiplied by inverse_temperature before the softmax: 1 samples the policy, 0.5
    // flattens it, 0 is uniform.
    // allowed (optional): whether token value v may follow the prefix (the tokens before t); masked
    // values get probability 0 and the rest are renormalised (sampling without replacement). The
    // returned log_prob stays the policy's own, unmasked. Throws std::logic_error if a step has no
    // allowed value.
    using Mask = std::function<bool(std::size_t t, std::span<const std::uint32_t> prefix, std::uint32_t v)>;
    Sample sample(std::span<const double> uniforms, double inverse_temperature = 1.0, const Mask& allowed = {}) const;

    double log_prob(const Space::Choice& c) const;

    // A PPO batch: sampled choices, their log-probabilities when sampled, their advantages.
    struct Batch {
        std::vector<Space::Choice> choices;
        std::vector<double> old_log_probs;
        std::vector<double> advantages;
    };
    // The PPO loss (to minimise) over the batch,
    //   -mean_i [ min(r_i A_i, clamp(r_i, 1 - clip, 1 + clip) A_i) + entropy_weight * H_i ],
    // r_i = exp(log_prob_i - old_log_prob_i), H_i the sum of the step entropies along choice i.
    // Writes its gradient with respect to parameters() into grad (same size).
    double ppo_loss(const Batch& batch, double clip, double entropy_weight, std::span<double> grad) const;

private:
    struct Step;
    std::vector<Step> forward(const Space::Choice& c) const;
    void forward_step(std::size_t t, std::size_t input_row, const Step* previous, Step& step) const;
    std::size_t input_row(std::size_t t, std::uint32_t previous_token) const;

    std::vector<std::uint32_t> arities_;
    int hidden_;
    // Offsets into parameters_ (llm.c style: one allocation, blocks pointed into it).
    std::size_t embedding_ = 0, input_weight_ = 0, hidden_weight_ = 0, gate_bias_ = 0;
    std::size_t head_weight_ = 0, head_bias_ = 0;
    std::vector<std::size_t> input_row_base_;  // first embedding row of step t's inputs (t >= 1)
    std::vector<std::size_t> head_row_base_;   // first head row (logit) of position t
    std::size_t embedding_rows_ = 0, head_rows_ = 0;
    std::vector<double> parameters_;
};

}  // namespace actsearch::search
