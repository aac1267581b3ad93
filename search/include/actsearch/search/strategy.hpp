// Search strategies propose candidates of a Space and learn from their rewards (ask / tell). They know
// nothing of training or storage: the search loop (driver/) evaluates, deduplicates by
// fingerprint, stores, and feeds rewards back in proposal order, which keeps runs deterministic.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actsearch/grammar/space.hpp"

namespace actsearch::search {

using Choice = Space::Choice;

struct StrategyOptions {
    std::uint64_t seed = 0;
    std::size_t batch = 16;          // rl: candidates per policy update
    // evolution
    std::size_t population = 64;
    std::size_t tournament = 8;
    // rl (PPO)
    int hidden = 64;
    double learning_rate = 3e-3;
    double clip = 0.2;
    double entropy_weight = 0.01;
    double baseline_decay = 0.9;     // exponential moving average of the reward
    int ppo_epochs = 4;
};

class Strategy {
public:
    virtual ~Strategy() = default;
    virtual const char* name() const noexcept = 0;

    // Up to n new candidates to evaluate (fewer, or none, when the space is exhausted). Strategies may
    // be asked again before earlier proposals were observed (workers still busy).
    virtual std::vector<Choice> propose(std::size_t n) = 0;

    // The reward of a proposed candidate: validation accuracy in [0, 1]; 0 for invalid or diverged.
    // Throws std::invalid_argument for a choice that is not a valid choice of the space, a non-finite
    // reward, or (evolution, rl) a choice that was not proposed and is not awaiting its reward.
    virtual void observe(const Choice& c, double reward) = 0;

    // Everything needed to continue later (RNG, counters, population, controller weights) as bytes,
    // and its inverse. load() throws std::runtime_error on a blob it cannot read.
    virtual std::string save() const = 0;
    virtual void load(const std::string& blob) = 0;
};

// name: exhaustive | random | evolution | rl. Throws std::invalid_argument on an unknown name.
std::unique_ptr<Strategy> make_strategy(const std::string& name, const Space& space,
                                        const StrategyOptions& options);
std::vector<std::string> strategy_names();

// The same strategies over a bare list of token arities (token t takes values 0..arities[t]-1): a
// strategy only needs the shape of a choice, never the expressions behind it. The Space overload is
// this one with token_arities(space). Throws std::invalid_argument on an empty list, a zero arity, or
// a space too large to index with 64 bits.
std::unique_ptr<Strategy> make_strategy(const std::string& name, std::vector<std::uint32_t> arities,
                                        const StrategyOptions& options);
std::vector<std::uint32_t> token_arities(const Space& space);

}  // namespace actsearch::search
