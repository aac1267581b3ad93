// Declarations of the X3 grammars (infix and AQuaSurF notation); definitions in parser_grammar_def.hpp,
// instantiated once in parser_grammar.cpp so that only one translation unit pays for Spirit.
#pragma once

#include <boost/spirit/home/x3.hpp>

#include "parser_ast.hpp"

namespace actsearch::parser {

namespace x3 = boost::spirit::x3;

struct infix_input_class;
struct aquasurf_input_class;
using infix_input_type = x3::rule<infix_input_class, ast::expression>;
using aquasurf_input_type = x3::rule<aquasurf_input_class, ast::call>;
BOOST_SPIRIT_DECLARE(infix_input_type, aquasurf_input_type)

// A whole input: an expression followed by the end of the input.
infix_input_type const& infix_input();
aquasurf_input_type const& aquasurf_input();

}  // namespace actsearch::parser
