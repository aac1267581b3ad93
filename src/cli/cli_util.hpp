// Small pieces shared by the commands.
#pragma once

#include <string>
#include <string_view>

#include "actsearch/grammar/expr.hpp"
#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/space.hpp"

namespace actsearch::cli {

// Parses an expression given on the command line; on error prints the positioned message with a caret
// to stderr and throws ReportedError(2).
Expr parse_or_report(std::string_view text, Notation notation = Notation::Infix);

// A built-in space name or a .space file; UsageError with the one-line reason otherwise.
Space load_space_or_usage(const std::string& name_or_path);

// "infix" / "aquasurf" -> Notation; UsageError otherwise.
Notation notation_from(const std::string& name);

// True when stdout / stderr is a terminal (progress displays only then).
bool stdout_is_tty();
bool stderr_is_tty();

// "90s", "15m", "2h", "1h30m", plain seconds -> seconds; UsageError on anything else.
double parse_duration(const std::string& text);

// Escapes a string for a JSON string literal (without the quotes).
std::string json_escape(std::string_view s);

}  // namespace actsearch::cli
