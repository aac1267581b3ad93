#include "commands.hpp"

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "actsearch/db/store.hpp"

namespace actsearch::cli {

const char* version() noexcept { return ACTSEARCH_VERSION; }

std::string usage_message(std::string message) {
    // The range checks (cli_util.hpp) say "must be ..."; CLI11 puts the option's name and a colon first.
    if (const auto colon = message.find(": must be "); colon != std::string::npos && message.rfind("--", 0) == 0)
        message.erase(colon, 1);
    // CLI11's own messages may span lines (e.g. a list of choices): one line on stderr.
    for (char& c : message)
        if (c == '\n') c = ' ';
    while (!message.empty() && message.back() == ' ') message.pop_back();
    return message;
}

int run(int argc, char** argv) {
    CLI::App app{"actsearch: automated activation-function search (after Ramachandran, Zoph & Le, 2017).\n"
                 "Candidates from a grammar of unary/binary primitives are scored by training small proxy\n"
                 "networks on the CPU; every result goes into a SQLite database.",
                 "actsearch"};
    app.set_version_flag("--version", version());
    app.require_subcommand(1);
    app.fallthrough(false);

    add_parse_command(app);
    add_space_command(app);
    add_eval_command(app);
    add_search_command(app);
    add_runs_command(app);
    add_leaderboard_command(app);
    add_show_command(app);
    add_export_command(app);
    add_plot_command(app);
    add_fidelity_command(app);
    add_calibrate_command(app);
    add_harden_command(app);
    add_report_command(app);
    add_completion_command(app);

    // The first word that is not an option names the command (the program itself has only --help and
    // --version).
    for (int i = 1; i < argc; ++i) {
        const std::string_view word = argv[i];
        if (word.empty() || word[0] == '-') continue;
        const auto known = app.get_subcommands([&](CLI::App* sub) { return sub->check_name(std::string(word)); });
        if (known.empty()) {
            fmt::print(stderr, "error: unknown command '{}'; see actsearch --help\n", word);
            return 2;
        }
        break;
    }

    try {
        app.parse(argc, argv);
        return 0;
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // Usage errors: one line, exit status 2 whatever CLI11 would have chosen.
        if (app.get_subcommands().empty()) {
            fmt::print(stderr, "error: no command given; see actsearch --help\n");
            return 2;
        }
        fmt::print(stderr, "error: {}\n", usage_message(e.what()));
        return 2;
    } catch (const ReportedError& e) {
        return e.status;
    } catch (const UsageError& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 2;
    } catch (const db::BadDatabase& e) {
        // A database the user pointed at that cannot be used as it is (permissions, other users' files).
        fmt::print(stderr, "error: {}\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    }
}

}  // namespace actsearch::cli
