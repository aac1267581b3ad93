// actsearch space: inspect a search space (count raw and functionally unique candidates, list them).
#include <chrono>
#include <cstdio>
#include <limits>
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
#include "table_format.hpp"
#include "task_options.hpp"

namespace actsearch::cli {

namespace {

struct SpaceOptions {
    std::string space = "paper-core1";
    bool count = false;
    long long list = 0;
    std::uint64_t max_count = 10'000'000;
    std::string format = "table";
};

struct Counts {
    std::uint64_t structural = 0, invalid = 0, functional = 0;
    double seconds = 0;
};

Counts count_unique(const Space& space, std::uint64_t raw) {
    // Structural duplicates are caught by the canonical string, functional ones by the fingerprint.
    std::unordered_set<std::string> canonical;
    std::unordered_set<std::uint64_t> functional;
    Counts c;
    const bool tty = stderr_is_tty();
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < raw; ++i) {
        const Expr e = canonicalize(space.build(space.decode(i)));
        if (!canonical.insert(to_infix(e)).second) continue;
        const Fingerprint fp = fingerprint(e);
        if (!fp.valid) {
            ++c.invalid;
            continue;
        }
        functional.insert(fp.hash);
        if (tty && (i % 4096 == 0))
            fmt::print(stderr, "\r  counting {}/{} ({:.0f}%)", i, raw, 100.0 * double(i) / double(raw));
    }
    if (tty) fmt::print(stderr, "\r{:60}\r", "");
    c.structural = canonical.size();
    c.functional = functional.size();
    c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return c;
}

void run_space(const SpaceOptions& o) {
    const OutputFormat format = output_format_from(o.format);
    const Space space = load_space_or_usage(o.space);
    const std::uint64_t raw = space.raw_count();
    if (o.count && raw > o.max_count)
        throw UsageError(fmt::format("space has {} raw candidates; counting unique ones would take too long "
                                     "(raise --max-count to insist)", raw));
    const std::uint64_t listed = std::min<std::uint64_t>(raw, static_cast<std::uint64_t>(o.list));
    auto candidate = [&](std::uint64_t i) { return canonical_string(space.build(space.decode(i))); };

    if (format == OutputFormat::Csv) {   // the listed candidates (--list N)
        Table t;
        t.columns = {{"index"}, {"expression"}};
        for (std::uint64_t i = 0; i < listed; ++i) t.add_row({static_cast<std::int64_t>(i), candidate(i)});
        fmt::print("{}", render_csv(t));
        return;
    }
    if (format == OutputFormat::Json) {
        Json doc = {{"space", space.name}, {"units", space.units}, {"unary", space.unary_text},
                    {"binary", space.binary_text}, {"raw", raw}};
        Json& list = doc["list"] = Json::array();
        for (std::uint64_t i = 0; i < listed; ++i) list.push_back({{"index", i}, {"expression", candidate(i)}});
        if (o.count) {
            const Counts c = count_unique(space, raw);
            doc["structurally_unique"] = c.structural;
            doc["invalid"] = c.invalid;
            doc["functionally_unique"] = c.functional;
            doc["seconds"] = c.seconds;
        }
        fmt::print("{}", json_text(doc));
        return;
    }
    fmt::print("space        {}\n", space.name);
    fmt::print("core units   {}\n", space.units);
    fmt::print("unary        {} : {}\n", space.unary_text.size(), fmt::join(space.unary_text, ", "));
    fmt::print("binary       {} : {}\n", space.binary_text.size(), fmt::join(space.binary_text, ", "));
    fmt::print("raw          {}\n", raw);
    for (std::uint64_t i = 0; i < listed; ++i) fmt::print("{:>8}  {}\n", i, candidate(i));
    if (!o.count) return;
    const Counts c = count_unique(space, raw);
    fmt::print("structurally unique  {}\n", c.structural);
    fmt::print("invalid on probes    {}\n", c.invalid);
    fmt::print("functionally unique  {}  (valid, distinct fingerprints)\n", c.functional);
    fmt::print("counted in {:.1f} s\n", c.seconds);
}

}  // namespace

void add_space_command(CLI::App& app) {
    auto opts = std::make_shared<SpaceOptions>();
    CLI::App* cmd = app.add_subcommand("space", "Describe a search space; count or list its candidates");
    cmd->add_option("--space", opts->space, "Built-in space name or path to a .space file")->capture_default_str();
    cmd->add_flag("--count", opts->count, "Count structurally and functionally unique candidates");
    int_range(cmd->add_option("--list", opts->list, "List the first N candidates in enumeration order"), 0,
              limits::kListed);
    int_range(cmd->add_option("--max-count", opts->max_count, "Refuse --count above this many raw candidates")
                  ->capture_default_str(),
              1, std::numeric_limits<std::int64_t>::max());
    add_format_option(cmd, opts->format, "table, csv (the --list candidates) or json (everything)");
    cmd->callback([opts] { run_space(*opts); });
}

}  // namespace actsearch::cli
