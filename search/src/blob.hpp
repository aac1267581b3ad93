// Strategy state as bytes: a header naming the strategy and the format version, a payload of LEB128
// varints and little-endian doubles, and a CRC-32 of everything before it. The checksum turns a
// truncated or damaged blob (a half-written database row, a blob of another strategy) into one clear
// error instead of a strategy that silently continues from garbage.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actsearch/numeric/rng.hpp"

namespace actsearch::search {

// The strategies' generator (std::mt19937_64 with portable draws): its state is saved in their blobs.
using Rng = numeric::Mt64;

class BlobWriter {
public:
    // kind: the strategy's name; version: its state layout, bumped on any change.
    BlobWriter(std::string_view kind, std::uint32_t version);

    void u64(std::uint64_t v);
    void f64(double v);
    void bytes(std::string_view s);                      // length-prefixed
    void u32s(const std::vector<std::uint32_t>& values);  // length-prefixed
    void f64s(const std::vector<double>& values);        // length-prefixed
    // A set of distinct indices, sorted and delta-coded so that a long run history stays small.
    void index_set(std::vector<std::uint64_t> indices);

    // The finished blob (checksum appended); the writer is spent afterwards.
    std::string finish() &&;

private:
    std::string out_;
};

// Every read throws std::runtime_error("cannot load <kind> state: ...") on malformed input.
class BlobReader {
public:
    BlobReader(const std::string& blob, std::string_view kind, std::uint32_t version);

    std::uint64_t u64();
    double f64();
    std::string bytes();
    std::vector<std::uint32_t> u32s();
    std::vector<double> f64s();
    std::vector<std::uint64_t> index_set();
    // A count of items that must not exceed `limit` nor the bytes left (guards allocations sized by a
    // damaged field).
    std::size_t count(std::size_t limit);

    // Throws unless the whole payload was consumed.
    void expect_end() const;
    [[noreturn]] void fail(std::string_view why) const;

private:
    std::string_view data_;  // payload, checksum excluded
    std::size_t pos_ = 0;
    std::string kind_;
};

// The generator a strategy saved with out.bytes(rng.state()): a copy of `like` in that state. A state
// that does not parse fails the read like any other bad field.
Rng read_rng(BlobReader& in, const Rng& like);

}  // namespace actsearch::search
