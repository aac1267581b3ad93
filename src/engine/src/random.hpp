// The engine's only source of randomness. Scores must be reproducible across compilers and standard
// libraries, so nothing here goes through std::*_distribution (their algorithms are
// implementation-defined): uniforms are derived from raw 64-bit words of a fixed generator.
#pragma once

#include <cstddef>
#include <cstdint>

namespace actsearch::engine {

// SplitMix64 (Steele, Lea, Flood 2014): used to expand one seed into independent streams.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// A seed for a named purpose ("init", "batches") derived from the evaluation seed, so that changing
// how one stream is consumed never shifts another.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) noexcept {
    std::uint64_t state = seed ^ (stream * 0xD1B54A32D192ED03ull);
    splitmix64(state);
    return splitmix64(state);
}

// xoshiro256** (Blackman, Vigna 2018), seeded through SplitMix64 as its authors recommend.
class Rng {
public:
    explicit constexpr Rng(std::uint64_t seed) noexcept {
        for (auto& word : s_) word = splitmix64(seed);
    }

    constexpr std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // Uniform in [0, 1) with 24 random bits: every value is an exact float.
    constexpr float uniform() noexcept { return float(next() >> 40) * 0x1.0p-24f; }
    // Uniform in [lo, hi).
    constexpr float uniform(float lo, float hi) noexcept { return lo + (hi - lo) * uniform(); }
    // Uniform in [0, n) by Lemire's multiply-shift; the bias (n / 2^64) is far below any effect here.
    constexpr std::size_t below(std::size_t n) noexcept {
        return std::size_t((static_cast<unsigned __int128>(next()) * n) >> 64);
    }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4]{};
};

}  // namespace actsearch::engine
