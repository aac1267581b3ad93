#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "actsearch/engine/network.hpp"

namespace actsearch::engine {

// Images stay as bytes until a batch needs them (memory goal: eval under 200 MB).
struct Dataset {
    ImageShape shape;
    int classes = 10;
    std::vector<std::uint8_t> pixels;   // n * shape.size(), NCHW per image
    std::vector<std::int32_t> labels;
    std::vector<float> mean, std;       // per channel, applied as (p/255 - mean) / std
    std::size_t size() const noexcept { return labels.size(); }
    // Writes images idx[0..count) normalised into out [count, C, H, W].
    void gather(const std::size_t* idx, std::size_t count, float* out) const;
};

struct DataError : std::runtime_error { using std::runtime_error::runtime_error; };

// IDX (optionally gzip-compressed) images + labels files.
Dataset load_idx(const std::string& images_path, const std::string& labels_path);
// CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes.
Dataset load_cifar_bin(const std::vector<std::string>& files);
// Take rows [begin, end) of a dataset.
Dataset slice(const Dataset& d, std::size_t begin, std::size_t end);

}  // namespace actsearch::engine
