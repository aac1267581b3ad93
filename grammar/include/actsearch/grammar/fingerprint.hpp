#pragma once

#include <cstdint>
#include <string>

#include "actsearch/grammar/expr.hpp"

namespace actsearch {

struct Fingerprint {
    bool valid = false;        // false: a non-finite value or derivative on the probe set
    std::uint64_t hash = 0;    // of quantised values and derivatives, at two beta settings
    std::string reason;        // why invalid ("non-finite value at x=-3.5"), empty when valid
};

// Evaluates the function and its derivatives (to x and to each beta) on a fixed probe set for two beta
// settings, quantises them and hashes. Functionally equal expressions (x*sigmoid(x), x/(1+exp(-x)))
// get the same hash.
Fingerprint fingerprint(const Expr& e);

}  // namespace actsearch
