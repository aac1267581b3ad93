// Configuration files for `actsearch search` (TOML, read by CLI11): --config FILE, and the configuration a
// run was started with printed back as such a file (`actsearch runs --show RUN --format toml`).
#pragma once

#include <cstdint>
#include <string>

#include "actsearch/db/store.hpp"
#include "task_options.hpp"

namespace CLI { class App; }

namespace actsearch::cli {

// Adds --config FILE to a command (its options by their long names, without dashes; the command line
// wins over the file) and an example to its --help.
void add_config_option(CLI::App* cmd);

// The options of a parsed `search` command as a TOML configuration file: every option given or with a
// default, the screening task's fidelity resolved to its values (so that a change of the task's defaults
// does not change what the file means), and none of the options that do not change the results (--db,
// --threads, --resume, --new-run, --quiet, --config).
std::string search_config_toml(const CLI::App& cmd, const TaskOptions& screen);

// Where a run keeps that file: its strategy_state row under this key.
inline constexpr const char* kRunConfigKey = "config";

// A run's configuration as a TOML file: the stored file, or for a run of an earlier version, the
// options its run key holds (space, strategy, task, fidelity, seeds, seed, round). UsageError when the
// run does not exist.
std::string run_config_toml(db::Store& store, std::int64_t run);

}  // namespace actsearch::cli
