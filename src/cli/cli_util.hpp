// Small pieces shared by the commands.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actsearch/db/store.hpp"

#include "actsearch/grammar/expr.hpp"
#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/space.hpp"

namespace CLI { class Option; }

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

// Bounds of an option, checked by CLI11 on the text before anything is converted or allocated. A value
// out of range (or not a number) fails with one line, "--seeds must be between 1 and 1000" (run() in
// commands.cpp turns CLI11's "--seeds: must be ..." into that). Both return `opt`.
CLI::Option* int_range(CLI::Option* opt, std::int64_t lo, std::int64_t hi);
// A finite real in (lo, hi] (lo_inclusive: [lo, hi]); "inf" and "nan" are refused.
CLI::Option* real_range(CLI::Option* opt, double lo, double hi, bool lo_inclusive = false);
// An enum option named by words (any case): {{"fp32", int(Precision::Fp32)}, ...}. Help shows
// "{fp32,bf16}" (what shell completion offers); anything else fails with one line, "--precision must
// be one of fp32, bf16".
CLI::Option* one_of(CLI::Option* opt, std::vector<std::pair<std::string, int>> choices);

// UsageError (exit 2) when the folder `path` would be written in does not exist: checked before the
// work that produces the file.
void check_output_folder(const std::string& path);
// Writes `text` to the file `path`; std::runtime_error "cannot write 'path'" when that fails.
void write_text_file(const std::string& path, const std::string& text);

// "" when the evaluations behind a ranking came from at most one engine; otherwise one line saying
// which engines (engine::identity(), "" for rows that do not record it) trained how many of them:
// their rounding differs, so such scores agree within seed noise, not bit for bit.
std::string mixed_engines_note(const std::vector<db::EngineCount>& engines);

// The results database, opened for a command. Everything wrong with the file itself is bad input
// (UsageError, exit 2): read_only and missing ("no database at 'x.db' (run a search or eval first)"),
// a directory, a folder that does not exist, not SQLite, truncated, another program's database, a newer
// schema. read_only never creates or changes the file.
std::unique_ptr<db::Store> open_store(const std::string& path, bool read_only);

}  // namespace actsearch::cli
