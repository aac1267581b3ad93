#include "actsearch/search/controller.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <Eigen/Core>
#include <fmt/format.h>

#include "actsearch/numeric/rng.hpp"

namespace actsearch::search {
namespace {

using Vector = Eigen::VectorXd;
using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixView = Eigen::Map<const RowMajorMatrix>;
using MatrixGrad = Eigen::Map<RowMajorMatrix>;
using VectorView = Eigen::Map<const Vector>;
using VectorGrad = Eigen::Map<Vector>;

// Zoph & Le initialise the controller uniformly in [-0.08, 0.08].
constexpr double kInitScale = 0.08;
constexpr int kMaxHidden = 1024;

// Elementwise exp through std::exp, as the controller has always computed it: its trajectories and saved
// states depend on these bits (Eigen's vectorised exp rounds differently), and the vectors are a few
// dozen long.
template <typename Expression>
Vector exp(const Expression& x) {
    return x.unaryExpr([](double v) { return std::exp(v); });
}

Vector sigmoid(const Vector& x) { return (1.0 + exp(-x).array()).inverse().matrix(); }

}  // namespace

// One LSTM step's activations, kept for the backward pass.
struct Controller::Step {
    std::size_t input_row = 0;
    Vector gates;      // input, forget, cell candidate, output: after their nonlinearities (4H)
    Vector cell;       // c_t
    Vector cell_tanh;  // tanh(c_t)
    Vector hidden;     // h_t = o * tanh(c_t)
    Vector log_probs;  // log-softmax of position t's head
};

Controller::Controller(const ChoiceShape& shape, int hidden, std::uint64_t seed)
    : arities_(shape.arities()), hidden_(hidden) {
    if (hidden < 1 || hidden > kMaxHidden)
        throw std::invalid_argument(fmt::format("rl: hidden size {} outside [1, {}]", hidden, kMaxHidden));
    const auto h = static_cast<std::size_t>(hidden);
    const std::size_t n = arities_.size();

    input_row_base_.assign(n, 0);
    embedding_rows_ = 1;  // row 0: the start input of step 0
    for (std::size_t t = 1; t < n; ++t) {
        input_row_base_[t] = embedding_rows_;
        embedding_rows_ += arities_[t - 1];
    }
    head_row_base_.assign(n, 0);
    for (std::size_t t = 0; t < n; ++t) {
        head_row_base_[t] = head_rows_;
        head_rows_ += arities_[t];
    }

    embedding_ = 0;
    input_weight_ = embedding_ + embedding_rows_ * h;
    hidden_weight_ = input_weight_ + 4 * h * h;
    gate_bias_ = hidden_weight_ + 4 * h * h;
    head_weight_ = gate_bias_ + 4 * h;
    head_bias_ = head_weight_ + head_rows_ * h;
    parameters_.assign(head_bias_ + head_rows_, 0.0);

    numeric::Mt64 rng(seed);
    for (std::size_t i = embedding_; i < gate_bias_; ++i) parameters_[i] = kInitScale * (2.0 * rng.uniform() - 1.0);
    // Forget-gate bias 1: remember by default (Jozefowicz et al. 2015).
    std::fill_n(parameters_.begin() + static_cast<std::ptrdiff_t>(gate_bias_ + h), h, 1.0);
    // Heads stay zero: every position starts uniform, so the first batch is an unbiased random sample.
}

std::vector<Controller::Block> Controller::blocks() const {
    return {{"embedding", embedding_, input_weight_ - embedding_},
            {"lstm.input_weight", input_weight_, hidden_weight_ - input_weight_},
            {"lstm.hidden_weight", hidden_weight_, gate_bias_ - hidden_weight_},
            {"lstm.bias", gate_bias_, head_weight_ - gate_bias_},
            {"head.weight", head_weight_, head_bias_ - head_weight_},
            {"head.bias", head_bias_, parameters_.size() - head_bias_}};
}

std::size_t Controller::input_row(std::size_t t, std::uint32_t previous_token) const {
    return t == 0 ? 0 : input_row_base_[t] + previous_token;
}

void Controller::forward_step(std::size_t t, std::size_t input_row, const Step* previous, Step& step) const {
    const auto h = static_cast<Eigen::Index>(hidden_);
    const auto arity = static_cast<Eigen::Index>(arities_[t]);
    const double* p = parameters_.data();

    step.input_row = input_row;
    step.gates = MatrixView(p + input_weight_, 4 * h, h) * VectorView(p + embedding_ + input_row * h, h) +
                 VectorView(p + gate_bias_, 4 * h);
    if (previous) step.gates.noalias() += MatrixView(p + hidden_weight_, 4 * h, h) * previous->hidden;
    step.gates.head(2 * h) = sigmoid(step.gates.head(2 * h));
    step.gates.segment(2 * h, h) = step.gates.segment(2 * h, h).array().tanh().matrix();
    step.gates.tail(h) = sigmoid(step.gates.tail(h));

    const auto in = step.gates.segment(0, h), forget = step.gates.segment(h, h);
    const auto candidate = step.gates.segment(2 * h, h), out = step.gates.segment(3 * h, h);
    step.cell = in.cwiseProduct(candidate);
    if (previous) step.cell += forget.cwiseProduct(previous->cell);
    step.cell_tanh = step.cell.array().tanh().matrix();
    step.hidden = out.cwiseProduct(step.cell_tanh);

    const auto row = static_cast<Eigen::Index>(head_row_base_[t]);
    Vector logits = MatrixView(p + head_weight_ + row * h, arity, h) * step.hidden +
                    VectorView(p + head_bias_ + row, arity);
    const double max_logit = logits.maxCoeff();
    const double log_sum = max_logit + std::log(exp(logits.array() - max_logit).sum());
    step.log_probs = logits.array() - log_sum;
}

std::vector<Controller::Step> Controller::forward(const Space::Choice& c) const {
    std::vector<Step> steps(tokens());
    for (std::size_t t = 0; t < steps.size(); ++t)
        forward_step(t, input_row(t, t ? c[t - 1] : 0), t ? &steps[t - 1] : nullptr, steps[t]);
    return steps;
}

Controller::Sample Controller::sample(std::span<const double> uniforms, double inverse_temperature,
                                      const Mask& allowed) const {
    if (uniforms.size() != tokens())
        throw std::invalid_argument(fmt::format("controller: {} uniforms for {} tokens", uniforms.size(), tokens()));
    Sample s;
    s.choice.resize(tokens());
    Step previous, current;
    for (std::size_t t = 0; t < tokens(); ++t) {
        forward_step(t, input_row(t, t ? s.choice[t - 1] : 0), t ? &previous : nullptr, current);
        // log_probs differ from the logits by a constant, so they can stand in for them here.
        const Vector scaled = inverse_temperature * current.log_probs;
        // Shifted by the largest *allowed* value: when a masked value dominates by more than exp's range
        // (a peaked policy whose favourite subtree is used up, seen on paper-core2), the allowed values
        // keep their relative probabilities instead of all underflowing to 0.
        std::vector<bool> ok(arities_[t], true);
        double top = -std::numeric_limits<double>::infinity();
        for (std::uint32_t k = 0; k < arities_[t]; ++k) {
            if (allowed) ok[k] = allowed(t, std::span<const std::uint32_t>(s.choice.data(), t), k);
            if (ok[k]) top = std::max(top, scaled[k]);
        }
        if (!(top > -std::numeric_limits<double>::infinity()))
            throw std::logic_error("controller: every value of a step is masked");
        Vector probs(arities_[t]);
        for (std::uint32_t k = 0; k < arities_[t]; ++k) probs[k] = ok[k] ? std::exp(scaled[k] - top) : 0.0;
        probs /= probs.sum();
        // Inverse CDF; rounding can leave the total a hair below u, then take the last possible value.
        std::uint32_t token = arities_[t] - 1;
        while (token > 0 && probs[token] == 0.0) --token;
        double cumulative = 0.0;
        for (std::uint32_t k = 0; k < arities_[t]; ++k) {
            cumulative += probs[k];
            if (uniforms[t] < cumulative) {
                token = k;
                break;
            }
        }
        s.choice[t] = token;
        s.log_prob += current.log_probs[token];
        std::swap(previous, current);
    }
    return s;
}

double Controller::log_prob(const Space::Choice& c) const {
    ChoiceShape(arities_).check(c, "controller");
    double total = 0.0;
    const auto steps = forward(c);
    for (std::size_t t = 0; t < steps.size(); ++t) total += steps[t].log_probs[c[t]];
    return total;
}

double Controller::ppo_loss(const Batch& batch, double clip, double entropy_weight, std::span<double> grad) const {
    const std::size_t batch_size = batch.choices.size();
    if (batch.old_log_probs.size() != batch_size || batch.advantages.size() != batch_size)
        throw std::invalid_argument("controller: batch fields differ in length");
    if (grad.size() != parameters_.size())
        throw std::invalid_argument("controller: gradient buffer of the wrong size");
    std::fill(grad.begin(), grad.end(), 0.0);
    if (batch_size == 0) return 0.0;

    const auto h = static_cast<Eigen::Index>(hidden_);
    const double* p = parameters_.data();
    double* g = grad.data();
    const MatrixView input_weight(p + input_weight_, 4 * h, h), hidden_weight(p + hidden_weight_, 4 * h, h);
    MatrixGrad d_input_weight(g + input_weight_, 4 * h, h), d_hidden_weight(g + hidden_weight_, 4 * h, h);
    VectorGrad d_gate_bias(g + gate_bias_, 4 * h);
    const double scale = 1.0 / static_cast<double>(batch_size);

    double loss = 0.0;
    Vector d_hidden_next(h), d_cell_next(h), d_gates(4 * h);
    for (std::size_t i = 0; i < batch_size; ++i) {
        const Space::Choice& c = batch.choices[i];
        const auto steps = forward(c);

        double log_prob = 0.0, entropy = 0.0;
        for (std::size_t t = 0; t < steps.size(); ++t) {
            log_prob += steps[t].log_probs[c[t]];
            entropy -= (exp(steps[t].log_probs).array() * steps[t].log_probs.array()).sum();
        }
        const double advantage = batch.advantages[i];
        const double ratio = std::exp(log_prob - batch.old_log_probs[i]);
        const double unclipped = ratio * advantage;
        const double clipped = std::clamp(ratio, 1.0 - clip, 1.0 + clip) * advantage;
        loss -= scale * (std::min(unclipped, clipped) + entropy_weight * entropy);
        // d(objective)/d(log_prob): the clipped branch is flat in the parameters.
        const double d_log_prob = unclipped <= clipped ? unclipped : 0.0;

        d_hidden_next.setZero();
        d_cell_next.setZero();
        for (std::size_t t = steps.size(); t-- > 0;) {
            const Step& s = steps[t];
            const Step* previous = t ? &steps[t - 1] : nullptr;
            const auto arity = static_cast<Eigen::Index>(arities_[t]);
            const auto row = static_cast<Eigen::Index>(head_row_base_[t]);

            // Softmax head: d(loss)/d(logits) of the surrogate and of the entropy bonus,
            // d(-H)/dz_k = p_k (log p_k + H).
            const Vector probs = exp(s.log_probs);
            const double step_entropy = -(probs.array() * s.log_probs.array()).sum();
            Vector d_logits = scale * (d_log_prob * probs.array() +
                                       entropy_weight * probs.array() * (s.log_probs.array() + step_entropy))
                                          .matrix();
            d_logits[c[t]] -= scale * d_log_prob;

            MatrixGrad(g + head_weight_ + row * h, arity, h).noalias() += d_logits * s.hidden.transpose();
            VectorGrad(g + head_bias_ + row, arity) += d_logits;
            const Vector d_hidden =
                MatrixView(p + head_weight_ + row * h, arity, h).transpose() * d_logits + d_hidden_next;

            // LSTM cell, backwards.
            const auto in = s.gates.segment(0, h), forget = s.gates.segment(h, h);
            const auto candidate = s.gates.segment(2 * h, h), out = s.gates.segment(3 * h, h);
            const Vector d_cell =
                (d_hidden.array() * out.array() * (1.0 - s.cell_tanh.array().square()) + d_cell_next.array())
                    .matrix();
            d_gates.segment(0, h) = (d_cell.array() * candidate.array() * in.array() * (1.0 - in.array())).matrix();
            if (previous)
                d_gates.segment(h, h) =
                    (d_cell.array() * previous->cell.array() * forget.array() * (1.0 - forget.array())).matrix();
            else
                d_gates.segment(h, h).setZero();
            d_gates.segment(2 * h, h) = (d_cell.array() * in.array() * (1.0 - candidate.array().square())).matrix();
            d_gates.segment(3 * h, h) =
                (d_hidden.array() * s.cell_tanh.array() * out.array() * (1.0 - out.array())).matrix();
            d_cell_next = d_cell.cwiseProduct(forget);

            d_input_weight.noalias() +=
                d_gates * VectorView(p + embedding_ + s.input_row * h, h).transpose();
            d_gate_bias += d_gates;
            VectorGrad(g + embedding_ + s.input_row * h, h).noalias() += input_weight.transpose() * d_gates;
            if (previous) {
                d_hidden_weight.noalias() += d_gates * previous->hidden.transpose();
                d_hidden_next.noalias() = hidden_weight.transpose() * d_gates;
            } else {
                d_hidden_next.setZero();
            }
        }
    }
    return loss;
}

}  // namespace actsearch::search
