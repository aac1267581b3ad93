// The one translation unit that instantiates the X3 grammars.
#include "parser_config.hpp"
#include "parser_grammar_def.hpp"

namespace actsearch::parser {

BOOST_SPIRIT_INSTANTIATE(infix_input_type, iterator_type, context_type)
BOOST_SPIRIT_INSTANTIATE(aquasurf_input_type, iterator_type, context_type)

infix_input_type const& infix_input() { return infix_input_rule; }
aquasurf_input_type const& aquasurf_input() { return aquasurf_input_rule; }

}  // namespace actsearch::parser
