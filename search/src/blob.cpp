#include "blob.hpp"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <stdexcept>

#include <fmt/format.h>

namespace actsearch::search {
namespace {

constexpr std::string_view kMagic = "actsearch-search-state";

std::uint32_t checksum(std::string_view bytes) {
    // zlib's crc32 takes a uInt length; strategy states are far below 4 GiB but chunk anyway.
    uLong crc = crc32(0L, Z_NULL, 0);
    while (!bytes.empty()) {
        const auto chunk = static_cast<uInt>(std::min<std::size_t>(bytes.size(), 1u << 30));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), chunk);
        bytes.remove_prefix(chunk);
    }
    return static_cast<std::uint32_t>(crc);
}

void put_fixed32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
}

std::uint32_t get_fixed32(std::string_view in) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t(static_cast<unsigned char>(in[i])) << (8 * i);
    return v;
}

}  // namespace

BlobWriter::BlobWriter(std::string_view kind, std::uint32_t version) {
    bytes(kMagic);
    bytes(kind);
    u64(version);
}

void BlobWriter::u64(std::uint64_t v) {
    while (v >= 0x80) {
        out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
}

void BlobWriter::f64(double v) {
    const auto bits = std::bit_cast<std::uint64_t>(v);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xffu));
}

void BlobWriter::bytes(std::string_view s) {
    u64(s.size());
    out_.append(s);
}

void BlobWriter::u32s(const std::vector<std::uint32_t>& values) {
    u64(values.size());
    for (auto v : values) u64(v);
}

void BlobWriter::f64s(const std::vector<double>& values) {
    u64(values.size());
    for (double v : values) f64(v);
}

void BlobWriter::index_set(std::vector<std::uint64_t> indices) {
    std::sort(indices.begin(), indices.end());
    u64(indices.size());
    std::uint64_t previous = 0;
    for (auto index : indices) {
        u64(index - previous);
        previous = index;
    }
}

std::string BlobWriter::finish() && {
    put_fixed32(out_, checksum(out_));
    return std::move(out_);
}

BlobReader::BlobReader(const std::string& blob, std::string_view kind, std::uint32_t version)
    : kind_(kind) {
    if (blob.size() < 4) fail("blob too short");
    data_ = std::string_view(blob).substr(0, blob.size() - 4);
    if (get_fixed32(std::string_view(blob).substr(blob.size() - 4)) != checksum(data_))
        fail("checksum mismatch (corrupt or truncated blob)");
    if (bytes() != kMagic) fail("not a search strategy state");
    if (const auto stored_kind = bytes(); stored_kind != kind)
        fail(fmt::format("the blob holds the state of strategy '{}'", stored_kind));
    if (const auto stored_version = u64(); stored_version != version)
        fail(fmt::format("format version {} (this build reads version {})", stored_version, version));
}

void BlobReader::fail(std::string_view why) const {
    throw std::runtime_error(fmt::format("cannot load {} state: {}", kind_, why));
}

std::uint64_t BlobReader::u64() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (pos_ >= data_.size()) fail("unexpected end of blob");
        const auto byte = static_cast<unsigned char>(data_[pos_++]);
        v |= std::uint64_t(byte & 0x7f) << shift;
        if (!(byte & 0x80)) return v;
    }
    fail("malformed integer");
}

double BlobReader::f64() {
    if (data_.size() - pos_ < 8) fail("unexpected end of blob");
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits |= std::uint64_t(static_cast<unsigned char>(data_[pos_++])) << (8 * i);
    return std::bit_cast<double>(bits);
}

std::size_t BlobReader::count(std::size_t limit) {
    const auto n = u64();
    if (n > limit) fail(fmt::format("a count of {} exceeds its limit {}", n, limit));
    // Every counted item takes at least one byte: a larger count is damage, not a reason to allocate.
    if (n > data_.size() - pos_) fail("unexpected end of blob");
    return static_cast<std::size_t>(n);
}

std::string BlobReader::bytes() {
    const auto n = count(data_.size() - pos_);
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
}

std::vector<std::uint32_t> BlobReader::u32s() {
    std::vector<std::uint32_t> values(count(data_.size() - pos_));
    for (auto& v : values) {
        const auto x = u64();
        if (x > UINT32_MAX) fail("value out of range");
        v = static_cast<std::uint32_t>(x);
    }
    return values;
}

std::vector<double> BlobReader::f64s() {
    std::vector<double> values(count((data_.size() - pos_) / 8));
    for (auto& v : values) v = f64();
    return values;
}

std::vector<std::uint64_t> BlobReader::index_set() {
    std::vector<std::uint64_t> indices(count(data_.size() - pos_));
    std::uint64_t previous = 0;
    for (std::size_t i = 0; i < indices.size(); ++i) {
        const auto delta = u64();
        if (i > 0 && delta == 0) fail("repeated index in a set");
        if (delta > UINT64_MAX - previous) fail("index out of range");
        previous += delta;
        indices[i] = previous;
    }
    return indices;
}

void BlobReader::expect_end() const {
    if (pos_ != data_.size()) fail("trailing bytes after the state");
}

Rng read_rng(BlobReader& in, const Rng& like) {
    Rng rng = like;
    try {
        rng.set_state(in.bytes());
    } catch (const std::runtime_error& e) {
        in.fail(e.what());
    }
    return rng;
}

}  // namespace actsearch::search
