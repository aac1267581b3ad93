// Report output: one Table rendered as aligned text, CSV or JSON, and a small JSON writer for nested
// documents (export --format json).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace actsearch::cli {

enum class OutputFormat { Table, Csv, Json };

// "table" / "csv" / "json"; UsageError otherwise.
OutputFormat output_format_from(const std::string& name);

// A missing value (shown as "-", an empty CSV field, JSON null), an integer, a real number (printed
// with the column's precision in tables, in full in CSV and JSON; NaN and inf are missing values) or
// text.
using Cell = std::variant<std::monostate, std::int64_t, double, std::string>;

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
// An array of objects, one per row, keyed by column name; one object per line.
std::string render_json(const Table& t);
std::string render(const Table& t, OutputFormat format);

// A JSON number, or null when not finite (JSON has no NaN or infinity); shortest round-trip form.
std::string json_number(double v);

// Writes nested JSON with two-space indentation. Keys and values must alternate correctly inside
// objects; misuse throws std::logic_error.
class JsonWriter {
public:
    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    JsonWriter& key(std::string_view k);
    JsonWriter& value(std::string_view s);
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
    JsonWriter& value(std::int64_t v);
    JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
    JsonWriter& value(double v);
    JsonWriter& value(bool v);
    JsonWriter& null();
    JsonWriter& value(const Cell& c);

    // The document, with a final newline; throws std::logic_error if it is not complete.
    std::string str() const;

private:
    void before_value();
    void newline();

    std::string out_;
    struct Level {
        bool object;
        int items = 0;
        bool key_pending = false;
    };
    std::vector<Level> stack_;
    bool done_ = false;
};

}  // namespace actsearch::cli
