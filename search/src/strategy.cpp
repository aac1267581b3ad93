#include "actsearch/search/strategy.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "blob.hpp"
#include "strategies.hpp"

namespace actsearch::search {

std::vector<std::string> strategy_names() { return {"exhaustive", "random", "evolution", "rl", "surrogate"}; }

std::vector<std::uint32_t> token_arities(const Space& space) {
    std::vector<std::uint32_t> arities(space.token_count());
    for (std::size_t t = 0; t < arities.size(); ++t) arities[t] = space.token_arity(t);
    return arities;
}

std::unique_ptr<Strategy> make_strategy(const std::string& name, std::vector<std::uint32_t> arities,
                                        const StrategyOptions& options) {
    ChoiceShape shape(std::move(arities));
    if (name == "exhaustive") return make_exhaustive(std::move(shape), options);
    if (name == "random") return make_random(std::move(shape), options);
    if (name == "evolution") return make_evolution(std::move(shape), options);
    if (name == "rl") return make_rl(std::move(shape), options);
    if (name == "surrogate") return make_surrogate(std::move(shape), options, nullptr);
    throw std::invalid_argument(
        fmt::format("unknown search strategy '{}' (expected one of: {})", name, fmt::join(strategy_names(), ", ")));
}

std::unique_ptr<Strategy> make_strategy(const std::string& name, const Space& space,
                                        const StrategyOptions& options) {
    // The surrogate reads the candidates' functions; every other strategy only needs the shape.
    if (name == "surrogate") return make_surrogate(ChoiceShape(token_arities(space)), options, candidate_features(space));
    return make_strategy(name, token_arities(space), options);
}

void check_observation(const ChoiceShape& shape, const Choice& c, double reward, std::string_view who) {
    shape.check(c, who);
    if (!std::isfinite(reward)) throw std::invalid_argument(fmt::format("{}: reward {} is not finite", who, reward));
}

void save_shape(BlobWriter& out, const ChoiceShape& shape) { out.u32s(shape.arities()); }

void expect_shape(BlobReader& in, const ChoiceShape& shape) {
    if (in.u32s() != shape.arities()) in.fail("it was saved for a search space of another shape");
}

}  // namespace actsearch::search
