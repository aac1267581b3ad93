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
    std::vector<float> mean, std;       // per channel, applied as (p/255 - mean) / std; loaders set 0 / 1
    std::size_t size() const noexcept { return labels.size(); }
    // Writes images idx[0..count) normalised into out [count, C, H, W].
    void gather(const std::size_t* idx, std::size_t count, float* out) const;
};

struct DataError : std::runtime_error { using std::runtime_error::runtime_error; };

// IDX (optionally gzip-compressed) images + labels files: unsigned-byte images (magic 0x00000803, 28x28
// for MNIST-style data) and labels (magic 0x00000801). `classes` is 10; a label >= 10 is an error.
Dataset load_idx(const std::string& images_path, const std::string& labels_path);
// CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32).
Dataset load_cifar_bin(const std::vector<std::string>& files);
// Take rows [begin, end) of a dataset (DataError when out of range).
Dataset slice(const Dataset& d, std::size_t begin, std::size_t end);

// A deterministic `classes`-armed spiral in 2-D, n points (class i % classes for point i), each point
// stored as two bytes (channels = 2, 1x1) quantised over [-1, 1] and normalised back to about [-1, 1]
// (mean 0.5, std 0.5). Data for the `synthetic` task and tests: the seed is the task's, not the
// evaluation's.
Dataset make_spirals(std::size_t n, int classes, std::uint64_t seed);

}  // namespace actsearch::engine
