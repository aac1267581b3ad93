#include "config_file.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "table_task.hpp"

namespace actsearch::cli {
namespace {

// Options that never change what a search computes: left out of a run's configuration.
const std::set<std::string> kNotRecorded{"help", "config", "db", "threads", "resume", "new-run", "quiet"};
const char* const kFidelityNames[] = {"steps", "width", "depth", "lr", "batch",
                                      "schedule", "warmup", "wd", "clip", "recal"};

std::string toml_value(const std::string& v) {
    static const std::regex number(R"([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)");
    if (v == "true" || v == "false" || std::regex_match(v, number)) return v;
    std::string quoted = "\"";
    for (char c : v) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
    }
    return quoted + "\"";
}

std::string toml_line(const std::string& name, const std::vector<std::string>& values) {
    if (values.size() == 1) return fmt::format("{} = {}\n", name, toml_value(values[0]));
    std::vector<std::string> quoted;
    for (const auto& v : values) quoted.push_back(toml_value(v));
    return fmt::format("{} = [{}]\n", name, fmt::join(quoted, ", "));
}

std::map<std::string, std::string> resolved_fidelity(const TaskOptions& screen) {
    if (is_table_task(screen.task)) return {};
    const engine::Fidelity f = resolve_task_or_usage(screen).fidelity;
    return {{"steps", fmt::format("{}", f.steps)},   {"width", fmt::format("{}", f.width)},
            {"depth", fmt::format("{}", f.depth)},   {"lr", fmt::format("{}", f.lr)},
            {"batch", fmt::format("{}", f.batch)},   {"schedule", engine::to_string(f.schedule)},
            {"warmup", fmt::format("{}", f.warmup)}, {"wd", fmt::format("{}", f.wd)},
            {"clip", fmt::format("{}", f.clip)},     {"recal", fmt::format("{}", f.recal)}};
}

// Fills the options the command line left unset from the file, as CLI11 does for a top-level app (its
// own config processing does not run for subcommands in CLI11 2.1). Errors are CLI11 parse errors:
// exit status 2 with one line.
void apply_config_file(CLI::App& cmd, const std::string& path) {
    CLI::ConfigTOML reader;   // from_file is not const
    for (const CLI::ConfigItem& item : reader.from_file(path)) {   // FileError when it cannot be read
        if (item.name == "++" || item.name == "--") continue;      // [section] markers
        const bool here = item.parents.empty() || (item.parents.size() == 1 && item.parents[0] == cmd.get_name());
        CLI::Option* opt = here ? cmd.get_option_no_throw("--" + item.name) : nullptr;
        if (opt == nullptr || item.name == "config")
            throw CLI::ConfigError(fmt::format("{}: '{}' is not an option of {}", path, item.fullname(), cmd.get_name()));
        if (opt->count() > 0) continue;   // the command line wins
        if (opt->get_items_expected_max() == 0) {
            opt->add_result(opt->get_flag_value(item.name, reader.to_flag(item)));
        } else {
            opt->add_result(item.inputs);
        }
        opt->run_callback();   // converts and checks now (ValidationError on a bad value)
    }
}

}  // namespace

void add_config_option(CLI::App* cmd) {
    auto path = std::make_shared<std::string>();
    cmd->add_option("--config", *path, "Read options from a TOML file (names without dashes; the command line wins)");
    cmd->parse_complete_callback([cmd, path] {
        if (!path->empty()) apply_config_file(*cmd, *path);
    });
    cmd->footer(
        "Configuration file (--config FILE), e.g.:\n"
        "  space = \"paper-core1\"\n  strategy = \"evolution\"\n  task = \"fmnist-mlp\"\n  budget = 400\n"
        "  steps = 400\n  promote = 5\n  promote-task = \"fmnist-cnn\"\n"
        "A run's own file: actsearch runs --show RUN --format toml (a full example: docs/search.toml).");
}

std::string search_config_toml(const CLI::App& cmd, const TaskOptions& screen) {
    const auto fidelity = resolved_fidelity(screen);
    std::string out;
    for (const CLI::Option* opt : cmd.get_options()) {
        if (opt->get_lnames().empty()) continue;
        const std::string name = opt->get_lnames().front();
        if (kNotRecorded.count(name)) continue;
        if (auto it = fidelity.find(name); it != fidelity.end()) {
            out += toml_line(name, {it->second});
        } else if (opt->count() > 0) {
            out += toml_line(name, opt->get_items_expected_max() == 0 ? std::vector<std::string>{"true"} : opt->results());
        } else if (!opt->get_default_str().empty()) {
            out += toml_line(name, {opt->get_default_str()});
        }
    }
    return out;
}

std::string run_config_toml(db::Store& store, std::int64_t run) {
    const auto info = store.run(run);
    if (!info) throw UsageError(fmt::format("no run {} in '{}'", run, store.path()));
    std::string out = fmt::format("# actsearch run {}: {} search of {} on {}, started {} by actsearch {}\n", run,
                                  info->strategy, info->space, info->task, info->created, info->version);
    if (auto stored = store.load_state(run, kRunConfigKey)) return out + *stored;

    // A run of an earlier version: what its key holds.
    const auto key = nlohmann::json::parse(info->config_json, nullptr, /*allow_exceptions=*/false);
    if (!key.is_object()) throw std::runtime_error(fmt::format("run {} has an unreadable configuration", run));
    out += "# (recorded before configuration files: budget and promotion were not stored)\n";
    auto text = [&](const char* k) { return key.contains(k) ? key[k].dump() : std::string("\"\""); };
    out += fmt::format("space = {}\nstrategy = {}\ntask = {}\n", text("space"), text("strategy"), text("task"));
    if (key.contains("fidelity") && key["fidelity"].is_string()) {
        std::istringstream words(key["fidelity"].get<std::string>());
        for (std::string w; words >> w;)
            if (const auto eq = w.find('='); eq != std::string::npos &&
                std::find(std::begin(kFidelityNames), std::end(kFidelityNames), w.substr(0, eq)) != std::end(kFidelityNames))
                out += toml_line(w.substr(0, eq), {w.substr(eq + 1)});
    }
    for (const char* k : {"seeds", "seed"})
        if (key.contains(k)) out += fmt::format("{} = {}\n", k, key[k].dump());
    if (key.value("batch", 0) > 0) out += fmt::format("round = {}\n", key["batch"].dump());
    return out;
}

}  // namespace actsearch::cli
