// Syntax tree of the Spirit X3 parser (private to grammar/src). It mirrors the grammar's precedence
// levels; parser.cpp lowers it to the flat postfix Expr and does every semantic check (names, arity,
// literal ranges) there, where a position is at hand for the message.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <boost/spirit/home/x3/support/ast/variant.hpp>

namespace actsearch::parser::ast {

namespace x3 = boost::spirit::x3;

// Byte offset of a node's first character, filled in by the rules' on_success handler.
struct positioned {
    std::size_t position = 0;
};

struct expression;

struct number : positioned {
    std::string text;  // digits, optional fraction and exponent; no sign
};

// `name` (a variable or constant) or `name(arg, ...)` (a function call).
struct named : positioned {
    std::string name;
    std::optional<std::vector<expression>> args;
};

struct operand : x3::variant<number, named, x3::forward_ast<expression>> {
    using base_type::base_type;
    using base_type::operator=;
};

// The exponent of `^` is a literal, optionally negated: x^2, x^-0.5, x^(-1).
struct exponent : positioned {
    bool negative = false;
    std::string magnitude;
};

// base ^ e1 ^ e2 ...: right-associative, folded to one exponent when lowered.
struct power {
    operand base;
    std::vector<exponent> exponents;
};

// A run of unary minus signs binds looser than ^: -x^2 = -(x^2).
struct unary : positioned {
    std::string minus_signs;
    power operand;
};

struct product_step {
    char op;  // '*' or '/'
    unary operand;
};

struct term {
    unary first;
    std::vector<product_step> rest;
};

struct sum_step {
    char op;  // '+' or '-'
    term operand;
};

struct expression {
    term first;
    std::vector<sum_step> rest;
};

// AQuaSurF notation: only `name` and `name(arg, ...)`.
struct call : positioned {
    std::string name;
    std::optional<std::vector<call>> args;
};

}  // namespace actsearch::parser::ast
