// Helpers of every module's tests that need only the standard library: a scratch directory, reading a
// file whole, vectors of random inputs.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace actsearch::test {

// A space of 5 x 5 x 3 = 75 candidates (one core unit) for the search tests.
inline constexpr const char* kTinySpace =
    "name: tiny\n"
    "units: 1\n"
    "unary: x, tanh(x), relu(x), sin(x), x^2\n"
    "binary: x1 + x2, x1 * x2, max(x1, x2)\n";

// A fresh directory of its own under the system's temporary folder (mkdtemp: unique across processes
// and tests running at once), removed with everything in it (-wal and -shm files included) at the end
// of the scope.
class ScratchDir {
public:
    ScratchDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "actsearch-test-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
        path_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    // The path of `name` inside the directory, as text (e.g. a database file).
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

// The whole file as bytes; empty when it cannot be read.
inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// n values uniform in [lo, hi) from any generator with uniform(lo, hi) (the engine's Rng).
template <typename Rng>
std::vector<float> random_vector(std::size_t n, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
    std::vector<float> v(n);
    for (float& x : v) x = rng.uniform(lo, hi);
    return v;
}

}  // namespace actsearch::test
