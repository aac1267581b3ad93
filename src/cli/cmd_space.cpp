// actsearch space: inspect a search space (count raw and functionally unique candidates, list them).
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <unordered_set>
#include <variant>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "actsearch/grammar/fingerprint.hpp"
#include "actsearch/grammar/print.hpp"
#include "actsearch/grammar/space.hpp"
#include "cli_util.hpp"
#include "commands.hpp"

namespace actsearch::cli {

namespace {

struct SpaceOptions {
    std::string space = "paper-core1";
    bool count = false;
    long long list = 0;
    std::uint64_t max_count = 10'000'000;
};

void run_space(const SpaceOptions& o) {
    const Space space = load_space_or_usage(o.space);
    const std::uint64_t raw = space.raw_count();
    fmt::print("space        {}\n", space.name);
    fmt::print("core units   {}\n", space.units);
    fmt::print("unary        {} : {}\n", space.unary_text.size(), fmt::join(space.unary_text, ", "));
    fmt::print("binary       {} : {}\n", space.binary_text.size(), fmt::join(space.binary_text, ", "));
    fmt::print("raw          {}\n", raw);

    if (o.list > 0) {
        const std::uint64_t n = std::min<std::uint64_t>(raw, static_cast<std::uint64_t>(o.list));
        for (std::uint64_t i = 0; i < n; ++i)
            fmt::print("{:>8}  {}\n", i, canonical_string(space.build(space.decode(i))));
    }
    if (!o.count) return;
    if (raw > o.max_count)
        throw UsageError(fmt::format("space has {} raw candidates; counting unique ones would take too long "
                                     "(raise --max-count to insist)", raw));
    // Structural duplicates are caught by the canonical string, functional ones by the fingerprint.
    std::unordered_set<std::string> canonical;
    std::unordered_set<std::uint64_t> functional;
    std::uint64_t invalid = 0;
    const bool tty = stderr_is_tty();
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < raw; ++i) {
        const Expr e = canonicalize(space.build(space.decode(i)));
        if (!canonical.insert(to_infix(e)).second) continue;
        const Fingerprint fp = fingerprint(e);
        if (!fp.valid) {
            ++invalid;
            continue;
        }
        functional.insert(fp.hash);
        if (tty && (i % 4096 == 0))
            fmt::print(stderr, "\r  counting {}/{} ({:.0f}%)", i, raw, 100.0 * double(i) / double(raw));
    }
    if (tty) fmt::print(stderr, "\r{:60}\r", "");
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("structurally unique  {}\n", canonical.size());
    fmt::print("invalid on probes    {}\n", invalid);
    fmt::print("functionally unique  {}  (valid, distinct fingerprints)\n", functional.size());
    fmt::print("counted in {:.1f} s\n", secs);
}

}  // namespace

void add_space_command(CLI::App& app) {
    auto opts = std::make_shared<SpaceOptions>();
    CLI::App* cmd = app.add_subcommand("space", "Describe a search space; count or list its candidates");
    cmd->add_option("--space", opts->space, "Built-in space name or path to a .space file")->capture_default_str();
    cmd->add_flag("--count", opts->count, "Count structurally and functionally unique candidates");
    cmd->add_option("--list", opts->list, "List the first N candidates in enumeration order");
    cmd->add_option("--max-count", opts->max_count, "Refuse --count above this many raw candidates")
        ->capture_default_str();
    cmd->callback([opts] { run_space(*opts); });
}

}  // namespace actsearch::cli
