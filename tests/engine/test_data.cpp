// Readers for IDX (gzip or plain) and CIFAR-10 binary files, on small files written here, plus the
// installed Fashion-MNIST files.
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "actsearch/engine/data.hpp"

namespace fs = std::filesystem;
using namespace actsearch::engine;

namespace {

std::vector<std::uint8_t> be32(std::uint32_t v) {
    return {std::uint8_t(v >> 24), std::uint8_t(v >> 16), std::uint8_t(v >> 8), std::uint8_t(v)};
}

std::vector<std::uint8_t> idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
    std::vector<std::uint8_t> bytes = be32(0x00000803);
    for (std::uint32_t d : {n, rows, cols}) {
        const auto b = be32(d);
        bytes.insert(bytes.end(), b.begin(), b.end());
    }
    for (std::uint32_t i = 0; i < n * rows * cols; ++i) bytes.push_back(std::uint8_t(i * 7 + 3));
    return bytes;
}

std::vector<std::uint8_t> idx_labels(std::uint32_t n) {
    std::vector<std::uint8_t> bytes = be32(0x00000801);
    const auto b = be32(n);
    bytes.insert(bytes.end(), b.begin(), b.end());
    for (std::uint32_t i = 0; i < n; ++i) bytes.push_back(std::uint8_t(i % 10));
    return bytes;
}

class DataFiles : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("actsearch_test_data_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string write_plain(const std::string& name, const std::vector<std::uint8_t>& bytes) {
        const fs::path path = dir_ / name;
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
        return path.string();
    }
    std::string write_gz(const std::string& name, const std::vector<std::uint8_t>& bytes) {
        const fs::path path = dir_ / name;
        gzFile f = gzopen(path.c_str(), "wb");
        EXPECT_NE(f, nullptr);
        EXPECT_EQ(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
        gzclose(f);
        return path.string();
    }

    fs::path dir_;
};

// Asserts that `fn` throws DataError whose one-line message contains `needle`.
template <class Fn>
void expect_data_error(Fn&& fn, const std::string& needle) {
    try {
        fn();
        ADD_FAILURE() << "no DataError (expected one mentioning '" << needle << "')";
    } catch (const DataError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(needle), std::string::npos) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
}

}  // namespace

TEST_F(DataFiles, IdxGzipAndPlainReadTheSameImages) {
    const auto images = idx_images(5, 3, 4);
    const auto labels = idx_labels(5);
    const Dataset gz = load_idx(write_gz("i.gz", images), write_gz("l.gz", labels));
    const Dataset plain = load_idx(write_plain("i", images), write_plain("l", labels));
    ASSERT_EQ(gz.size(), 5u);
    EXPECT_EQ(gz.shape.channels, 1);
    EXPECT_EQ(gz.shape.height, 3);
    EXPECT_EQ(gz.shape.width, 4);
    EXPECT_EQ(gz.pixels, std::vector<std::uint8_t>(images.begin() + 16, images.end()));
    EXPECT_EQ(gz.labels, (std::vector<std::int32_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(plain.pixels, gz.pixels);
    EXPECT_EQ(plain.labels, gz.labels);
}

TEST_F(DataFiles, IdxMalformedFilesGiveDataError) {
    const std::string labels = write_plain("l", idx_labels(5));
    auto bad_magic = idx_images(5, 3, 4);
    bad_magic[3] = 0x01;
    expect_data_error([&] { load_idx(write_plain("magic", bad_magic), labels); }, "magic");
    auto truncated = idx_images(5, 3, 4);
    truncated.resize(truncated.size() - 7);
    expect_data_error([&] { load_idx(write_gz("trunc.gz", truncated), labels); }, "truncated");
    expect_data_error([&] { load_idx(write_plain("head", {0, 0, 8, 3, 0}), labels); }, "truncated");
    expect_data_error([&] { load_idx(write_plain("i", idx_images(4, 3, 4)), labels); }, "4 images");
    expect_data_error([&] { load_idx((dir_ / "missing").string(), labels); }, "missing");
    // A corrupt gzip stream (valid header, garbage body) must not be read as data.
    auto gz_bytes = idx_images(50, 8, 8);
    const std::string gz_path = write_gz("corrupt.gz", gz_bytes);
    std::vector<char> raw(fs::file_size(gz_path));
    std::ifstream(gz_path, std::ios::binary).read(raw.data(), std::streamsize(raw.size()));
    for (std::size_t i = 12; i < raw.size(); ++i) raw[i] = char(raw[i] ^ 0x5a);
    std::ofstream(gz_path, std::ios::binary | std::ios::trunc).write(raw.data(), std::streamsize(raw.size()));
    EXPECT_THROW(load_idx(gz_path, labels), DataError);
    auto bad_label = idx_labels(5);
    bad_label.back() = 10;
    expect_data_error([&] { load_idx(write_plain("i", idx_images(5, 3, 4)), write_plain("bl", bad_label)); }, "label 10");
}

TEST_F(DataFiles, CifarRecordsAndNormalisedGather) {
    std::vector<std::uint8_t> bytes;
    for (std::uint8_t r = 0; r < 3; ++r) {
        bytes.push_back(std::uint8_t(r + 7));   // labels 7, 8, 9
        for (int p = 0; p < 3072; ++p) bytes.push_back(std::uint8_t((p / 1024) * 100 + r));   // plane c = 100c + r
    }
    Dataset d = load_cifar_bin({write_plain("data_batch_1.bin", bytes)});
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(d.labels, (std::vector<std::int32_t>{7, 8, 9}));
    EXPECT_EQ(d.shape.channels, 3);
    EXPECT_EQ(d.shape.height, 32);
    d.mean = {0.5f, 0.0f, 0.25f};
    d.std = {0.5f, 1.0f, 0.25f};
    std::vector<float> out(2 * 3072);
    const std::size_t idx[] = {2, 0};
    d.gather(idx, 2, out.data());
    for (int image = 0; image < 2; ++image)
        for (int c = 0; c < 3; ++c) {
            const float pixel = float(c * 100 + (image == 0 ? 2 : 0));
            const float expected = (pixel / 255.0f - d.mean[c]) / d.std[c];
            EXPECT_NEAR(out[std::size_t(image) * 3072 + std::size_t(c) * 1024 + 5], expected, 1e-6f);
        }

    bytes.pop_back();
    expect_data_error([&] { load_cifar_bin({write_plain("short.bin", bytes)}); }, "truncated");
    bytes.push_back(0);
    bytes[0] = 11;
    expect_data_error([&] { load_cifar_bin({write_plain("label.bin", bytes)}); }, "label 11");

    const Dataset tail = slice(d, 1, 3);
    EXPECT_EQ(tail.labels, (std::vector<std::int32_t>{8, 9}));
    EXPECT_EQ(tail.pixels.size(), 2u * 3072u);
    EXPECT_EQ(tail.pixels[0], 1);
    EXPECT_THROW(slice(d, 2, 4), DataError);
}

TEST(Data, SpiralsAreDeterministicBalancedAndSpread) {
    const Dataset a = make_spirals(300, 3, 42), b = make_spirals(300, 3, 42), c = make_spirals(300, 3, 43);
    EXPECT_EQ(a.pixels, b.pixels);
    EXPECT_NE(a.pixels, c.pixels);
    std::array<int, 3> counts{};
    for (auto l : a.labels) ++counts.at(std::size_t(l));
    EXPECT_EQ(counts, (std::array<int, 3>{100, 100, 100}));
    const auto [lo, hi] = std::minmax_element(a.pixels.begin(), a.pixels.end());
    EXPECT_LT(*lo, 40);    // points reach out towards both edges of [-1, 1]
    EXPECT_GT(*hi, 215);
}

TEST(Data, FashionMnistFilesLoadWithExpectedCounts) {
    const fs::path dir = "/usr/share/datasets/fashion-mnist";
    if (!fs::exists(dir / "t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << "Fashion-MNIST not installed";
    // The test file is the smaller one: enough to check the real format end to end.
    const Dataset test = load_idx((dir / "t10k-images-idx3-ubyte.gz").string(), (dir / "t10k-labels-idx1-ubyte.gz").string());
    EXPECT_EQ(test.size(), 10000u);
    EXPECT_EQ(test.shape.height, 28);
    EXPECT_EQ(test.shape.width, 28);
    EXPECT_EQ(test.pixels.size(), 10000u * 784u);
    std::array<int, 10> counts{};
    for (auto l : test.labels) ++counts.at(std::size_t(l));
    for (int c : counts) EXPECT_EQ(c, 1000);   // Fashion-MNIST's test set is balanced
    const double mean = std::accumulate(test.pixels.begin(), test.pixels.end(), 0.0) / test.pixels.size() / 255.0;
    EXPECT_NEAR(mean, 0.2860, 0.01);
}
