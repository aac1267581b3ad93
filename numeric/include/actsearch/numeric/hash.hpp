// A 64-bit FNV-1a digest fed 8 bytes at a time, each field ended by its length: the identity of a
// task file and its data (name@hash, stored in databases: its values must never change) and the guard
// of the exported headers' shared math.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace actsearch::numeric {

class Fnv64 {
public:
    void bytes(const void* data, std::size_t n) noexcept {
        const auto* p = static_cast<const unsigned char*>(data);
        std::size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            std::uint64_t w;
            std::memcpy(&w, p + i, 8);
            h_ = (h_ ^ w) * kPrime;
        }
        for (; i < n; ++i) h_ = (h_ ^ p[i]) * kPrime;
        h_ = (h_ ^ n) * kPrime;   // the length ends every field
    }
    void text(std::string_view s) noexcept { bytes(s.data(), s.size()); }
    std::uint64_t value() const noexcept { return h_; }

private:
    static constexpr std::uint64_t kPrime = 0x100000001b3ull;
    std::uint64_t h_ = 0xcbf29ce484222325ull;
};

}  // namespace actsearch::numeric
