#include "commands.hpp"

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

namespace actsearch::cli {

const char* version() noexcept { return ACTSEARCH_VERSION; }

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
        fmt::print(stderr, "error: {}\n", e.what());
        if (app.get_subcommands().empty()) fmt::print(stderr, "run 'actsearch --help' for the commands\n");
        return 2;
    } catch (const ReportedError& e) {
        return e.status;
    } catch (const UsageError& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    }
}

}  // namespace actsearch::cli
