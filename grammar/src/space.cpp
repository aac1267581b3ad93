// Search spaces: the .space file format (structure parsed with Spirit X3, templates with parse()), the
// built-in spaces compiled into the binary, and the mixed-radix numbering of a space's candidates.
#include "actsearch/grammar/space.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/fusion/include/adapt_struct.hpp>
#include <boost/spirit/home/x3.hpp>
#include <fmt/format.h>

namespace actsearch::detail {
// Generated from grammar/spaces/*.space by grammar/embed_spaces.cmake: (file stem, file text).
const std::vector<std::pair<std::string_view, std::string_view>>& builtin_space_texts();
}  // namespace actsearch::detail

namespace actsearch::space_file {

namespace x3 = boost::spirit::x3;
using Iterator = const char*;
using Range = boost::iterator_range<Iterator>;

// `key: item, item, ...`: ranges into the text, so that messages can give line numbers.
struct Entry {
    Range key;
    std::vector<Range> items;
};

}  // namespace actsearch::space_file

BOOST_FUSION_ADAPT_STRUCT(actsearch::space_file::Entry, key, items)

namespace actsearch::space_file {

// Lines are significant, so there is no skipper: horizontal blanks are spelled out.
auto const blank = x3::omit[*x3::ascii::char_(" \t")];
auto const comment = x3::omit['#' >> *(x3::ascii::char_ - x3::eol)];

x3::rule<struct key_class, Range> const key = "a key";
auto const key_def = x3::raw[x3::lexeme[x3::ascii::alpha >> *(x3::ascii::alnum | x3::ascii::char_("_-"))]];

// A comma inside a call's parentheses belongs to the call: items split at top-level commas only.
// (Parenthesis depth is bounded before parsing: this recursion follows it.)
x3::rule<struct group_class> const group = "a parenthesised group";
auto const group_def = '(' > *(group | (x3::ascii::char_ - x3::ascii::char_("()#\r\n"))) > ')';

x3::rule<struct item_class, Range> const item = "a value";
auto const item_def = x3::raw[+(group | (x3::ascii::char_ - x3::ascii::char_(",()#:\r\n")))];

// A comma may end a line: the list goes on after any blank or comment lines, unless the next line
// starts a new key.
auto const next_key = key >> blank >> ':';
auto const separator = ',' >> blank >> *(-comment >> x3::eol >> blank) >> !next_key;

x3::rule<struct items_class, std::vector<Range>> const items = "a value";
auto const items_def = item >> *(separator > item);

x3::rule<struct line_end_class> const line_end = "the end of the line";
auto const line_end_def = blank >> -comment >> (x3::eol | x3::eoi);

x3::rule<struct entry_class, Entry> const entry = "an entry";
auto const entry_def = key > blank > ':' > blank > items > line_end;

x3::rule<struct file_end_class> const file_end = "a 'key: value' line";
auto const file_end_def = x3::eoi;

x3::rule<struct file_class, std::vector<Entry>> const file = "a space file";
auto const file_def = *(x3::omit[blank >> -comment >> x3::eol] | (blank >> entry)) > blank > -comment > file_end;

BOOST_SPIRIT_DEFINE(key, group, item, items, line_end, entry, file_end, file)

}  // namespace actsearch::space_file

namespace actsearch {
namespace {

namespace x3 = boost::spirit::x3;

constexpr std::size_t kMaxSpaceFileBytes = 1 << 20;
constexpr int kMaxUnits = 16;

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

class SpaceFileReader {
public:
    SpaceFileReader(std::string_view text, std::string_view origin) : text_(text), origin_(origin) {}

    std::variant<Space, SpaceError> read() {
        if (text_.size() > kMaxSpaceFileBytes)
            return error(1, fmt::format("file too large: {} bytes (limit {})", text_.size(), kMaxSpaceFileBytes));
        if (auto bad = scan()) return *bad;

        std::vector<space_file::Entry> entries;
        const char* first = text_.data();
        const char* const last = text_.data() + text_.size();
        try {
            if (!x3::parse(first, last, space_file::file, entries) || first != last)
                return error(line_of(first), "expected a 'key: value' line");
        } catch (const x3::expectation_failure<const char*>& failure) {
            return error(line_of(failure.where()), describe(failure));
        }
        return build(entries);
    }

private:
    std::string_view text_;
    std::string_view origin_;

    std::size_t line_of(const char* where) const {
        return 1 + static_cast<std::size_t>(std::count(text_.data(), where, '\n'));
    }

    SpaceError error(std::size_t line, std::string_view message) const {
        return SpaceError{fmt::format("{}:{}: {}", origin_, line, message)};
    }

    std::string describe(const x3::expectation_failure<const char*>& failure) const {
        const char* where = failure.where();
        const bool at_end = where == text_.data() + text_.size();
        if (at_end) return fmt::format("expected {} but the file ended", failure.which());
        if (failure.which() == "the end of the line" && *where == ',')
            return "a list cannot end with ',' when the next line starts a new key";
        if (*where == '\n' || *where == '\r') return fmt::format("expected {} before the end of the line", failure.which());
        return fmt::format("expected {} before '{}'", failure.which(), *where);
    }

    // Bytes X3 must not see: non-ASCII, control characters, and parentheses nested past the parser's
    // limit (the item rule recurses on them).
    std::optional<SpaceError> scan() const {
        int depth = 0;
        for (std::size_t i = 0; i < text_.size(); ++i) {
            const auto byte = static_cast<unsigned char>(text_[i]);
            if (byte == '\n') depth = 0;
            if ((byte < 0x20 && byte != '\n' && byte != '\r' && byte != '\t') || byte >= 0x7f)
                return error(line_of(text_.data() + i),
                             fmt::format("unexpected byte 0x{:02X} (space files are ASCII text)", byte));
            if (byte == '(' && ++depth > kMaxDepth)
                return error(line_of(text_.data() + i), fmt::format("parentheses nested deeper than {}", kMaxDepth));
            if (byte == ')') depth = std::max(0, depth - 1);
        }
        return std::nullopt;
    }

    std::variant<Space, SpaceError> build(const std::vector<space_file::Entry>& entries) const {
        Space space;
        space.name.clear();
        Notation notation = Notation::Infix;
        std::vector<std::string> seen;
        const space_file::Entry* unary = nullptr;
        const space_file::Entry* binary = nullptr;

        for (const space_file::Entry& e : entries) {
            const std::string key(e.key.begin(), e.key.end());
            const std::size_t line = line_of(e.key.begin());
            if (std::find(seen.begin(), seen.end(), key) != seen.end())
                return error(line, fmt::format("duplicate key '{}'", key));
            seen.push_back(key);
            const auto single = [&]() -> std::variant<std::string, SpaceError> {
                if (e.items.size() != 1) return error(line, fmt::format("'{}' takes one value, got {}", key, e.items.size()));
                return std::string(trim({e.items[0].begin(), e.items[0].size()}));
            };
            if (key == "unary") {
                unary = &e;
            } else if (key == "binary") {
                binary = &e;
            } else if (key == "name" || key == "units" || key == "notation" || key == "description") {
                if (key == "description") continue;  // free text for people; commas allowed
                auto value = single();
                if (auto* err = std::get_if<SpaceError>(&value)) return *err;
                const std::string& v = std::get<std::string>(value);
                if (key == "name") {
                    const bool valid = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
                    });
                    if (!valid) return error(line, fmt::format("invalid name '{}' (letters, digits, '-', '_', '.')", v));
                    space.name = v;
                } else if (key == "units") {
                    int units = 0;
                    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), units);
                    if (ec != std::errc{} || end != v.data() + v.size() || units < 1 || units > kMaxUnits)
                        return error(line, fmt::format("units must be an integer from 1 to {}, got '{}'", kMaxUnits, v));
                    space.units = units;
                } else {
                    if (v == "infix") notation = Notation::Infix;
                    else if (v == "aquasurf") notation = Notation::AquaSurf;
                    else return error(line, fmt::format("notation must be 'infix' or 'aquasurf', got '{}'", v));
                }
            } else {
                return error(line, fmt::format("unknown key '{}' (known: name, units, notation, unary, binary, description)", key));
            }
        }
        const std::size_t last_line = line_of(text_.data() + text_.size());
        if (space.name.empty()) return error(last_line, "missing 'name'");
        if (unary == nullptr) return error(last_line, "missing 'unary'");
        if (binary == nullptr) return error(last_line, "missing 'binary'");
        if (auto err = read_templates(*unary, "unary", 1, notation, space.unary_text, space.unary)) return *err;
        if (auto err = read_templates(*binary, "binary", 2, notation, space.binary_text, space.binary)) return *err;

        // Every count the space reports must fit in 64 bits.
        std::uint64_t count = 1;
        for (std::size_t t = 0; t < space.token_count(); ++t) {
            const std::uint64_t arity = space.token_arity(t);
            if (count > std::numeric_limits<std::uint64_t>::max() / arity)
                return error(last_line, "space too large: its size does not fit in 64 bits (fewer units?)");
            count *= arity;
        }
        return space;
    }

    std::optional<SpaceError> read_templates(const space_file::Entry& e, std::string_view kind, int arguments,
                                             Notation notation, std::vector<std::string>& texts,
                                             std::vector<Expr>& templates) const {
        for (const space_file::Range& range : e.items) {
            const std::size_t line = line_of(range.begin());
            const std::string text(trim({range.begin(), range.size()}));
            if (text.empty()) return error(line, fmt::format("empty {} template", kind));
            if (std::find(texts.begin(), texts.end(), text) != texts.end())
                return error(line, fmt::format("duplicate {} template '{}'", kind, text));
            ParseResult parsed = parse(text, notation);
            if (!parsed.ok())
                return error(line, fmt::format("in {} template '{}': {} (at column {})", kind, text,
                                               parsed.error().message, parsed.error().position + 1));
            const Expr& tmpl = parsed.expr();
            for (const Node& n : tmpl.nodes)
                if (n.op == Op::X && n.index >= arguments)
                    return error(line, fmt::format("{} template '{}' uses x{}: {} templates take {}", kind, text,
                                                   n.index + 1, kind, arguments == 1 ? "one argument, x" : "x1 and x2"));
            texts.push_back(text);
            templates.push_back(tmpl);
        }
        return std::nullopt;
    }
};

std::string builtin_names_list() {
    std::string names;
    for (const std::string& n : builtin_space_names()) names += (names.empty() ? "" : ", ") + n;
    return names;
}

}  // namespace

std::uint32_t Space::token_arity(std::size_t t) const {
    if (t >= token_count()) return 0;
    const std::size_t unit = t / 5;
    switch (t % 5) {
        case 0:
        case 1: return static_cast<std::uint32_t>(unit + 1);  // x or an earlier unit's output
        case 2:
        case 3: return static_cast<std::uint32_t>(unary.size());
        default: return static_cast<std::uint32_t>(binary.size());
    }
}

std::uint64_t Space::raw_count() const {
    std::uint64_t count = 1;
    for (std::size_t t = 0; t < token_count(); ++t) count *= token_arity(t);
    return count;
}

// Token 0 is the most significant digit, so counting up through the indices walks the choices in
// lexicographic order.
Space::Choice Space::decode(std::uint64_t index) const {
    if (index >= raw_count())
        throw std::out_of_range(fmt::format("candidate index {} out of range for space '{}' ({} candidates)", index,
                                            name, raw_count()));
    Choice c(token_count());
    for (std::size_t t = token_count(); t-- > 0;) {
        const std::uint32_t arity = token_arity(t);
        c[t] = static_cast<std::uint32_t>(index % arity);
        index /= arity;
    }
    return c;
}

namespace {
void check_choice(const Space& s, const Space::Choice& c) {
    if (c.size() != s.token_count())
        throw std::invalid_argument(
            fmt::format("choice has {} tokens; space '{}' needs {}", c.size(), s.name, s.token_count()));
    for (std::size_t t = 0; t < c.size(); ++t)
        if (c[t] >= s.token_arity(t))
            throw std::invalid_argument(fmt::format("token {} of the choice is {}; space '{}' allows 0 to {}", t, c[t],
                                                    s.name, s.token_arity(t) - 1));
}
}  // namespace

std::uint64_t Space::encode(const Choice& c) const {
    check_choice(*this, c);
    std::uint64_t index = 0;
    for (std::size_t t = 0; t < c.size(); ++t) index = index * token_arity(t) + c[t];
    return index;
}

Expr Space::build(const Choice& c) const {
    check_choice(*this, c);
    std::vector<Expr> inputs{make_leaf_x()};
    for (int unit = 0; unit < units; ++unit) {
        const std::uint32_t* token = &c[5 * static_cast<std::size_t>(unit)];
        const Expr a = substitute(unary[token[2]], {inputs[token[0]]});
        const Expr b = substitute(unary[token[3]], {inputs[token[1]]});
        inputs.push_back(substitute(binary[token[4]], {a, b}));
    }
    return split_betas(inputs.back());
}

std::variant<Space, SpaceError> parse_space(std::string_view text, std::string_view origin) {
    return SpaceFileReader(text, origin).read();
}

std::vector<std::string> builtin_space_names() {
    std::vector<std::string> names;
    for (const auto& [stem, text] : detail::builtin_space_texts()) names.emplace_back(stem);
    std::sort(names.begin(), names.end());
    return names;
}

std::variant<Space, SpaceError> load_space(std::string_view name_or_path) {
    for (const auto& [stem, text] : detail::builtin_space_texts())
        if (stem == name_or_path) return parse_space(text, fmt::format("{}.space", stem));

    std::ifstream in{std::string(name_or_path), std::ios::binary};
    if (!in)
        return SpaceError{fmt::format("unknown space '{}' (built-in: {}) and no such file", name_or_path,
                                      builtin_names_list())};
    std::string text;
    char buffer[1 << 16];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (text.size() > kMaxSpaceFileBytes)
            return SpaceError{fmt::format("{}: file too large (limit {} bytes)", name_or_path, kMaxSpaceFileBytes)};
    }
    if (in.bad()) return SpaceError{fmt::format("{}: cannot read: {}", name_or_path, std::strerror(errno))};
    return parse_space(text, name_or_path);
}

}  // namespace actsearch
