// Report output: one Table rendered as aligned text, CSV or JSON (through nlohmann-json), and the
// --format option every listing command shares.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace CLI { class App; }

namespace actsearch::cli {

enum class OutputFormat { Table, Csv, Json };

// "table" / "csv" / "json"; UsageError otherwise.
OutputFormat output_format_from(const std::string& name);

// Adds --format table|csv|json (checked by CLI11) and --json, an alias of --format json.
void add_format_option(CLI::App* cmd, std::string& format, const std::string& help = "table, csv or json");

// JSON documents keep their keys in the order they were written.
using Json = nlohmann::ordered_json;

// Two-space indented text with a final newline; invalid UTF-8 in strings is replaced, never thrown on.
// Non-finite numbers are null (nlohmann writes them so: JSON has no NaN or infinity).
std::string json_text(const Json& doc);
// One line, no newline.
std::string json_line(const Json& doc);

// A missing value (shown as "-", an empty CSV field, JSON null), an integer, a real number (printed
// with the column's precision in tables, in full in CSV and JSON; NaN and inf are missing values),
// text, or a truth value (yes/no in tables, true/false in CSV and JSON).
using Cell = std::variant<std::monostate, std::int64_t, double, std::string, bool>;

Json to_json(const Cell& c);

enum class Align { Left, Right };

struct Column {
    std::string name;     // header in tables and CSV, key in JSON
    Align align = Align::Left;
    int precision = 4;    // digits after the point for reals in tables
};

struct Table {
    std::vector<Column> columns;
    std::vector<std::vector<Cell>> rows;   // each as wide as columns

    void add_row(std::vector<Cell> row);   // throws std::logic_error on a width mismatch
};

// Aligned columns separated by two spaces, a header line, no colours; no trailing spaces.
std::string render_text(const Table& t);
// RFC 4180: a header line, fields quoted when they contain a comma, quote or line break.
std::string render_csv(const Table& t);
// An array of objects, one per row, keyed by column name.
Json to_json(const Table& t);
// to_json(t) as text: one object per line.
std::string render_json(const Table& t);
std::string render_json(const Json& array);   // any array, one element per line
std::string render(const Table& t, OutputFormat format);

}  // namespace actsearch::cli
