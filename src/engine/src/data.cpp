#include "actsearch/engine/data.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "actsearch/engine/detail/rng.hpp"

namespace actsearch::engine {
namespace {

constexpr std::uint32_t kIdxImagesMagic = 0x00000803;   // unsigned byte, 3 dimensions
constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;   // unsigned byte, 1 dimension
// Far above any real data set, low enough that a corrupt header cannot ask for gigabytes.
constexpr std::uint64_t kMaxIdxBytes = std::uint64_t(1) << 31;
constexpr std::size_t kCifarSide = 32;
constexpr std::size_t kCifarImageBytes = 3 * kCifarSide * kCifarSide;
constexpr std::size_t kCifarRecordBytes = 1 + kCifarImageBytes;

// gzopen/gzread read plain files transparently, so one reader serves .gz and uncompressed data.
class GzFile {
public:
    explicit GzFile(const std::string& path) : path_(path), file_(open(path)) {
        if (file_ == nullptr)
            throw DataError(fmt::format("cannot open '{}': {}", path, errno ? std::strerror(errno) : "out of memory"));
        gzbuffer(file_, 1 << 17);
    }
    ~GzFile() { gzclose(file_); }
    GzFile(const GzFile&) = delete;
    GzFile& operator=(const GzFile&) = delete;

    // Reads up to n bytes; fewer only at the end of the data. Corrupt compressed data throws.
    std::size_t read_some(void* out, std::size_t n) {
        auto* bytes = static_cast<unsigned char*>(out);
        std::size_t done = 0;
        while (done < n) {
            const unsigned chunk = unsigned(std::min<std::size_t>(n - done, INT_MAX / 2));
            const int got = gzread(file_, bytes + done, chunk);
            if (got < 0) {
                int code = 0;
                const char* message = gzerror(file_, &code);
                throw DataError(fmt::format("cannot read '{}': {}", path_, message ? message : "read error"));
            }
            if (got == 0) break;
            done += std::size_t(got);
        }
        return done;
    }

    void read_exact(void* out, std::size_t n, const char* what) {
        const std::size_t got = read_some(out, n);
        if (got != n)
            throw DataError(fmt::format("'{}' is truncated: expected {} bytes of {}, found {}", path_, n, what, got));
    }

    std::uint32_t read_be32(const char* what) {
        std::array<unsigned char, 4> b{};
        read_exact(b.data(), b.size(), what);
        return std::uint32_t(b[0]) << 24 | std::uint32_t(b[1]) << 16 | std::uint32_t(b[2]) << 8 | b[3];
    }

    const std::string& path() const noexcept { return path_; }

private:
    static gzFile open(const std::string& path) {
        errno = 0;   // gzopen leaves errno as open(2) set it, or untouched when zlib ran out of memory
        return gzopen(path.c_str(), "rb");
    }

    std::string path_;
    gzFile file_;
};

void check_magic(GzFile& f, std::uint32_t expected, const char* kind) {
    const std::uint32_t magic = f.read_be32("header");
    if (magic != expected)
        throw DataError(fmt::format("'{}' is not an IDX {} file: magic number {:#010x}, expected {:#010x}", f.path(),
                                    kind, magic, expected));
}

void set_unit_normalisation(Dataset& d) {
    d.mean.assign(std::size_t(d.shape.channels), 0.0f);
    d.std.assign(std::size_t(d.shape.channels), 1.0f);
}

}  // namespace

void Dataset::gather(const std::size_t* idx, std::size_t count, float* out) const {
    const std::size_t plane = std::size_t(shape.height) * shape.width;
    const std::size_t image = shape.size();
    for (std::size_t c = 0; c < std::size_t(shape.channels); ++c) {
        // (p/255 - mean)/std as one multiply-add per pixel.
        const float scale = 1.0f / (255.0f * std[c]);
        const float shift = -mean[c] / std[c];
        for (std::size_t i = 0; i < count; ++i) {
            const std::uint8_t* src = pixels.data() + idx[i] * image + c * plane;
            float* dst = out + i * image + c * plane;
            for (std::size_t p = 0; p < plane; ++p) dst[p] = float(src[p]) * scale + shift;
        }
    }
}

Dataset load_idx(const std::string& images_path, const std::string& labels_path) {
    Dataset d;
    {
        GzFile f(images_path);
        check_magic(f, kIdxImagesMagic, "images");
        const std::uint64_t n = f.read_be32("header"), rows = f.read_be32("header"), cols = f.read_be32("header");
        if (n == 0 || rows == 0 || cols == 0 || n * rows * cols > kMaxIdxBytes || rows > 4096 || cols > 4096)
            throw DataError(fmt::format("'{}' has implausible dimensions {} x {} x {}", images_path, n, rows, cols));
        d.shape = ImageShape{1, int(rows), int(cols)};
        d.pixels.resize(n * rows * cols);
        f.read_exact(d.pixels.data(), d.pixels.size(), "pixels");
    }
    {
        GzFile f(labels_path);
        check_magic(f, kIdxLabelsMagic, "labels");
        const std::uint64_t n = f.read_be32("header");
        const std::size_t images = d.pixels.size() / d.shape.size();
        if (n != images)
            throw DataError(fmt::format("'{}' has {} labels but '{}' has {} images", labels_path, n, images_path, images));
        std::vector<std::uint8_t> raw(n);
        f.read_exact(raw.data(), raw.size(), "labels");
        d.labels.assign(raw.begin(), raw.end());
    }
    d.classes = 10;
    if (const auto bad = std::find_if(d.labels.begin(), d.labels.end(), [&](auto l) { return l >= d.classes; });
        bad != d.labels.end())
        throw DataError(fmt::format("'{}': label {} at index {} is not in [0, {})", labels_path, *bad,
                                    bad - d.labels.begin(), d.classes));
    set_unit_normalisation(d);
    return d;
}

Dataset load_cifar_bin(const std::vector<std::string>& files) {
    if (files.empty()) throw DataError("load_cifar_bin: no files given");
    Dataset d;
    d.shape = ImageShape{3, int(kCifarSide), int(kCifarSide)};
    d.classes = 10;
    std::vector<std::uint8_t> record(kCifarRecordBytes);
    for (const std::string& path : files) {
        GzFile f(path);
        std::size_t records = 0;
        for (;;) {
            const std::size_t got = f.read_some(record.data(), record.size());
            if (got == 0) break;
            if (got != record.size())
                throw DataError(fmt::format("'{}' is truncated: record {} has {} of {} bytes (not a CIFAR-10 binary "
                                            "batch?)", path, records, got, record.size()));
            if (record[0] >= d.classes)
                throw DataError(fmt::format("'{}': label {} of record {} is not in [0, 10) (not a CIFAR-10 binary "
                                            "batch?)", path, record[0], records));
            d.labels.push_back(record[0]);
            d.pixels.insert(d.pixels.end(), record.begin() + 1, record.end());
            ++records;
        }
        if (records == 0) throw DataError(fmt::format("'{}' is empty", path));
    }
    set_unit_normalisation(d);
    return d;
}

Dataset slice(const Dataset& d, std::size_t begin, std::size_t end) {
    if (begin > end || end > d.size())
        throw DataError(fmt::format("slice [{}, {}) is out of range for a data set of {} images", begin, end, d.size()));
    Dataset s;
    s.shape = d.shape;
    s.classes = d.classes;
    s.mean = d.mean;
    s.std = d.std;
    const std::size_t image = d.shape.size();
    s.pixels.assign(d.pixels.begin() + std::ptrdiff_t(begin * image), d.pixels.begin() + std::ptrdiff_t(end * image));
    s.labels.assign(d.labels.begin() + std::ptrdiff_t(begin), d.labels.begin() + std::ptrdiff_t(end));
    return s;
}

Dataset make_spirals(std::size_t n, int classes, std::uint64_t seed) {
    constexpr double kTurns = 1.0;          // each arm winds once around the centre
    constexpr double kAngleNoise = 0.25;    // radians, uniform +-: arms stay separable, not trivially
    constexpr double kPi = 3.14159265358979323846;
    Dataset d;
    d.shape = ImageShape{2, 1, 1};
    d.classes = classes;
    d.pixels.resize(2 * n);
    d.labels.resize(n);
    Rng rng(seed);
    const auto quantise = [](double v) {   // [-1, 1] -> [0, 255]
        return std::uint8_t(std::lround(std::clamp((v + 1.0) * 127.5, 0.0, 255.0)));
    };
    for (std::size_t i = 0; i < n; ++i) {
        const int label = int(i % std::size_t(classes));
        const double t = 0.05 + 0.95 * rng.uniform();   // radius; the centre is where arms meet
        const double angle = 2.0 * kPi * (label / double(classes) + kTurns * t) +
                             kAngleNoise * (2.0 * rng.uniform() - 1.0);
        d.pixels[2 * i] = quantise(t * std::cos(angle));
        d.pixels[2 * i + 1] = quantise(t * std::sin(angle));
        d.labels[i] = label;
    }
    d.mean.assign(2, 0.5f);
    d.std.assign(2, 0.5f);
    return d;
}

}  // namespace actsearch::engine
