// Fuzzes the expression parser and what follows it on every candidate: parse (infix or AquaSurF
// notation, chosen by the first byte), print, re-parse, canonicalise, hash and fingerprint.
// Invariants (beyond "no crash, no sanitizer report, no exception"):
//   - a failed parse has a one-line message and a position inside the input, and pretty() works;
//   - to_infix(e) parses back, to an expression with the same canonical form as e;
//   - the canonical form is a fixed point: parsing and canonicalising it gives it back, with the same
//     structural hash;
//   - the fingerprint is deterministic (same hash, same validity twice).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "actsearch/grammar/fingerprint.hpp"
#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/print.hpp"
#include "fuzz_check.hpp"

using namespace actsearch;
using actsearch::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const Notation notation = (data[0] & 1) ? Notation::AquaSurf : Notation::Infix;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

    const ParseResult parsed = parse(input, notation);
    if (!parsed.ok()) {
        const ParseError& error = parsed.error();
        if (error.message.empty() || error.message.find('\n') != std::string::npos)
            fail("a parse error is one non-empty line", input, error.message);
        if (error.position > input.size()) fail("a parse error's position is inside the input", input, error.message);
        (void)error.pretty(input);
        return 0;
    }
    const Expr& e = parsed.expr();

    const std::string printed = to_infix(e);
    const ParseResult reparsed = parse(printed);
    if (!reparsed.ok()) fail("to_infix output parses", input, printed + " -> " + reparsed.error().message);

    const std::string canonical = canonical_string(e);
    if (canonical_string(reparsed.expr()) != canonical)
        fail("print and re-parse keep the canonical form", input, printed + " vs " + canonical);

    const ParseResult canonical_parsed = parse(canonical);
    if (!canonical_parsed.ok()) fail("the canonical form parses", input, canonical);
    const Expr recanonicalized = canonicalize(canonical_parsed.expr());
    if (to_infix(recanonicalized) != canonical)
        fail("the canonical form is a fixed point", input, canonical + " -> " + to_infix(recanonicalized));
    if (structural_hash(recanonicalized) != structural_hash(canonicalize(e)))
        fail("the canonical form's structural hash is stable", input, canonical);

    const Fingerprint first = fingerprint(e);
    const Fingerprint second = fingerprint(e);
    if (first.valid != second.valid || first.hash != second.hash || first.reason != second.reason)
        fail("the fingerprint is deterministic", input, printed);
    return 0;
}
