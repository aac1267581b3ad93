#include "actsearch/engine/data.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <memory>
#include <string_view>

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

// A .npy array's header: element type, order and shape (NumPy's format, versions 1 to 3).
struct NpyHeader {
    char kind = 0;            // 'u', 'i', 'f' or 'b'
    std::size_t item = 0;     // bytes per element
    std::vector<std::uint64_t> shape;
    std::uint64_t elements() const {
        std::uint64_t n = 1;
        for (auto d : shape) n = __builtin_mul_overflow(n, d, &n) ? ~std::uint64_t(0) : n;
        return n;
    }
};

NpyHeader read_npy_header(GzFile& f) {
    std::array<unsigned char, 8> magic{};
    f.read_exact(magic.data(), magic.size(), "the .npy magic");
    if (std::memcmp(magic.data(), "\x93NUMPY", 6) != 0)
        throw DataError(fmt::format("'{}' is not a NumPy .npy file (no \\x93NUMPY magic)", f.path()));
    const int major = magic[6];
    std::uint32_t length = 0;
    if (major == 1) {
        std::array<unsigned char, 2> b{};
        f.read_exact(b.data(), b.size(), "the .npy header length");
        length = b[0] | std::uint32_t(b[1]) << 8;
    } else if (major == 2 || major == 3) {
        std::array<unsigned char, 4> b{};
        f.read_exact(b.data(), b.size(), "the .npy header length");
        length = b[0] | std::uint32_t(b[1]) << 8 | std::uint32_t(b[2]) << 16 | std::uint32_t(b[3]) << 24;
    } else {
        throw DataError(fmt::format("'{}': .npy format version {} is not supported (1 to 3 are)", f.path(), major));
    }
    if (length > (1u << 20)) throw DataError(fmt::format("'{}': .npy header of {} bytes is implausible", f.path(), length));
    std::string header(length, '\0');
    f.read_exact(header.data(), header.size(), "the .npy header");
    const auto bad = [&](const std::string& why) {
        return DataError(fmt::format("'{}': bad .npy header ({}): {}", f.path(), why,
                                     header.substr(0, header.find_last_not_of(" \n") + 1)));
    };
    const auto value_of = [&](const char* key) {
        const std::size_t k = header.find(fmt::format("'{}'", key));
        if (k == std::string::npos) throw bad(fmt::format("no '{}'", key));
        const std::size_t colon = header.find(':', k);
        const std::size_t value = colon == std::string::npos ? colon : header.find_first_not_of(' ', colon + 1);
        if (value == std::string::npos) throw bad(fmt::format("no value for '{}'", key));
        return value;
    };
    NpyHeader h;
    {
        const std::size_t v = value_of("descr");
        if (header[v] != '\'' && header[v] != '"') throw bad("descr is not a string");
        const std::size_t end = header.find(header[v], v + 1);
        if (end == std::string::npos) throw bad("unterminated descr");
        const std::string descr = header.substr(v + 1, end - v - 1);
        std::size_t item = 0;
        const auto [p, ec] = descr.size() >= 3 ? std::from_chars(descr.data() + 2, descr.data() + descr.size(), item)
                                               : std::from_chars_result{nullptr, std::errc::invalid_argument};
        if (descr.size() < 3 || ec != std::errc() || p != descr.data() + descr.size() ||
            std::string_view("<|=").find(descr[0]) == std::string_view::npos ||
            std::string_view("uifb").find(descr[1]) == std::string_view::npos || item == 0 || item > 8)
            throw DataError(fmt::format("'{}': .npy dtype '{}' is not supported (use little-endian integers, float32 "
                                        "or float64)", f.path(), descr));
        h.kind = descr[1];
        h.item = item;
    }
    {
        const std::size_t v = value_of("fortran_order");
        if (header.compare(v, 5, "False") != 0)
            throw DataError(fmt::format("'{}': Fortran-order .npy arrays are not supported (save with C order)",
                                        f.path()));
    }
    {
        const std::size_t v = value_of("shape");
        if (header[v] != '(') throw bad("shape is not a tuple");
        const std::size_t end = header.find(')', v);
        if (end == std::string::npos) throw bad("unterminated shape");
        for (std::size_t pos = v + 1; pos < end;) {
            pos = header.find_first_not_of(" ,", pos);
            if (pos >= end) break;
            std::uint64_t d = 0;
            const auto [p, ec] = std::from_chars(header.data() + pos, header.data() + end, d);
            if (ec != std::errc()) throw bad("shape holds a non-integer");
            h.shape.push_back(d);
            pos = std::size_t(p - header.data());
        }
    }
    if (h.elements() > kMaxIdxBytes)
        throw DataError(fmt::format("'{}': a .npy array of {} elements is implausibly large", f.path(), h.elements()));
    return h;
}

template <typename T>
T load_le(const unsigned char* p) {
    T v;
    static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian machine");
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Reads exactly n bytes, growing the buffer as data arrives: a header that claims gigabytes over a
// short file fails as truncated without allocating them first.
std::vector<unsigned char> read_bytes(GzFile& f, std::uint64_t n, const char* what) {
    if (n > kMaxIdxBytes) throw DataError(fmt::format("'{}': {} bytes of {} is implausibly large", f.path(), n, what));
    constexpr std::size_t kChunk = std::size_t(1) << 26;
    std::vector<unsigned char> out;
    while (out.size() < n) {
        const std::size_t want = std::size_t(std::min<std::uint64_t>(kChunk, n - out.size()));
        const std::size_t at = out.size();
        out.resize(at + want);
        const std::size_t got = f.read_some(out.data() + at, want);
        if (got != want)
            throw DataError(fmt::format("'{}' is truncated: expected {} bytes of {}, found {}", f.path(), n, what, at + got));
    }
    return out;
}

// Reads the array's data as doubles (integers exactly up to 2^53; labels and bytes are far below).
std::vector<double> read_npy_values(GzFile& f, const NpyHeader& h) {
    const std::uint64_t n = h.elements();
    const std::vector<unsigned char> raw = read_bytes(f, n * h.item, "array data");
    std::vector<double> out(n);
    for (std::uint64_t i = 0; i < n; ++i) {
        const unsigned char* p = raw.data() + i * h.item;
        double v = 0;
        switch (h.kind) {
            case 'b': v = p[0] != 0; break;
            case 'u':
                v = h.item == 1 ? p[0] : h.item == 2 ? load_le<std::uint16_t>(p) : h.item == 4 ? load_le<std::uint32_t>(p)
                                                                             : double(load_le<std::uint64_t>(p));
                break;
            case 'i':
                v = h.item == 1 ? double(std::int8_t(p[0])) : h.item == 2 ? load_le<std::int16_t>(p)
                    : h.item == 4 ? load_le<std::int32_t>(p) : double(load_le<std::int64_t>(p));
                break;
            case 'f':
                if (h.item == 4) v = std::bit_cast<float>(load_le<std::uint32_t>(p));
                else if (h.item == 8) v = std::bit_cast<double>(load_le<std::uint64_t>(p));
                else throw DataError(fmt::format("'{}': float{} .npy arrays are not supported", f.path(), 8 * h.item));
                break;
        }
        out[i] = v;
    }
    return out;
}

std::vector<std::int32_t> checked_labels(const std::vector<double>& raw, int classes, const std::string& path) {
    std::vector<std::int32_t> labels(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (!(raw[i] >= 0 && raw[i] < classes) || raw[i] != std::floor(raw[i]))
            throw DataError(fmt::format("'{}': label {} at index {} is not in [0, {})", path, raw[i], i, classes));
        labels[i] = std::int32_t(raw[i]);
    }
    return labels;
}

void set_unit_normalisation(Dataset& d) {
    d.mean.assign(std::size_t(d.shape.channels), 0.0f);
    d.std.assign(std::size_t(d.shape.channels), 1.0f);
}

}  // namespace

void Dataset::gather(const std::size_t* idx, std::size_t count, float* out) const {
    const std::size_t plane = std::size_t(shape.height) * shape.width;
    const std::size_t image = shape.size();
    if (is_float()) {
        for (std::size_t c = 0; c < std::size_t(shape.channels); ++c) {
            const float m = mean[c], inv = 1.0f / std[c];
            for (std::size_t i = 0; i < count; ++i) {
                const float* src = values.data() + idx[i] * image + c * plane;
                float* dst = out + i * image + c * plane;
                for (std::size_t p = 0; p < plane; ++p) dst[p] = (src[p] - m) * inv;
            }
        }
        return;
    }
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

Dataset load_idx(const std::string& images_path, const std::string& labels_path, int classes) {
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
    d.classes = classes;
    if (const auto bad = std::find_if(d.labels.begin(), d.labels.end(), [&](auto l) { return l >= d.classes; });
        bad != d.labels.end())
        throw DataError(fmt::format("'{}': label {} at index {} is not in [0, {})", labels_path, *bad,
                                    bad - d.labels.begin(), d.classes));
    set_unit_normalisation(d);
    return d;
}

Dataset load_cifar_bin(const std::vector<std::string>& files, ImageShape shape, int classes) {
    if (files.empty()) throw DataError("load_cifar_bin: no files given");
    if (shape.channels <= 0 || shape.height <= 0 || shape.width <= 0 || shape.size() > kMaxIdxBytes)
        throw DataError(fmt::format("load_cifar_bin: bad record shape {}x{}x{}", shape.channels, shape.height,
                                    shape.width));
    const bool cifar10 = shape.size() == kCifarImageBytes && classes == 10;
    const std::string what = cifar10 ? "not a CIFAR-10 binary batch?" : fmt::format("records of 1 + {} bytes", shape.size());
    Dataset d;
    d.shape = shape;
    d.classes = classes;
    std::vector<std::uint8_t> record(1 + shape.size());
    for (const std::string& path : files) {
        GzFile f(path);
        std::size_t records = 0;
        for (;;) {
            const std::size_t got = f.read_some(record.data(), record.size());
            if (got == 0) break;
            if (got != record.size())
                throw DataError(fmt::format("'{}' is truncated: record {} has {} of {} bytes ({})", path, records,
                                            got, record.size(), what));
            if (record[0] >= d.classes)
                throw DataError(fmt::format("'{}': label {} of record {} is not in [0, {}) ({})", path, record[0],
                                            records, d.classes, what));
            d.labels.push_back(record[0]);
            d.pixels.insert(d.pixels.end(), record.begin() + 1, record.end());
            ++records;
        }
        if (records == 0) throw DataError(fmt::format("'{}' is empty", path));
    }
    set_unit_normalisation(d);
    return d;
}

Dataset load_npy(const std::string& images_path, const std::string& labels_path, ImageShape shape, int classes) {
    Dataset d;
    d.shape = shape;
    d.classes = classes;
    std::uint64_t n = 0;
    {
        GzFile f(images_path);
        const NpyHeader h = read_npy_header(f);
        const std::string dims = fmt::format("{}", fmt::join(h.shape, ", "));
        const bool fits = !h.shape.empty() &&
                          ((h.shape.size() == 4 && h.shape[1] == std::uint64_t(shape.channels) &&
                            h.shape[2] == std::uint64_t(shape.height) && h.shape[3] == std::uint64_t(shape.width)) ||
                           (h.shape.size() == 3 && shape.channels == 1 && h.shape[1] == std::uint64_t(shape.height) &&
                            h.shape[2] == std::uint64_t(shape.width)) ||
                           (h.shape.size() == 2 && h.shape[1] == shape.size()));
        if (!fits)
            throw DataError(fmt::format("'{}' holds an array of shape ({}): the task's examples are {}x{}x{} (expected "
                                        "[N, {}, {}, {}], [N, {}] or, for one channel, [N, {}, {}])",
                                        images_path, dims, shape.channels, shape.height, shape.width, shape.channels,
                                        shape.height, shape.width, shape.size(), shape.height, shape.width));
        n = h.shape[0];
        if (h.kind == 'u' && h.item == 1) {
            d.pixels = read_bytes(f, h.elements(), "array data");
        } else if (h.kind == 'f') {
            const std::vector<double> v = read_npy_values(f, h);
            d.values.resize(v.size());
            for (std::size_t i = 0; i < v.size(); ++i) {
                if (!std::isfinite(v[i]))
                    throw DataError(fmt::format("'{}': value {} of example {} is not finite", images_path, v[i],
                                                i / shape.size()));
                d.values[i] = float(v[i]);
            }
        } else {
            throw DataError(fmt::format("'{}': image arrays must be uint8, float32 or float64", images_path));
        }
    }
    {
        GzFile f(labels_path);
        const NpyHeader h = read_npy_header(f);
        if (h.shape.size() != 1 || (h.kind != 'u' && h.kind != 'i'))
            throw DataError(fmt::format("'{}': labels must be a 1-D integer array, not ({}) of kind '{}'", labels_path,
                                        fmt::join(h.shape, ", "), h.kind));
        if (h.shape[0] != n)
            throw DataError(fmt::format("'{}' has {} labels but '{}' has {} examples", labels_path, h.shape[0],
                                        images_path, n));
        d.labels = checked_labels(read_npy_values(f, h), classes, labels_path);
    }
    set_unit_normalisation(d);
    return d;
}

Dataset load_csv(const std::string& path, const CsvOptions& options, ImageShape shape, int classes) {
    std::string text;
    {
        GzFile f(path);
        std::array<char, 1 << 16> chunk{};
        for (std::size_t got; (got = f.read_some(chunk.data(), chunk.size())) > 0;) {
            text.append(chunk.data(), got);
            if (text.size() > kMaxIdxBytes) throw DataError(fmt::format("'{}' is implausibly large", path));
        }
    }
    const std::size_t features = shape.size();
    Dataset d;
    d.shape = shape;
    d.classes = classes;
    std::vector<std::string_view> fields;
    int label = -1;
    std::size_t line_no = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string_view line(text.data() + pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
        fields.clear();
        for (std::size_t a = 0;;) {
            const std::size_t b = std::min(line.find(',', a), line.size());
            std::string_view field = line.substr(a, b - a);
            while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
            while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
            fields.push_back(field);
            if (b == line.size()) break;
            a = b + 1;
        }
        if (fields.size() != features + 1)
            throw DataError(fmt::format("{}:{}: {} columns, expected {} ({} features of {}x{}x{} and a label)", path,
                                        line_no, fields.size(), features + 1, features, shape.channels, shape.height,
                                        shape.width));
        if (label < 0) {
            if (!options.label_name.empty()) {
                if (!options.header)
                    throw DataError(fmt::format("'{}': a label column given by name needs a header line", path));
                const auto it = std::find(fields.begin(), fields.end(), options.label_name);
                if (it == fields.end())
                    throw DataError(fmt::format("{}:{}: no column named '{}' in the header", path, line_no,
                                                options.label_name));
                label = int(it - fields.begin());
            } else {
                label = options.label_index < 0 ? int(fields.size()) - 1 : options.label_index;
                if (label >= int(fields.size()))
                    throw DataError(fmt::format("{}:{}: label column {} is past the last column ({})", path, line_no,
                                                label, fields.size() - 1));
            }
            if (options.header) continue;
        }
        for (std::size_t c = 0; c < fields.size(); ++c) {
            const std::string_view field = fields[c];
            if (int(c) == label) {
                std::int64_t v = -1;
                const auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
                if (ec != std::errc() || p != field.data() + field.size() || v < 0 || v >= classes)
                    throw DataError(fmt::format("{}:{}: label '{}' is not an integer in [0, {})", path, line_no, field,
                                                classes));
                d.labels.push_back(std::int32_t(v));
            } else {
                double v = 0;
                const auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
                if (ec != std::errc() || p != field.data() + field.size() || !std::isfinite(v))
                    throw DataError(fmt::format("{}:{}: column {} holds '{}', not a finite number", path, line_no, c + 1,
                                                field));
                d.values.push_back(float(v));
            }
        }
    }
    if (d.labels.empty()) throw DataError(fmt::format("'{}' holds no examples", path));
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
    if (d.is_float())
        s.values.assign(d.values.begin() + std::ptrdiff_t(begin * image), d.values.begin() + std::ptrdiff_t(end * image));
    else
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
