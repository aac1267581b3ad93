// The RL controller: a proper distribution, consistent sampling, and a PPO gradient that matches
// central finite differences for every kind of parameter.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <stdexcept>
#include <vector>

#include "actsearch/numeric/rng.hpp"
#include "actsearch/search/controller.hpp"

namespace actsearch::search {
namespace {

// Two units so that every parameter path is used: several embedding rows, recurrent weights.
const ChoiceShape kShape({1, 1, 4, 3, 5, 2, 2, 4, 3, 5});

void randomize(Controller& controller, std::uint64_t seed, double scale) {
    numeric::Mt64 rng(seed);
    for (double& p : controller.parameters()) p = scale * (rng.uniform() * 2.0 - 1.0);
}

std::vector<double> uniforms(numeric::Mt64& rng, std::size_t n) {
    std::vector<double> u(n);
    for (double& x : u) x = rng.uniform();
    return u;
}

TEST(Controller, UntrainedPolicyIsUniform) {
    const Controller controller(kShape, 16, 1);
    double expected = 0.0;
    for (auto a : kShape.arities()) expected -= std::log(static_cast<double>(a));
    EXPECT_NEAR(controller.log_prob(kShape.decode(0)), expected, 1e-12);
    EXPECT_NEAR(controller.log_prob(kShape.decode(kShape.count() - 1)), expected, 1e-12);
}

TEST(Controller, ProbabilitiesSumToOneOverTheSpace) {
    const ChoiceShape shape({2, 3, 2, 4});
    Controller controller(shape, 8, 2);
    randomize(controller, 3, 0.7);
    double total = 0.0;
    for (std::uint64_t i = 0; i < shape.count(); ++i) total += std::exp(controller.log_prob(shape.decode(i)));
    EXPECT_NEAR(total, 1.0, 1e-12);
}

TEST(Controller, SampleReportsItsOwnLogProbabilityAtAnyTemperature) {
    Controller controller(kShape, 16, 4);
    randomize(controller, 5, 0.5);
    numeric::Mt64 rng(6);
    for (double inverse_temperature : {1.0, 0.5, 0.0}) {
        for (int i = 0; i < 20; ++i) {
            const auto s = controller.sample(uniforms(rng, kShape.tokens()), inverse_temperature);
            ASSERT_TRUE(kShape.contains(s.choice));
            EXPECT_NEAR(s.log_prob, controller.log_prob(s.choice), 1e-12);
        }
    }
}

TEST(Controller, ZeroInverseTemperatureSamplesUniformly) {
    Controller controller(kShape, 16, 7);
    randomize(controller, 8, 2.0);  // a far from uniform policy
    // Token 4 has arity 5: u in [0.4, 0.6) selects value 2 when every value has probability 1/5.
    std::vector<double> u(kShape.tokens(), 0.5);
    EXPECT_EQ(controller.sample(u, 0.0).choice[4], 2u);
    EXPECT_EQ(controller.sample(u, 0.0).choice[2], 2u);  // arity 4: [0.5, 0.75)
}

// Sampling without replacement on a peaked policy (paper-core2, after a few hundred updates): when the
// favourite value is masked and every other value's weight underflows next to it, the others are still
// sampled, by their own probabilities.
TEST(Controller, MaskingTheFavouriteOfAPeakedPolicyLeavesTheNextBest) {
    const ChoiceShape shape({5});
    Controller controller(shape, 8, 12);
    randomize(controller, 13, 2.0);
    std::vector<double> lp(5);
    std::vector<std::uint32_t> order(5);
    for (std::uint32_t v = 0; v < 5; ++v) {
        lp[v] = controller.log_prob({v});
        order[v] = v;
    }
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return lp[a] > lp[b]; });
    // At inverse temperature 1e5 a gap of 0.01 in log-probability is a factor exp(-1000): 0 in double.
    ASSERT_GT(lp[order[0]] - lp[order[1]], 0.01);
    ASSERT_GT(lp[order[1]] - lp[order[2]], 0.01);
    const Controller::Mask not_favourite = [&](std::size_t, std::span<const std::uint32_t>, std::uint32_t v) {
        return v != order[0];
    };
    for (double u : {0.25, 0.5, 0.75}) {
        const auto s = controller.sample(std::vector<double>{u}, 1e5, not_favourite);
        EXPECT_EQ(s.choice[0], order[1]) << u;
        EXPECT_NEAR(s.log_prob, lp[order[1]], 1e-12);
    }
    const Controller::Mask none = [](std::size_t, std::span<const std::uint32_t>, std::uint32_t) { return false; };
    EXPECT_THROW(controller.sample(std::vector<double>{0.5}, 1.0, none), std::logic_error);
}

TEST(Controller, SamplingFollowsThePolicy) {
    const ChoiceShape shape({3, 2});
    Controller controller(shape, 8, 9);
    randomize(controller, 10, 1.5);
    numeric::Mt64 rng(11);
    std::vector<int> counts(shape.count());
    const int n = 20000;
    for (int i = 0; i < n; ++i) ++counts[shape.encode(controller.sample(uniforms(rng, 2)).choice)];
    for (std::uint64_t i = 0; i < shape.count(); ++i) {
        const double p = std::exp(controller.log_prob(shape.decode(i)));
        EXPECT_NEAR(counts[i] / double(n), p, 4.0 * std::sqrt(p * (1 - p) / n) + 1e-3) << "choice " << i;
    }
}

TEST(Controller, PpoGradientMatchesFiniteDifferences) {
    Controller controller(kShape, 6, 12);
    randomize(controller, 13, 0.6);
    numeric::Mt64 rng(14);

    Controller::Batch batch;
    // Old log-probabilities around the current ones: ratios e^{-0.5..0.5}, so with clip 0.2 some
    // samples are clipped (zero surrogate gradient) and some are not, with either sign of advantage.
    const std::vector<double> offsets = {0.5, -0.05, 0.08, -0.5, 0.3, -0.3, 0.0};
    const std::vector<double> advantages = {1.0, -0.7, 0.4, -1.2, -0.9, 0.6, 0.25};
    for (std::size_t i = 0; i < offsets.size(); ++i) {
        const auto s = controller.sample(uniforms(rng, kShape.tokens()));
        batch.choices.push_back(s.choice);
        batch.old_log_probs.push_back(s.log_prob + offsets[i]);
        batch.advantages.push_back(advantages[i]);
    }
    const double clip = 0.2, entropy_weight = 0.1;

    std::vector<double> grad(controller.parameters().size()), scratch(grad.size());
    controller.ppo_loss(batch, clip, entropy_weight, grad);

    auto params = controller.parameters();
    const double h = 1e-5;
    for (const auto& block : controller.blocks()) {
        SCOPED_TRACE(block.name);
        ASSERT_GT(block.size, 0u);
        double largest = 0.0;
        const std::size_t samples = std::min<std::size_t>(block.size, 40);
        for (std::size_t k = 0; k < samples; ++k) {
            // Spread over the block (a stride coprime with typical row lengths).
            const std::size_t i = block.offset + (k * 7919) % block.size;
            const double saved = params[i];
            params[i] = saved + h;
            const double plus = controller.ppo_loss(batch, clip, entropy_weight, scratch);
            params[i] = saved - h;
            const double minus = controller.ppo_loss(batch, clip, entropy_weight, scratch);
            params[i] = saved;
            const double numeric = (plus - minus) / (2 * h);
            EXPECT_NEAR(grad[i], numeric, 1e-7 + 1e-5 * std::abs(numeric)) << "parameter " << i - block.offset;
            largest = std::max(largest, std::abs(grad[i]));
        }
        EXPECT_GT(largest, 1e-4) << "no gradient reaches this block";
    }
}

}  // namespace
}  // namespace actsearch::search
