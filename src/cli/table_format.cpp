#include "table_format.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "cli_util.hpp"
#include "commands.hpp"

namespace actsearch::cli {

OutputFormat output_format_from(const std::string& name) {
    if (name == "table") return OutputFormat::Table;
    if (name == "csv") return OutputFormat::Csv;
    if (name == "json") return OutputFormat::Json;
    throw UsageError(fmt::format("unknown format '{}' (expected table, csv or json)", name));
}

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
    return std::get<std::string>(c);
}

// Cell text for CSV and JSON scalars: full precision, shortest round trip.
std::string exact_cell(const Cell& c) {
    if (is_missing(c)) return "";
    if (const auto* i = std::get_if<std::int64_t>(&c)) return fmt::format("{}", *i);
    if (const auto* d = std::get_if<double>(&c)) return fmt::format("{}", *d);
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

std::string json_cell(const Cell& c) {
    if (is_missing(c)) return "null";
    if (std::holds_alternative<std::string>(c)) return fmt::format("\"{}\"", json_escape(std::get<std::string>(c)));
    return exact_cell(c);
}

}  // namespace

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

std::string render_json(const Table& t) {
    if (t.rows.empty()) return "[]\n";
    std::string text = "[\n";
    for (std::size_t i = 0; i < t.rows.size(); ++i) {
        text += "  {";
        for (std::size_t j = 0; j < t.columns.size(); ++j) {
            if (j > 0) text += ", ";
            text += fmt::format("\"{}\": {}", json_escape(t.columns[j].name), json_cell(t.rows[i][j]));
        }
        text += i + 1 < t.rows.size() ? "},\n" : "}\n";
    }
    return text + "]\n";
}

std::string render(const Table& t, OutputFormat format) {
    switch (format) {
        case OutputFormat::Csv: return render_csv(t);
        case OutputFormat::Json: return render_json(t);
        case OutputFormat::Table: break;
    }
    return render_text(t);
}

std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

void JsonWriter::newline() {
    out_ += '\n';
    out_.append(2 * stack_.size(), ' ');
}

void JsonWriter::before_value() {
    if (done_) throw std::logic_error("JSON document already complete");
    if (stack_.empty()) return;
    Level& level = stack_.back();
    if (level.object) {
        if (!level.key_pending) throw std::logic_error("JSON object value without a key");
        level.key_pending = false;
        return;
    }
    if (level.items++ > 0) out_ += ',';
    newline();
}

JsonWriter& JsonWriter::key(std::string_view k) {
    if (stack_.empty() || !stack_.back().object || stack_.back().key_pending)
        throw std::logic_error("JSON key outside an object or after another key");
    Level& level = stack_.back();
    if (level.items++ > 0) out_ += ',';
    newline();
    out_ += fmt::format("\"{}\": ", json_escape(k));
    level.key_pending = true;
    return *this;
}

JsonWriter& JsonWriter::begin_object() {
    before_value();
    out_ += '{';
    stack_.push_back({true});
    return *this;
}

JsonWriter& JsonWriter::begin_array() {
    before_value();
    out_ += '[';
    stack_.push_back({false});
    return *this;
}

JsonWriter& JsonWriter::end_object() {
    if (stack_.empty() || !stack_.back().object || stack_.back().key_pending)
        throw std::logic_error("unbalanced JSON object");
    const bool empty = stack_.back().items == 0;
    stack_.pop_back();
    if (!empty) newline();
    out_ += '}';
    done_ = stack_.empty();
    return *this;
}

JsonWriter& JsonWriter::end_array() {
    if (stack_.empty() || stack_.back().object) throw std::logic_error("unbalanced JSON array");
    const bool empty = stack_.back().items == 0;
    stack_.pop_back();
    if (!empty) newline();
    out_ += ']';
    done_ = stack_.empty();
    return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
    before_value();
    out_ += fmt::format("\"{}\"", json_escape(s));
    done_ = stack_.empty();
    return *this;
}

JsonWriter& JsonWriter::value(std::int64_t v) {
    before_value();
    out_ += fmt::format("{}", v);
    done_ = stack_.empty();
    return *this;
}

JsonWriter& JsonWriter::value(double v) {
    before_value();
    out_ += json_number(v);
    done_ = stack_.empty();
    return *this;
}

JsonWriter& JsonWriter::value(bool v) {
    before_value();
    out_ += v ? "true" : "false";
    done_ = stack_.empty();
    return *this;
}

JsonWriter& JsonWriter::null() {
    before_value();
    out_ += "null";
    done_ = stack_.empty();
    return *this;
}

JsonWriter& JsonWriter::value(const Cell& c) {
    if (is_missing(c)) return null();
    if (const auto* i = std::get_if<std::int64_t>(&c)) return value(*i);
    if (const auto* d = std::get_if<double>(&c)) return value(*d);
    return value(std::get<std::string>(c));
}

std::string JsonWriter::str() const {
    if (!done_) throw std::logic_error("JSON document incomplete");
    return out_ + '\n';
}

}  // namespace actsearch::cli
