// The engine's random source: xoshiro256** (actsearch/numeric/rng.hpp) for initial weights, batch
// sampling and recalibration batches, each stream seeded by derive_seed from the evaluation seed.
// (detail/: the engine's internals, public only so that its tests and benchmarks can reach them.)
#pragma once

#include "actsearch/numeric/rng.hpp"

namespace actsearch::engine {

using Rng = numeric::Xoshiro256;
using numeric::derive_seed;

}  // namespace actsearch::engine
