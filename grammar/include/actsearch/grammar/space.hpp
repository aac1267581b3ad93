// Search spaces after Ramachandran et al.: a core unit is b(u1(a), u2(c)); the first unit's inputs are
// x, a later unit's inputs are x or an earlier unit's output; the candidate is the last unit's output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actsearch/grammar/expr.hpp"
#include "actsearch/grammar/parse.hpp"

namespace actsearch {

struct Space {
    std::string name;
    int units = 1;
    std::vector<std::string> unary_text;   // as written in the space file
    std::vector<std::string> binary_text;
    std::vector<Expr> unary;               // templates over x (argument 0)
    std::vector<Expr> binary;              // templates over x1, x2 (arguments 0, 1)

    // A candidate as choices, unit by unit: [in_a, in_b, u1, u2, b] per unit. in_a / in_b index into
    // {x, unit 0, ..., unit k-1}, so unit 0 has one choice (x) for each.
    using Choice = std::vector<std::uint32_t>;

    // Number of alternatives for token t (t = 5 * unit + field). The RL controller masks with this.
    std::uint32_t token_arity(std::size_t t) const;
    std::size_t token_count() const noexcept { return 5u * static_cast<std::size_t>(units); }

    // Raw size of the space: the product of all token arities.
    std::uint64_t raw_count() const;
    // Deterministic mixed-radix bijection between [0, raw_count()) and choices.
    Choice decode(std::uint64_t index) const;
    std::uint64_t encode(const Choice& c) const;
    // The candidate expression (betas split: each use its own parameter).
    Expr build(const Choice& c) const;
};

struct SpaceError {
    std::string message;  // one line, with file name and line number
};

// Space file syntax (see grammar/spaces/*.space and README):
//   # comment
//   name: paper-core1
//   units: 1
//   unary: x, -x, abs(x), ...
//   binary: x1 + x2, ...
// Lists split at top-level commas and continue on the next line after a trailing comma. Optional keys:
// `notation: aquasurf` (templates in AQuaSurF's prefix notation) and `description: free text`.
std::variant<Space, SpaceError> parse_space(std::string_view text, std::string_view origin);
// NAME (a built-in space compiled into the binary) or a path to a .space file.
std::variant<Space, SpaceError> load_space(std::string_view name_or_path);
std::vector<std::string> builtin_space_names();

}  // namespace actsearch
