// The shape of a candidate as a strategy sees it: a fixed number of tokens, token t taking a value in
// [0, arity(t)). Strategies need nothing else from a Space, which keeps them testable without one.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "actsearch/grammar/space.hpp"

namespace actsearch::search {

class ChoiceShape {
public:
    // Throws std::invalid_argument on an empty list, a zero arity, or more than 2^64 choices.
    explicit ChoiceShape(std::vector<std::uint32_t> arities);

    std::size_t tokens() const noexcept { return arities_.size(); }
    std::uint32_t arity(std::size_t t) const { return arities_[t]; }
    const std::vector<std::uint32_t>& arities() const noexcept { return arities_; }

    // Number of distinct choices (the product of the arities).
    std::uint64_t count() const noexcept { return count_; }

    // The mixed-radix bijection of Space::decode / Space::encode: the last token varies fastest.
    Space::Choice decode(std::uint64_t index) const;
    std::uint64_t encode(const Space::Choice& c) const;

    // Right number of tokens, each below its arity.
    bool contains(const Space::Choice& c) const noexcept;
    // Throws std::invalid_argument("<who>: ...") naming the first offending token.
    void check(const Space::Choice& c, std::string_view who) const;

private:
    std::vector<std::uint32_t> arities_;
    std::uint64_t count_ = 1;
};

}  // namespace actsearch::search
