// Small data sets in every format a task file reads, written by hand (IDX, CIFAR-style records, NumPy
// .npy, CSV), for the engine's and the command line's task-file tests. The data are separable: example
// i has label i % classes and its values are bright where (value index % classes) == label.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace actsearch::test_data {

struct Examples {
    int n = 0, classes = 3, channels = 1, height = 2, width = 2;
    int features() const { return channels * height * width; }
    int label(int i) const { return i % classes; }
    std::uint8_t byte(int i, int k) const {
        return std::uint8_t((k % classes == label(i) ? 180 : 30) + (i * 7 + k * 13) % 40);
    }
    float value(int i, int k) const { return float(byte(i, k)) / 255.0f; }
};

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes, bool gzip = false) {
    if (gzip) {
        gzFile f = gzopen(path.c_str(), "wb");
        gzwrite(f, bytes.data(), unsigned(bytes.size()));
        gzclose(f);
        return;
    }
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

inline std::string be32(std::uint32_t v) {
    return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

// IDX images [n, height, width] (one channel) and labels.
inline void write_idx(const Examples& e, const std::filesystem::path& images, const std::filesystem::path& labels,
                      bool gzip) {
    std::string im = be32(0x803) + be32(std::uint32_t(e.n)) + be32(std::uint32_t(e.height)) + be32(std::uint32_t(e.width));
    std::string lb = be32(0x801) + be32(std::uint32_t(e.n));
    for (int i = 0; i < e.n; ++i) {
        for (int k = 0; k < e.features(); ++k) im += char(e.byte(i, k));
        lb += char(e.label(i));
    }
    write_bytes(images, im, gzip);
    write_bytes(labels, lb, gzip);
}

// CIFAR-style records: a label byte, then the example's bytes.
inline void write_records(const Examples& e, const std::filesystem::path& path) {
    std::string bytes;
    for (int i = 0; i < e.n; ++i) {
        bytes += char(e.label(i));
        for (int k = 0; k < e.features(); ++k) bytes += char(e.byte(i, k));
    }
    write_bytes(path, bytes);
}

// A .npy file (format 1.0): the header dict, padded with spaces to a multiple of 64 bytes, then the raw
// little-endian data.
inline std::string npy(const std::string& descr, const std::vector<int>& shape, const std::string& data) {
    std::string dims;
    for (int d : shape) dims += std::to_string(d) + ", ";
    if (shape.size() > 1) dims.resize(dims.size() - 2);
    else if (!dims.empty()) dims.resize(dims.size() - 1);
    std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    const std::size_t unpadded = 10 + header.size() + 1;
    header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
    std::string out = "\x93NUMPY";
    out += char(1);
    out += char(0);
    out += char(header.size() & 0xff);
    out += char(header.size() >> 8);
    return out + header + data;
}

template <typename T>
std::string raw(const std::vector<T>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// Images as `descr` ('|u1', '<f4' or '<f8') shaped [n, C, H, W]; labels as '<i8'.
inline void write_npy(const Examples& e, const std::filesystem::path& images, const std::filesystem::path& labels,
                      const std::string& descr) {
    std::vector<std::uint8_t> b;
    std::vector<float> f;
    std::vector<double> d;
    std::vector<std::int64_t> l;
    for (int i = 0; i < e.n; ++i) {
        for (int k = 0; k < e.features(); ++k) {
            b.push_back(e.byte(i, k));
            f.push_back(e.value(i, k));
            d.push_back(e.value(i, k));
        }
        l.push_back(e.label(i));
    }
    const std::string data = descr == "|u1" ? raw(b) : descr == "<f4" ? raw(f) : raw(d);
    write_bytes(images, npy(descr, {e.n, e.channels, e.height, e.width}, data));
    write_bytes(labels, npy("<i8", {e.n}, raw(l)));
}

// CSV: a header (f0, f1, ..., label) unless `header` is false; the label column first or last.
inline void write_csv(const Examples& e, const std::filesystem::path& path, bool header, bool label_first) {
    std::string text;
    const auto row = [&](const std::vector<std::string>& features, const std::string& label) {
        std::string line = label_first ? label : "";
        for (std::size_t k = 0; k < features.size(); ++k) line += (k || label_first ? "," : "") + features[k];
        if (!label_first) line += "," + label;
        text += line + "\n";
    };
    if (header) {
        std::vector<std::string> names;
        for (int k = 0; k < e.features(); ++k) names.push_back(std::string(1, 'f').append(std::to_string(k)));
        row(names, "label");
    }
    for (int i = 0; i < e.n; ++i) {
        std::vector<std::string> values;
        for (int k = 0; k < e.features(); ++k) values.push_back(std::to_string(e.value(i, k)));
        row(values, std::to_string(e.label(i)));
    }
    write_bytes(path, text);
}

// Writes the data of `format` (idx, idx-gz, cifar, npy-u1, npy-f4, npy-f8, csv, csv-noheader) into `dir`
// and returns the [data] (without shape, classes), [train] and [validation] sections of a task file
// that reads it: 90 training and 30 validation examples (rows of one file set, or two file sets).
inline std::string write_format(const std::string& format, const std::filesystem::path& dir, const Examples& shape) {
    Examples e = shape;
    e.n = 120;
    const std::string dims = "shape = [" + std::to_string(e.channels) + ", " + std::to_string(e.height) + ", " +
                             std::to_string(e.width) + "]\nclasses = " + std::to_string(e.classes) + "\n";
    if (format == "idx" || format == "idx-gz") {
        const bool gz = format == "idx-gz";
        write_idx(e, dir / (gz ? "images.gz" : "images.idx"), dir / (gz ? "labels.gz" : "labels.idx"), gz);
        return "[data]\nformat = \"idx\"\n" + dims + "[train]\nimages = \"" + (gz ? "images.gz" : "images.idx") +
               "\"\nlabels = \"" + (gz ? "labels.gz" : "labels.idx") + "\"\nrows = [0, 90]\n[validation]\nrows = [90, 120]\n";
    }
    if (format == "cifar") {
        Examples train = e, validation = e;
        train.n = 90;
        validation.n = 30;
        write_records(train, dir / "train.bin");
        write_records(validation, dir / "val.bin");
        return "[data]\nformat = \"cifar\"\n" + dims + "[train]\nfiles = [\"train.bin\"]\n[validation]\nfiles = [\"val.bin\"]\n";
    }
    if (format.rfind("npy-", 0) == 0) {
        const std::string descr = format == "npy-u1" ? "|u1" : format == "npy-f4" ? "<f4" : "<f8";
        write_npy(e, dir / "x.npy", dir / "y.npy", descr);
        return "[data]\nformat = \"npy\"\n" + dims + "[train]\nimages = \"x.npy\"\nlabels = \"y.npy\"\nrows = [0, 90]\n"
               "[validation]\nrows = [90, 120]\n";
    }
    if (format == "csv") {
        Examples train = e, validation = e;
        train.n = 90;
        validation.n = 30;
        write_csv(train, dir / "train.csv", true, false);
        write_csv(validation, dir / "val.csv", true, false);
        return "[data]\nformat = \"csv\"\nlabel_column = \"label\"\n" + dims +
               "[train]\nfile = \"train.csv\"\n[validation]\nfile = \"val.csv\"\n";
    }
    if (format == "csv-noheader") {
        write_csv(e, dir / "all.csv", false, true);
        return "[data]\nformat = \"csv\"\nheader = false\nlabel_column = 0\n" + dims +
               "[train]\nfile = \"all.csv\"\nrows = [0, 90]\n[validation]\nrows = [90, 120]\n";
    }
    return {};
}

inline const std::vector<std::string>& formats() {
    static const std::vector<std::string> all{"idx", "idx-gz", "cifar", "npy-u1", "npy-f4", "npy-f8", "csv", "csv-noheader"};
    return all;
}

}  // namespace actsearch::test_data
