// The RL strategy of Ramachandran et al. (2017): an LSTM controller samples candidates token by token
// and is trained with PPO (clipped surrogate, entropy bonus, advantage = reward - moving-average
// baseline) on every batch of observed rewards, several epochs per batch, with Adam.
//
// Sampling is with replacement, as in the paper: a candidate proposed before is proposed again (the
// driver answers it from the stored reward, without training) and still counts in the PPO batch. A
// controller that has converged would then propose only known candidates; to keep finding new ones,
// after `batch` consecutive already-proposed samples the next samples are drawn at temperature 2,
// and after 2 * `batch` uniformly, until a new candidate comes out. Such samples keep the policy's own
// log-probability as their PPO "old" log-probability (exploration, not a behaviour policy to correct
// for). When every candidate of the space has been proposed, propose() returns nothing.
#include <algorithm>
#include <cmath>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "actsearch/search/controller.hpp"
#include "blob.hpp"
#include "strategies.hpp"

namespace actsearch::search {
namespace {

constexpr std::uint32_t kStateVersion = 2;

// Adam (Kingma & Ba 2015) over a flat buffer, with bias correction.
struct Adam {
    double learning_rate = 3e-3;
    double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
    std::uint64_t steps = 0;
    std::vector<double> first_moment, second_moment;

    void step(std::span<double> parameters, std::span<const double> grad) {
        if (first_moment.empty()) {
            first_moment.assign(parameters.size(), 0.0);
            second_moment.assign(parameters.size(), 0.0);
        }
        ++steps;
        const double correction1 = 1.0 - std::pow(beta1, static_cast<double>(steps));
        const double correction2 = 1.0 - std::pow(beta2, static_cast<double>(steps));
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            first_moment[i] = beta1 * first_moment[i] + (1.0 - beta1) * grad[i];
            second_moment[i] = beta2 * second_moment[i] + (1.0 - beta2) * grad[i] * grad[i];
            parameters[i] -= learning_rate * (first_moment[i] / correction1) /
                             (std::sqrt(second_moment[i] / correction2) + epsilon);
        }
    }
};

// completions[length]: the candidates sharing a prefix of that many tokens.
std::vector<std::uint64_t> completions(const ChoiceShape& shape) {
    std::vector<std::uint64_t> out(shape.tokens() + 1, 1);
    for (std::size_t length = shape.tokens(); length-- > 0;) out[length] = out[length + 1] * shape.arity(length);
    return out;
}

// A proposal of the controller: its tokens and log-probability when sampled.
struct Proposal {
    Choice choice;
    double log_prob = 0.0;
};

class ReinforcementLearning final : public Strategy {
public:
    ReinforcementLearning(ChoiceShape shape, const StrategyOptions& options)
        // The weights get their own stream (seed mixed with the golden-ratio constant), so that the
        // sampling stream is the same whatever the network size.
        : shape_(std::move(shape)), options_(options),
          controller_(shape_, options.hidden, options.seed ^ 0x9e3779b97f4a7c15ull), rng_(options.seed) {
        adam_.learning_rate = options.learning_rate;
    }

    const char* name() const noexcept override { return "rl"; }

    std::vector<Choice> propose(std::size_t n) override {
        std::vector<Choice> out;
        std::vector<double> uniforms(shape_.tokens());
        // Without replacement: a value is masked when every candidate below its prefix was proposed.
        const Controller::Mask unexhausted = [this](std::size_t t, std::span<const std::uint32_t> prefix,
                                                    std::uint32_t v) {
            const auto& counts = prefix_counts_[t + 1];
            const auto it = counts.find(prefix_index(t + 1, prefix, v));
            return it == counts.end() || it->second < completions_[t + 1];
        };
        while (out.size() < n && proposed_.size() < shape_.count()) {
            for (auto& u : uniforms) u = rng_.uniform();
            auto sample = controller_.sample(uniforms, 1.0, unexhausted);
            mark_proposed(shape_.encode(sample.choice));
            pending_.push_back({sample.choice, sample.log_prob});
            out.push_back(std::move(sample.choice));
        }
        return out;
    }

    void observe(const Choice& c, double reward) override {
        check_observation(shape_, c, reward, "rl: observe");
        const auto it = std::find_if(pending_.begin(), pending_.end(), [&](const Proposal& p) { return p.choice == c; });
        if (it == pending_.end()) throw std::invalid_argument("rl: observe: the choice is not awaiting a reward");
        batch_.choices.push_back(c);
        batch_.old_log_probs.push_back(it->log_prob);
        rewards_.push_back(reward);
        pending_.erase(it);
        if (rewards_.size() >= options_.batch) update();
    }

    std::string save() const override {
        BlobWriter out(name(), kStateVersion);
        save_shape(out, shape_);
        out.u64(static_cast<std::uint64_t>(options_.hidden));
        out.bytes(rng_.state());
        out.f64s({controller_.parameters().begin(), controller_.parameters().end()});
        out.u64(adam_.steps);
        out.f64s(adam_.first_moment);
        out.f64s(adam_.second_moment);
        out.u64(baseline_ready_);
        out.f64(baseline_);
        out.u64(pending_.size());
        for (const auto& p : pending_) {
            out.u64(shape_.encode(p.choice));
            out.f64(p.log_prob);
        }
        out.u64(rewards_.size());
        for (std::size_t i = 0; i < rewards_.size(); ++i) {
            out.u64(shape_.encode(batch_.choices[i]));
            out.f64(batch_.old_log_probs[i]);
            out.f64(rewards_[i]);
        }
        out.index_set({proposed_.begin(), proposed_.end()});
        return std::move(out).finish();
    }

    void load(const std::string& blob) override {
        BlobReader in(blob, name(), kStateVersion);
        expect_shape(in, shape_);
        if (in.u64() != static_cast<std::uint64_t>(options_.hidden)) in.fail("it was saved with another hidden size");
        Rng rng = read_rng(in, rng_);
        const auto parameters = in.f64s();
        if (parameters.size() != controller_.parameters().size()) in.fail("controller of another size");
        Adam adam = adam_;
        adam.steps = in.u64();
        adam.first_moment = in.f64s();
        adam.second_moment = in.f64s();
        if (adam.first_moment.size() != adam.second_moment.size() ||
            (!adam.first_moment.empty() && adam.first_moment.size() != parameters.size()))
            in.fail("optimiser state of another size");
        const bool baseline_ready = in.u64() != 0;
        const double baseline = in.f64();
        auto read_choice = [&] {
            const auto index = in.u64();
            if (index >= shape_.count()) in.fail("candidate index outside the space");
            return shape_.decode(index);
        };
        std::deque<Proposal> pending(in.count(shape_.count()));
        for (auto& p : pending) {
            p.choice = read_choice();
            p.log_prob = in.f64();
        }
        Controller::Batch batch;
        std::vector<double> rewards(in.count(options_.batch));
        for (auto& r : rewards) {
            batch.choices.push_back(read_choice());
            batch.old_log_probs.push_back(in.f64());
            r = in.f64();
        }
        const auto proposed = in.index_set();
        if (!proposed.empty() && proposed.back() >= shape_.count()) in.fail("candidate index outside the space");
        in.expect_end();
        if (!std::all_of(parameters.begin(), parameters.end(), [](double v) { return std::isfinite(v); }))
            in.fail("non-finite controller weights");

        rng_ = rng;
        std::copy(parameters.begin(), parameters.end(), controller_.parameters().begin());
        adam_ = std::move(adam);
        baseline_ready_ = baseline_ready;
        baseline_ = baseline;
        pending_ = std::move(pending);
        batch_ = std::move(batch);
        rewards_ = std::move(rewards);
        proposed_.clear();
        for (auto& counts : prefix_counts_) counts.clear();
        for (auto index : proposed) mark_proposed(index);
    }

private:
    // Mixed-radix index of the prefix (tokens 0..length-1) made of `prefix` (length - 1 tokens), then v.
    std::uint64_t prefix_index(std::size_t length, std::span<const std::uint32_t> prefix, std::uint32_t v) const {
        std::uint64_t index = 0;
        for (std::size_t t = 0; t + 1 < length; ++t) index = index * shape_.arity(t) + prefix[t];
        index = index * shape_.arity(length - 1) + v;
        return index;
    }

    void mark_proposed(std::uint64_t index) {
        if (!proposed_.insert(index).second) return;
        const Choice c = shape_.decode(index);
        for (std::size_t length = 1; length <= shape_.tokens(); ++length)
            ++prefix_counts_[length][prefix_index(length, std::span<const std::uint32_t>(c.data(), length - 1), c[length - 1])];
    }

    void update() {
        // The first batch sets the baseline, so its advantages are centred rather than all positive.
        if (!baseline_ready_) {
            baseline_ = 0.0;
            for (double r : rewards_) baseline_ += r / static_cast<double>(rewards_.size());
            baseline_ready_ = true;
        }
        batch_.advantages.clear();
        // Centred by the baseline, scaled by the batch's standard deviation: the step size no longer
        // depends on how spread the rewards of a task are, nor shrinks as the policy sharpens.
        double mean = 0.0, spread = 0.0;
        for (double r : rewards_) mean += r / static_cast<double>(rewards_.size());
        for (double r : rewards_) spread += (r - mean) * (r - mean) / static_cast<double>(rewards_.size());
        const double scale = 1.0 / (std::sqrt(spread) + 1e-3);
        for (double r : rewards_) batch_.advantages.push_back((r - baseline_) * scale);
        for (double r : rewards_) baseline_ = options_.baseline_decay * baseline_ + (1.0 - options_.baseline_decay) * r;

        std::vector<double> grad(controller_.parameters().size());
        for (int epoch = 0; epoch < options_.ppo_epochs; ++epoch) {
            controller_.ppo_loss(batch_, options_.clip, options_.entropy_weight, grad);
            adam_.step(controller_.parameters(), grad);
        }
        batch_ = {};
        rewards_.clear();
    }

    ChoiceShape shape_;
    StrategyOptions options_;
    Controller controller_;
    Adam adam_;
    Rng rng_;
    double baseline_ = 0.0;
    bool baseline_ready_ = false;
    std::deque<Proposal> pending_;           // proposed, reward not yet observed
    Controller::Batch batch_;                // observed since the last update (advantages set at update)
    std::vector<double> rewards_;
    std::unordered_set<std::uint64_t> proposed_;
    // Proposed candidates per prefix, and the number of candidates below a prefix of each length.
    std::vector<std::unordered_map<std::uint64_t, std::uint64_t>> prefix_counts_ =
        std::vector<std::unordered_map<std::uint64_t, std::uint64_t>>(shape_.tokens() + 1);
    std::vector<std::uint64_t> completions_ = completions(shape_);
};

}  // namespace

std::unique_ptr<Strategy> make_rl(ChoiceShape shape, const StrategyOptions& options) {
    if (options.batch == 0) throw std::invalid_argument("rl: batch must be at least 1");
    if (options.ppo_epochs < 1) throw std::invalid_argument("rl: ppo epochs must be at least 1");
    if (!(options.learning_rate > 0.0) || !std::isfinite(options.learning_rate))
        throw std::invalid_argument("rl: learning rate must be positive");
    if (!(options.clip > 0.0) || !(options.clip < 1.0)) throw std::invalid_argument("rl: clip must be in (0, 1)");
    if (!(options.entropy_weight >= 0.0) || !std::isfinite(options.entropy_weight))
        throw std::invalid_argument("rl: entropy weight must be non-negative");
    if (!(options.baseline_decay >= 0.0) || !(options.baseline_decay < 1.0))
        throw std::invalid_argument("rl: baseline decay must be in [0, 1)");
    return std::make_unique<ReinforcementLearning>(std::move(shape), options);
}

}  // namespace actsearch::search
