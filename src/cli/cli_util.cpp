#include "cli_util.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdio>

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
    return total;
}

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    for (char ch : s) {
        switch (ch) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(ch) < 0x20)
                    out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(ch)));
                else
                    out += ch;
        }
    }
    return out;
}

}  // namespace actsearch::cli
