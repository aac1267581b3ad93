// The concrete strategies, one per file, reached only through make_strategy.
#pragma once

#include <memory>
#include <string_view>

#include "actsearch/search/choice_shape.hpp"
#include "actsearch/search/strategy.hpp"

namespace actsearch::search {

std::unique_ptr<Strategy> make_exhaustive(ChoiceShape shape, const StrategyOptions& options);
std::unique_ptr<Strategy> make_random(ChoiceShape shape, const StrategyOptions& options);
std::unique_ptr<Strategy> make_evolution(ChoiceShape shape, const StrategyOptions& options);
std::unique_ptr<Strategy> make_rl(ChoiceShape shape, const StrategyOptions& options);

// Throws std::invalid_argument("<who>: ...") unless c is a choice of the shape and reward is finite.
void check_observation(const ChoiceShape& shape, const Choice& c, double reward, std::string_view who);

// The blob's record of the space a state belongs to; loading a state into a strategy over another
// space is refused rather than silently reinterpreting its indices.
class BlobWriter;
class BlobReader;
void save_shape(BlobWriter& out, const ChoiceShape& shape);
void expect_shape(BlobReader& in, const ChoiceShape& shape);

}  // namespace actsearch::search
