#pragma once

#include <boost/fusion/include/adapt_struct.hpp>

#include "parser_ast.hpp"

BOOST_FUSION_ADAPT_STRUCT(actsearch::parser::ast::number, text)
BOOST_FUSION_ADAPT_STRUCT(actsearch::parser::ast::named, name, args)
BOOST_FUSION_ADAPT_STRUCT(actsearch::parser::ast::exponent, negative, magnitude)
BOOST_FUSION_ADAPT_STRUCT(actsearch::parser::ast::power, base, exponents)
BOOST_FUSION_ADAPT_STRUCT(actsearch::parser::ast::unary, minus_signs, operand)
BOOST_FUSION_ADAPT_STRUCT(actsearch::parser::ast::product_step, op, operand)
BOOST_FUSION_ADAPT_STRUCT(actsearch::parser::ast::term, first, rest)
BOOST_FUSION_ADAPT_STRUCT(actsearch::parser::ast::sum_step, op, operand)
BOOST_FUSION_ADAPT_STRUCT(actsearch::parser::ast::expression, first, rest)
BOOST_FUSION_ADAPT_STRUCT(actsearch::parser::ast::call, name, args)
