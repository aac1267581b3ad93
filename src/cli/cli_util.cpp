#include "cli_util.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "commands.hpp"

namespace actsearch::cli {

Expr parse_or_report(std::string_view text, Notation notation) {
    ParseResult r = parse(text, notation);
    if (!r.ok()) {
        fmt::print(stderr, "{}\n", r.error().pretty(text));
        throw ReportedError(2);
    }
    return r.expr();
}

Space load_space_or_usage(const std::string& name_or_path) {
    auto loaded = load_space(name_or_path);
    if (auto* err = std::get_if<SpaceError>(&loaded)) throw UsageError(err->message);
    return std::get<Space>(std::move(loaded));
}

Notation notation_from(const std::string& name) {
    if (name == "infix") return Notation::Infix;
    if (name == "aquasurf") return Notation::AquaSurf;
    throw UsageError(fmt::format("unknown notation '{}' (expected infix or aquasurf)", name));
}

void check_output_folder(const std::string& path) {
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (!dir.empty() && !std::filesystem::is_directory(dir))
        throw UsageError(fmt::format("cannot write '{}': directory '{}' does not exist", path, dir.string()));
}

void write_text_file(const std::string& path, const std::string& text) {
    std::ofstream file(path, std::ios::binary);
    file << text;
    file.close();
    if (!file) throw std::runtime_error(fmt::format("cannot write '{}'", path));
}

bool stdout_is_tty() { return ::isatty(STDOUT_FILENO) == 1; }
bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

double parse_duration(const std::string& text) {
    double total = 0;
    std::size_t i = 0;
    bool any = false;
    while (i < text.size()) {
        std::size_t j = i;
        while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) ++j;
        if (j == i) throw UsageError(fmt::format("bad duration '{}' (examples: 90s, 15m, 2h, 1h30m)", text));
        double v = 0;
        try {
            v = std::stod(text.substr(i, j - i));
        } catch (...) {
            throw UsageError(fmt::format("bad duration '{}'", text));
        }
        double unit = 1;
        if (j < text.size()) {
            switch (text[j]) {
                case 's': unit = 1; break;
                case 'm': unit = 60; break;
                case 'h': unit = 3600; break;
                case 'd': unit = 86400; break;
                default: throw UsageError(fmt::format("bad duration '{}' (units: s, m, h, d)", text));
            }
            ++j;
        }
        total += v * unit;
        any = true;
        i = j;
    }
    if (!any || total <= 0) throw UsageError(fmt::format("bad duration '{}' (must be positive)", text));
    constexpr double kMaxDuration = 366 * 86400.0;
    if (!(total <= kMaxDuration)) throw UsageError(fmt::format("duration '{}' is too long (at most 366d)", text));
    return total;
}

CLI::Option* int_range(CLI::Option* opt, std::int64_t lo, std::int64_t hi) {
    const std::string bounds = fmt::format("must be between {} and {}", lo, hi);
    return opt->check(CLI::Validator(
        [lo, hi, bounds](std::string& text) -> std::string {
            std::int64_t v = 0;
            const char* end = text.data() + text.size();
            const auto [ptr, ec] = std::from_chars(text.data(), end, v);
            if (ec == std::errc::result_out_of_range) return bounds;
            if (ec != std::errc() || ptr != end) return fmt::format("must be an integer between {} and {}", lo, hi);
            return v < lo || v > hi ? bounds : std::string();
        },
        fmt::format("INT in [{} - {}]", lo, hi)));
}

CLI::Option* real_range(CLI::Option* opt, double lo, double hi, bool lo_inclusive) {
    const std::string bounds = lo_inclusive ? fmt::format("must be a number between {} and {}", lo, hi)
                                            : fmt::format("must be a number above {} and at most {}", lo, hi);
    return opt->check(CLI::Validator(
        [lo, hi, lo_inclusive, bounds](std::string& text) -> std::string {
            const char* begin = text.c_str();
            char* end = nullptr;
            const double v = std::strtod(begin, &end);
            if (text.empty() || end != begin + text.size() || !std::isfinite(v)) return bounds;
            const bool above = lo_inclusive ? v >= lo : v > lo;
            return above && v <= hi ? std::string() : bounds;
        },
        fmt::format("FLOAT in {}{} - {}]", lo_inclusive ? "[" : "(", lo, hi)));
}

CLI::Option* one_of(CLI::Option* opt, std::vector<std::pair<std::string, int>> choices) {
    std::string names, list;
    for (const auto& [name, value] : choices) {
        names += (names.empty() ? "" : ", ") + name;
        list += (list.empty() ? "" : ",") + name;
    }
    return opt->transform(CLI::Validator(
        [choices, message = "must be one of " + names](std::string& text) -> std::string {
            std::string lower = text;
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
            for (const auto& [name, value] : choices)
                if (name == lower) {
                    text = std::to_string(value);
                    return {};
                }
            return message;
        },
        "{" + list + "}"));
}

std::unique_ptr<db::Store> open_store(const std::string& path, bool read_only) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (fs::is_directory(status)) throw UsageError(fmt::format("'{}' is a directory, not a database file", path));
    if (!fs::exists(status)) {
        if (read_only) throw UsageError(fmt::format("no database at '{}' (run a search or eval first)", path));
        const fs::path dir = fs::path(path).parent_path();
        if (!dir.empty() && !fs::is_directory(dir, ec))
            throw UsageError(fmt::format("cannot create database '{}': folder '{}' does not exist", path, dir.string()));
    }
    try {
        return std::make_unique<db::Store>(path, read_only);
    } catch (const db::DbError& e) {
        throw UsageError(e.what());
    }
}

std::string mixed_engines_note(const std::vector<db::EngineCount>& engines) {
    if (engines.size() <= 1) return "";
    std::string parts;
    for (const db::EngineCount& e : engines)
        parts += fmt::format("{}{}: {}", parts.empty() ? "" : "; ", e.engine.empty() ? "not recorded" : e.engine,
                             e.evaluations);
    return fmt::format("note: these evaluations were trained by {} engines ({}); their rounding differs, so their "
                       "scores agree within seed noise, not bit for bit",
                       engines.size(), parts);
}

}  // namespace actsearch::cli
