// Every random-number stream of actsearch, in one header. Results must be reproducible across
// compilers and standard libraries, so nothing here goes through std::*_distribution (their algorithms
// are implementation-defined): every draw is derived from raw 64-bit words by the functions below.
//
// Three generators, each kept exactly as it was when its streams were first stored or relied upon
// (changing any of them would change saved strategy states, initial weights, batches or bootstrap
// intervals):
//   - Xoshiro256: xoshiro256** seeded through SplitMix64. The engine's: weights, batch sampling,
//     recalibration batches. Fast, constexpr, float draws.
//   - Mt64: std::mt19937_64 (its output sequence is fixed by the standard). The search strategies':
//     its state is saved into their blobs as text and restored exactly.
//   - SplitMix64: the rank statistics' bootstrap resampling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

namespace actsearch::numeric {

// ---- Mixing ----------------------------------------------------------------------------------------

// 2^64 / golden ratio: SplitMix64's increment.
inline constexpr std::uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ull;

// SplitMix64's output function (Steele, Lea, Flood 2014): a fixed, portable 64-bit mix, also used as
// a hash finaliser (the grammar's structural hash and fingerprint, stored in databases).
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// One step of SplitMix64: advances `state` and returns the next word.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept { return mix64(state += kGoldenGamma); }

// A seed for a named purpose ("init", "batches") derived from an evaluation seed, so that changing how
// one stream is consumed never shifts another.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) noexcept {
    std::uint64_t state = seed ^ (stream * 0xD1B54A32D192ED03ull);
    splitmix64(state);
    return splitmix64(state);
}

// ---- From random words to draws ----------------------------------------------------------------------

// Uniform in [0, n) from one word by Lemire's multiply-shift: floor(word * n / 2^64). Its bias (at most
// n / 2^64) is far below any effect here.
constexpr std::uint64_t scale_below(std::uint64_t word, std::uint64_t n) noexcept {
    return std::uint64_t((static_cast<unsigned __int128>(word) * n) >> 64);
}

// Uniform in [0, 1) from the top 24 bits of a word: every value is an exact float.
constexpr float unit_float(std::uint64_t word) noexcept { return float(word >> 40) * 0x1.0p-24f; }

// Uniform in [0, 1) from the top 53 bits of a word.
constexpr double unit_double(std::uint64_t word) noexcept { return static_cast<double>(word >> 11) * 0x1.0p-53; }

// ---- Generators ----------------------------------------------------------------------------------------

// SplitMix64 as a generator.
class SplitMix64 {
public:
    explicit constexpr SplitMix64(std::uint64_t seed) noexcept : state_(seed) {}
    constexpr std::uint64_t next() noexcept { return splitmix64(state_); }
    // Uniform in [0, n) (scale_below).
    constexpr std::size_t below(std::size_t n) noexcept { return std::size_t(scale_below(next(), n)); }

private:
    std::uint64_t state_;
};

// xoshiro256** (Blackman, Vigna 2018), seeded through SplitMix64 as its authors recommend.
class Xoshiro256 {
public:
    explicit constexpr Xoshiro256(std::uint64_t seed) noexcept {
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

    // Uniform in [0, 1) with 24 random bits (unit_float).
    constexpr float uniform() noexcept { return unit_float(next()); }
    // Uniform in [lo, hi).
    constexpr float uniform(float lo, float hi) noexcept { return lo + (hi - lo) * uniform(); }
    // Uniform in [0, n) (scale_below).
    constexpr std::size_t below(std::size_t n) noexcept { return std::size_t(scale_below(next(), n)); }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4]{};
};

// std::mt19937_64 with exact bounded and real draws, and its state as text (saved in strategy blobs).
class Mt64 {
public:
    explicit Mt64(std::uint64_t seed) : engine_(seed) {}

    std::uint64_t next() { return engine_(); }

    // Uniform in [0, n), n > 0, without modulo bias (rejects the short top range).
    std::uint64_t below(std::uint64_t n) {
        const std::uint64_t threshold = (0 - n) % n;  // = 2^64 mod n
        for (;;) {
            const std::uint64_t x = engine_();
            if (x >= threshold) return x % n;
        }
    }

    // Uniform in [0, 1) with 53 random bits (unit_double).
    double uniform() { return unit_double(engine_()); }

    std::string state() const {
        std::ostringstream out;
        out << engine_;
        return out.str();
    }
    // Throws std::runtime_error when `text` is not a state written by state().
    void set_state(const std::string& text) {
        std::istringstream in(text);
        std::mt19937_64 engine;
        in >> engine;
        if (in.fail() || !(in >> std::ws).eof()) throw std::runtime_error("malformed random generator state");
        engine_ = engine;
    }

private:
    std::mt19937_64 engine_;
};

}  // namespace actsearch::numeric
