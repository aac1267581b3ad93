// The X3 grammars. Only structure lives here: names are resolved, arities checked and literals
// range-checked when parser.cpp lowers the syntax tree, where each node carries its byte position.
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/spirit/home/x3.hpp>

#include "parser_ast.hpp"
#include "parser_ast_adapted.hpp"
#include "parser_config.hpp"
#include "parser_grammar.hpp"

namespace actsearch::parser {

namespace x3 = boost::spirit::x3;

namespace detail {

// One-line description of an expectation failure ("expected ')'"); `which` is the failed rule's name.
inline std::string describe_failure(std::string_view which, const char* where, const char* last) {
    const bool at_end = where == last;
    if (which == "end of input" && !at_end) {
        if (*where == ')') return "unmatched ')'";
        return std::string("unexpected '") + *where + "' after a complete expression";
    }
    std::string message = "expected ";
    message += which;
    message += at_end ? " but the input ended" : std::string(" before '") + *where + "'";
    return message;
}

}  // namespace detail

// Rule IDs. Every rule records the position of the node it produced (for messages about names,
// arities and literals); the whole-input rules turn expectation failures into one-line errors.
struct annotate_position {
    template <typename Iterator, typename Attribute, typename Context>
    void on_success(Iterator const& first, Iterator const&, Attribute& node, Context const& context) const {
        if constexpr (std::is_base_of_v<ast::positioned, Attribute>)
            node.position = static_cast<std::size_t>(first - x3::get<parse_state_tag>(context).begin);
    }
};

struct report_expectation_failure : annotate_position {
    template <typename Iterator, typename Exception, typename Context>
    x3::error_handler_result on_error(Iterator&, Iterator const& last, Exception const& failure,
                                      Context const& context) const {
        ParseState& state = x3::get<parse_state_tag>(context);
        // X3 reports the position before the skipper ran; point at the offending character instead.
        Iterator where = failure.where();
        while (where != last && std::isspace(static_cast<unsigned char>(*where))) ++where;
        state.fail(static_cast<std::size_t>(where - state.begin),
                   detail::describe_failure(failure.which(), where, last));
        return x3::error_handler_result::fail;
    }
};

struct infix_input_class : report_expectation_failure {};
struct aquasurf_input_class : report_expectation_failure {};
struct expression_class : annotate_position {};
struct term_class : annotate_position {};
struct unary_class : annotate_position {};
struct power_class : annotate_position {};
struct primary_class : annotate_position {};
struct named_class : annotate_position {};
struct exponent_class : annotate_position {};
struct number_class : annotate_position {};
struct call_class : annotate_position {};
struct arguments_class : annotate_position {};
struct call_arguments_class : annotate_position {};
struct end_class : annotate_position {};

// An unsigned decimal literal, kept as text: lowering converts it with std::from_chars, which rounds
// correctly (X3's real parser does not, and printed constants must read back bit for bit). `nan` and
// `inf` are not literals; they reach the identifier rule and lowering rejects them by name.
x3::rule<struct literal_text_class, std::string> const literal_text = "number";
auto const digits = +x3::ascii::digit;
auto const literal_text_def = x3::raw[x3::lexeme[((digits >> -('.' >> *x3::ascii::digit)) | ('.' >> digits)) >>
                                                 -(x3::ascii::char_("eE") >> -x3::ascii::char_("+-") >> digits)]];

// A rule so that its characters collect into one string attribute inside larger sequences.
x3::rule<struct identifier_class, std::string> const identifier = "name";
auto const identifier_def = x3::lexeme[(x3::ascii::alpha | x3::ascii::char_('_')) >>
                                       *(x3::ascii::alnum | x3::ascii::char_('_'))];

// Several rules share the name "operand": whichever is expected, the message reads the same.
infix_input_type const infix_input_rule = "expression";
x3::rule<expression_class, ast::expression> const expression = "expression";
x3::rule<term_class, ast::term> const term = "operand";
x3::rule<unary_class, ast::unary> const unary = "operand";
x3::rule<power_class, ast::power> const power = "operand";
x3::rule<primary_class, ast::operand> const primary = "operand";
x3::rule<named_class, ast::named> const named = "name";
x3::rule<exponent_class, ast::exponent> const exponent = "a number literal as exponent (x^2, x^-0.5)";
x3::rule<number_class, ast::number> const number = "number";
x3::rule<arguments_class, std::vector<ast::expression>> const arguments = "expression";
x3::rule<end_class> const end_of_input = "end of input";

auto const infix_input_rule_def = x3::eps > expression > end_of_input;
auto const expression_def = term >> *(x3::ascii::char_("+-") > term);
auto const term_def = unary >> *(x3::ascii::char_("*/") > unary);
auto const unary_def = *x3::ascii::char_('-') >> power;
auto const power_def = primary >> *('^' > exponent);
auto const primary_def = number | named | ('(' > expression > ')');
auto const arguments_def = expression >> *(',' > expression);
auto const named_def = identifier >> -('(' > arguments > ')');
// Inner failures backtrack so that the message is the one of `'^' > exponent`.
auto const exponent_def = (x3::matches['-'] >> literal_text) | ('(' >> x3::matches['-'] >> literal_text >> ')');
auto const number_def = literal_text;
auto const end_of_input_def = x3::eoi;

aquasurf_input_type const aquasurf_input_rule = "expression";
x3::rule<call_class, ast::call> const call = "a function call or x";
x3::rule<call_arguments_class, std::vector<ast::call>> const call_arguments = "a function call or x";
auto const aquasurf_input_rule_def = x3::eps > call > end_of_input;
auto const call_arguments_def = call >> *(',' > call);
auto const call_def = identifier >> -('(' > call_arguments > ')');

BOOST_SPIRIT_DEFINE(literal_text, identifier, infix_input_rule, expression, term, unary, power, primary, named, exponent, number,
                    arguments, end_of_input, aquasurf_input_rule, call, call_arguments)


}  // namespace actsearch::parser
