// Shared helpers of the search tests: synthetic reward tables over bare arity lists.
#pragma once

#include <cstdint>
#include <vector>

#include "actsearch/numeric/rng.hpp"
#include "actsearch/search/strategy.hpp"

namespace actsearch::search::testing {

// Hamming distance between two choices of the same length.
inline int token_distance(const Choice& a, const Choice& b) {
    int d = 0;
    for (std::size_t t = 0; t < a.size(); ++t) d += a[t] != b[t];
    return d;
}

// A reward landscape with one best region: the fraction of tokens equal to a target choice, plus a
// little noise that depends on the candidate only (the same candidate always gets the same reward).
class MatchTarget {
public:
    MatchTarget(Choice target, double noise) : target_(std::move(target)), noise_(noise) {}

    double operator()(const Choice& c) const {
        std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the tokens: a per-candidate noise seed
        for (auto v : c) h = (h ^ v) * 1099511628211ull;
        numeric::Mt64 rng(h);
        const double jitter = noise_ * (rng.uniform() - 0.5);
        return static_cast<double>(c.size() - token_distance(c, target_)) / static_cast<double>(c.size()) + jitter;
    }

private:
    Choice target_;
    double noise_;
};

}  // namespace actsearch::search::testing
