#include "table_format.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"

namespace actsearch::cli {

OutputFormat output_format_from(const std::string& name) {
    if (name == "table") return OutputFormat::Table;
    if (name == "csv") return OutputFormat::Csv;
    if (name == "json") return OutputFormat::Json;
    throw UsageError(fmt::format("unknown format '{}' (expected table, csv or json)", name));
}

void add_format_option(CLI::App* cmd, std::string& format, const std::string& help) {
    CLI::Option* opt = cmd->add_option("--format", format, help)
                           ->capture_default_str()
                           ->check(CLI::IsMember({"table", "csv", "json"}));
    cmd->add_flag_callback("--json", [&format] { format = "json"; }, "Same as --format json")->excludes(opt);
}

std::string json_text(const Json& doc) {
    return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
}

std::string json_line(const Json& doc) { return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

void Table::add_row(std::vector<Cell> row) {
    if (row.size() != columns.size())
        throw std::logic_error(fmt::format("table row has {} cells for {} columns", row.size(), columns.size()));
    rows.push_back(std::move(row));
}

namespace {

bool is_missing(const Cell& c) {
    if (std::holds_alternative<std::monostate>(c)) return true;
    if (const double* d = std::get_if<double>(&c)) return !std::isfinite(*d);
    return false;
}

// Cell text for the aligned table.
std::string text_cell(const Cell& c, const Column& col) {
    if (is_missing(c)) return "-";
    if (const auto* i = std::get_if<std::int64_t>(&c)) return fmt::format("{}", *i);
    if (const auto* d = std::get_if<double>(&c)) return fmt::format("{:.{}f}", *d, col.precision);
    if (const auto* b = std::get_if<bool>(&c)) return *b ? "yes" : "no";
    return std::get<std::string>(c);
}

// Cell text for CSV: full precision, shortest round trip.
std::string exact_cell(const Cell& c) {
    if (is_missing(c)) return "";
    if (const auto* i = std::get_if<std::int64_t>(&c)) return fmt::format("{}", *i);
    if (const auto* d = std::get_if<double>(&c)) return fmt::format("{}", *d);
    if (const auto* b = std::get_if<bool>(&c)) return *b ? "true" : "false";
    return std::get<std::string>(c);
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string quoted = "\"";
    for (char ch : s) {
        if (ch == '"') quoted += '"';
        quoted += ch;
    }
    return quoted + '"';
}

}  // namespace

Json to_json(const Cell& c) {
    if (is_missing(c)) return nullptr;
    if (const auto* i = std::get_if<std::int64_t>(&c)) return *i;
    if (const auto* d = std::get_if<double>(&c)) return *d;
    if (const auto* b = std::get_if<bool>(&c)) return *b;
    return std::get<std::string>(c);
}

std::string render_text(const Table& t) {
    std::vector<std::vector<std::string>> cells;
    std::vector<std::size_t> width(t.columns.size());
    for (std::size_t j = 0; j < t.columns.size(); ++j) width[j] = t.columns[j].name.size();
    for (const auto& row : t.rows) {
        auto& out = cells.emplace_back();
        for (std::size_t j = 0; j < row.size(); ++j) {
            out.push_back(text_cell(row[j], t.columns[j]));
            width[j] = std::max(width[j], out.back().size());
        }
    }
    std::string text;
    auto line = [&](auto cell_text) {
        std::string l;
        for (std::size_t j = 0; j < t.columns.size(); ++j) {
            const std::string& s = cell_text(j);
            const bool last = j + 1 == t.columns.size();
            if (j > 0) l += "  ";
            if (t.columns[j].align == Align::Right)
                l += fmt::format("{:>{}}", s, width[j]);
            else
                l += last ? s : fmt::format("{:<{}}", s, width[j]);
        }
        while (!l.empty() && l.back() == ' ') l.pop_back();
        text += l;
        text += '\n';
    };
    line([&](std::size_t j) -> const std::string& { return t.columns[j].name; });
    for (const auto& row : cells) line([&](std::size_t j) -> const std::string& { return row[j]; });
    return text;
}

std::string render_csv(const Table& t) {
    std::string text;
    for (std::size_t j = 0; j < t.columns.size(); ++j) {
        if (j > 0) text += ',';
        text += csv_field(t.columns[j].name);
    }
    text += '\n';
    for (const auto& row : t.rows) {
        for (std::size_t j = 0; j < row.size(); ++j) {
            if (j > 0) text += ',';
            text += csv_field(exact_cell(row[j]));
        }
        text += '\n';
    }
    return text;
}

Json to_json(const Table& t) {
    Json array = Json::array();
    for (const auto& row : t.rows) {
        Json object = Json::object();
        for (std::size_t j = 0; j < t.columns.size(); ++j) object[t.columns[j].name] = to_json(row[j]);
        array.push_back(std::move(object));
    }
    return array;
}

std::string render_json(const Json& array) {
    if (!array.is_array() || array.empty()) return json_text(array);
    std::string text = "[\n";
    for (std::size_t i = 0; i < array.size(); ++i) {
        text += "  " + json_line(array[i]);
        text += i + 1 < array.size() ? ",\n" : "\n";
    }
    return text + "]\n";
}

std::string render_json(const Table& t) { return render_json(to_json(t)); }

std::string render(const Table& t, OutputFormat format) {
    switch (format) {
        case OutputFormat::Csv: return render_csv(t);
        case OutputFormat::Json: return render_json(t);
        case OutputFormat::Table: break;
    }
    return render_text(t);
}

}  // namespace actsearch::cli
