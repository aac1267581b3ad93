// The concrete strategies, one per file, reached only through make_strategy.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "actsearch/search/choice_shape.hpp"
#include "actsearch/search/strategy.hpp"

namespace actsearch::search {

std::unique_ptr<Strategy> make_exhaustive(ChoiceShape shape, const StrategyOptions& options);
std::unique_ptr<Strategy> make_random(ChoiceShape shape, const StrategyOptions& options);
std::unique_ptr<Strategy> make_evolution(ChoiceShape shape, const StrategyOptions& options);
std::unique_ptr<Strategy> make_rl(ChoiceShape shape, const StrategyOptions& options);

// What the surrogate knows of a candidate without training it: a feature vector, whether it can be
// evaluated at all (a valid fingerprint), and a group key shared by functionally equal candidates.
struct CandidateFeatures {
    bool valid = true;
    std::uint64_t group = 0;
    std::vector<double> x;
};
using FeatureFn = std::function<CandidateFeatures(std::uint64_t index)>;
// Values and derivatives of the candidate's function on probe points; groups by fingerprint.
FeatureFn candidate_features(const Space& space);
// features null: one-hot tokens, every candidate its own group.
std::unique_ptr<Strategy> make_surrogate(ChoiceShape shape, const StrategyOptions& options, FeatureFn features);

// Throws std::invalid_argument("<who>: ...") unless c is a choice of the shape and reward is finite.
void check_observation(const ChoiceShape& shape, const Choice& c, double reward, std::string_view who);

// The blob's record of the space a state belongs to; loading a state into a strategy over another
// space is refused rather than silently reinterpreting its indices.
class BlobWriter;
class BlobReader;
void save_shape(BlobWriter& out, const ChoiceShape& shape);
void expect_shape(BlobReader& in, const ChoiceShape& shape);

}  // namespace actsearch::search
