#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "actsearch/engine/network.hpp"

namespace actsearch::engine {

// Images stay as bytes until a batch needs them (memory goal: eval under 200 MB). Data that is not
// bytes (float .npy arrays, CSV) is kept as floats instead: exactly one of pixels and values is filled.
struct Dataset {
    ImageShape shape;
    int classes = 10;
    std::vector<std::uint8_t> pixels;   // n * shape.size(), NCHW per image
    std::vector<float> values;          // n * shape.size(), NCHW per example, when the data is not bytes
    std::vector<std::int32_t> labels;
    // Per channel, applied as (p/255 - mean) / std to bytes and as (v - mean) / std to values; loaders
    // set 0 / 1.
    std::vector<float> mean, std;
    std::size_t size() const noexcept { return labels.size(); }
    bool is_float() const noexcept { return !values.empty(); }
    // Writes images idx[0..count) normalised into out [count, C, H, W].
    void gather(const std::size_t* idx, std::size_t count, float* out) const;
};

struct DataError : std::runtime_error { using std::runtime_error::runtime_error; };

// IDX (optionally gzip-compressed) images + labels files: unsigned-byte images (magic 0x00000803, 28x28
// for MNIST-style data) and labels (magic 0x00000801). A label >= classes is an error.
Dataset load_idx(const std::string& images_path, const std::string& labels_path, int classes = 10);
// CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32); other
// shapes give records of 1 + shape.size() bytes (CIFAR-style). Files may be gzip-compressed.
Dataset load_cifar_bin(const std::vector<std::string>& files, ImageShape shape = {3, 32, 32}, int classes = 10);
// NumPy .npy arrays (format 1.x/2.x/3.x, C order, little-endian or byte-sized): images of dtype u1 (kept as
// bytes), f4 or f8 (kept as floats), shaped [N, C, H, W], [N, H, W] (one channel) or [N, F] with
// F = shape.size(); labels of any integer dtype, shaped [N]. The arrays must agree with `shape` and with
// each other, and every label must be in [0, classes).
Dataset load_npy(const std::string& images_path, const std::string& labels_path, ImageShape shape, int classes);
// CSV (optionally gzip-compressed, comma-separated, no quoting): one example per line, shape.size()
// numeric feature columns in NCHW order and one integer label column. With `header` the first line names
// the columns and is skipped. The label column is the one named `label_name` (needs a header), else the
// 0-based `label_index` (-1: the last column). Values are kept as floats; blank lines are skipped.
struct CsvOptions {
    bool header = true;
    std::string label_name;
    int label_index = -1;
};
Dataset load_csv(const std::string& path, const CsvOptions& options, ImageShape shape, int classes);
// Take rows [begin, end) of a dataset (DataError when out of range).
Dataset slice(const Dataset& d, std::size_t begin, std::size_t end);

// A deterministic `classes`-armed spiral in 2-D, n points (class i % classes for point i), each point
// stored as two bytes (channels = 2, 1x1) quantised over [-1, 1] and normalised back to about [-1, 1]
// (mean 0.5, std 0.5). Data for the `synthetic` task and tests: the seed is the task's, not the
// evaluation's.
Dataset make_spirals(std::size_t n, int classes, std::uint64_t seed);

}  // namespace actsearch::engine
