// The strategies' random source. std::mt19937_64's output sequence is fixed by the standard, but the
// std:: distributions are not (they differ between standard libraries), so the bounded and real
// draws are done here: a seeded run proposes the same candidates with any compiler, and the state
// can be saved into a blob and restored exactly.
#pragma once

#include <cstdint>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

namespace actsearch::search {

class Rng {
public:
    explicit Rng(std::uint64_t seed) : engine_(seed) {}

    // Uniform in [0, n), n > 0, without modulo bias (reject the short top range).
    std::uint64_t below(std::uint64_t n) {
        const std::uint64_t threshold = (0 - n) % n;  // = 2^64 mod n
        for (;;) {
            const std::uint64_t x = engine_();
            if (x >= threshold) return x % n;
        }
    }

    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

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

}  // namespace actsearch::search
