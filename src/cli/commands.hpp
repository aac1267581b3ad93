// The actsearch command line: each sub-command lives in its own cmd_*.cpp and registers itself with
// add_*_command. Callbacks report bad usage or bad input by throwing UsageError (exit status 2) and any
// other failure by throwing std::exception (exit status 1); run() prints one line on stderr.
#pragma once

#include <stdexcept>
#include <string>

namespace CLI { class App; }

namespace actsearch::cli {

struct UsageError : std::runtime_error { using std::runtime_error::runtime_error; };

// An error whose message has already been printed in full (e.g. a parse error with a caret).
struct ReportedError : std::runtime_error {
    int status;
    explicit ReportedError(int s) : std::runtime_error("reported"), status(s) {}
};

inline constexpr const char* kDefaultDb = "actsearch.db";
const char* version() noexcept;

void add_parse_command(CLI::App& app);
void add_space_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_search_command(CLI::App& app);
void add_runs_command(CLI::App& app);
void add_leaderboard_command(CLI::App& app);
void add_show_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_plot_command(CLI::App& app);
void add_fidelity_command(CLI::App& app);
void add_calibrate_command(CLI::App& app);
void add_harden_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_completion_command(CLI::App& app);   // hidden

// A CLI11 error message as one line: "--seeds: must be between 1 and 1000" -> "--seeds must be between 1
// and 1000"; line breaks become spaces.
std::string usage_message(std::string message);

// Sets up the app, parses, runs the chosen command; returns the process exit status.
int run(int argc, char** argv);

}  // namespace actsearch::cli
