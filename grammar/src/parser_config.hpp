// Types shared by the grammar's definition (parser_grammar_def.hpp), its one instantiation
// (parser_grammar.cpp) and its one caller (parser.cpp): the instantiated context must match exactly.
#pragma once

#include <cstddef>
#include <string>

#include <boost/spirit/home/x3.hpp>

namespace actsearch::parser {

namespace x3 = boost::spirit::x3;

// What the rules' handlers need from the caller: where the input starts (byte positions) and where to
// leave the first error.
struct ParseState {
    const char* begin = nullptr;
    bool failed = false;
    std::string message;
    std::size_t position = 0;

    void fail(std::size_t at, std::string why) {
        if (failed) return;  // the innermost report is the precise one
        failed = true;
        position = at;
        message = std::move(why);
    }
};

struct parse_state_tag;

using iterator_type = const char*;
using phrase_context_type = x3::phrase_parse_context<x3::ascii::space_type>::type;
using context_type = x3::context<parse_state_tag, ParseState, phrase_context_type>;

}  // namespace actsearch::parser
