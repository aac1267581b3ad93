#include "actsearch/search/choice_shape.hpp"

#include <limits>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace actsearch::search {

ChoiceShape::ChoiceShape(std::vector<std::uint32_t> arities) : arities_(std::move(arities)) {
    if (arities_.empty()) throw std::invalid_argument("search space has no tokens");
    for (std::size_t t = 0; t < arities_.size(); ++t) {
        if (arities_[t] == 0) throw std::invalid_argument(fmt::format("token {} has no allowed value", t));
        if (count_ > std::numeric_limits<std::uint64_t>::max() / arities_[t])
            throw std::invalid_argument("search space has more than 2^64 candidates");
        count_ *= arities_[t];
    }
}

Space::Choice ChoiceShape::decode(std::uint64_t index) const {
    if (index >= count_)
        throw std::invalid_argument(fmt::format("candidate index {} outside [0, {})", index, count_));
    Space::Choice c(arities_.size());
    for (std::size_t t = arities_.size(); t-- > 0;) {
        c[t] = static_cast<std::uint32_t>(index % arities_[t]);
        index /= arities_[t];
    }
    return c;
}

std::uint64_t ChoiceShape::encode(const Space::Choice& c) const {
    check(c, "encode");
    std::uint64_t index = 0;
    for (std::size_t t = 0; t < arities_.size(); ++t) index = index * arities_[t] + c[t];
    return index;
}

bool ChoiceShape::contains(const Space::Choice& c) const noexcept {
    if (c.size() != arities_.size()) return false;
    for (std::size_t t = 0; t < c.size(); ++t)
        if (c[t] >= arities_[t]) return false;
    return true;
}

void ChoiceShape::check(const Space::Choice& c, std::string_view who) const {
    if (c.size() != arities_.size())
        throw std::invalid_argument(
            fmt::format("{}: choice has {} tokens, the space has {}", who, c.size(), arities_.size()));
    for (std::size_t t = 0; t < c.size(); ++t)
        if (c[t] >= arities_[t])
            throw std::invalid_argument(fmt::format("{}: token {} of [{}] is {}, outside [0, {})", who, t,
                                                    fmt::join(c, ", "), c[t], arities_[t]));
}

}  // namespace actsearch::search
