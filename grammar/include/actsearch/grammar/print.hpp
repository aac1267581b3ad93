#pragma once

#include <cstdint>
#include <string>

#include "actsearch/grammar/expr.hpp"

namespace actsearch {

// Infix text that parse() reads back to the same Expr (numbers printed with round-trip precision).
std::string to_infix(const Expr& e);

// Canonical form: constant folding, trivial identities (x*1, x+0, --x, ...), commutative operands in a
// fixed order, betas renumbered in order of appearance. Functionally equal to the input.
Expr canonicalize(const Expr& e);

// Structural hash of an expression (hash the canonical form to get one hash per canonical string).
std::uint64_t structural_hash(const Expr& e);

// canonicalize + to_infix: the key stored in the database.
std::string canonical_string(const Expr& e);

}  // namespace actsearch
