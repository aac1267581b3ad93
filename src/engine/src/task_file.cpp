// Task files (TOML, read with toml++): parsing and checking into a TaskDefinition, with positioned
// errors. Loading the data a definition names is tasks.cpp's job.
#include "actsearch/engine/task_file.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <stdexcept>

#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
#define TOML_ENABLE_FORMATTERS 0
#include <toml++/toml.h>
#include <fmt/format.h>

namespace actsearch::engine {
namespace {

// Upper bounds of the sizes a task file may ask for (the command line's are the same or tighter).
constexpr std::int64_t kMaxSteps = 1'000'000, kMaxWidth = 1024, kMaxDepth = 16, kMaxBatch = 4096;
constexpr std::int64_t kMaxRecal = 1000, kMaxDownsample = 8, kMaxVal = 1'000'000;
constexpr std::int64_t kMaxSide = 4096, kMaxChannels = 4096, kMaxExample = std::int64_t(1) << 24;
constexpr std::int64_t kMaxClasses = 100'000, kMaxLayers = 32, kMaxMultiplier = 64, kMaxStages = 8;
constexpr std::int64_t kMaxRows = std::int64_t(1) << 40, kMaxPoints = 10'000'000;
constexpr double kMaxLr = 10, kMaxWeightDecay = 1, kMaxClip = 1e6;

struct Failure {
    std::string message;
};

class Parser {
public:
    Parser(std::string path) : path_(std::move(path)) {}

    // One line whatever the message quotes from the file: a control character in a value (a "\n"
    // escape decodes to a newline) is written back as an escape.
    [[noreturn]] void fail(const toml::source_region& at, const std::string& message) const {
        std::string text;
        for (const char c : message) {
            if (c == '\n') text += "\\n";
            else if (c == '\r') text += "\\r";
            else if (c == '\t') text += "\\t";
            else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) text += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
            else text += c;
        }
        throw Failure{fmt::format("{}:{}:{}: {}", path_, std::max(at.begin.line, toml::source_index{1}),
                                  std::max(at.begin.column, toml::source_index{1}), text)};
    }
    [[noreturn]] void fail(const toml::node& at, const std::string& message) const { fail(at.source(), message); }

    // Every key of `table` must be one of `known`; the first unknown one in the file is reported.
    void only(const toml::table& table, const std::string& where, std::initializer_list<std::string_view> known) const {
        const toml::key* first = nullptr;
        for (auto&& [key, node] : table) {
            bool ok = false;
            for (std::string_view k : known) ok = ok || key.str() == k;
            const auto at = [](const toml::key& k) { return std::pair(k.source().begin.line, k.source().begin.column); };
            if (!ok && (first == nullptr || at(key) < at(*first))) first = &key;
        }
        if (first != nullptr) {
            std::string list;
            for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
            fail(first->source(), fmt::format("unknown key '{}' in {} (known: {})", first->str(), where, list));
        }
    }

    const toml::table& section(const toml::table& root, const char* name, bool required) const {
        static const toml::table empty;
        const toml::node* node = root.get(name);
        if (node == nullptr) {
            if (required) fail(root, fmt::format("missing section [{}]", name));
            return empty;
        }
        if (!node->is_table()) fail(*node, fmt::format("'{}' must be a section ([{}])", name, name));
        return *node->as_table();
    }

    const toml::node* get(const toml::table& t, const char* key, const char* where, bool required) const {
        const toml::node* node = t.get(key);
        if (node == nullptr && required) fail(t, fmt::format("missing key '{}' in {}", key, where));
        return node;
    }

    std::string string(const toml::node& n, const char* key) const {
        if (!n.is_string()) fail(n, fmt::format("'{}' must be a string", key));
        const std::string& s = n.as_string()->get();
        if (s.find('\0') != std::string::npos) fail(n, fmt::format("'{}' holds a NUL character", key));
        return s;
    }
    std::int64_t integer(const toml::node& n, const char* key, std::int64_t lo, std::int64_t hi) const {
        if (!n.is_integer()) fail(n, fmt::format("'{}' must be an integer", key));
        const std::int64_t v = n.as_integer()->get();
        if (v < lo || v > hi) fail(n, fmt::format("'{}' must be between {} and {}, not {}", key, lo, hi, v));
        return v;
    }
    double number(const toml::node& n, const char* key, double lo, double hi, bool lo_inclusive = true) const {
        double v = 0;
        if (n.is_integer()) v = double(n.as_integer()->get());
        else if (n.is_floating_point()) v = n.as_floating_point()->get();
        else fail(n, fmt::format("'{}' must be a number", key));
        if (!std::isfinite(v) || v > hi || v < lo || (!lo_inclusive && v == lo))
            fail(n, fmt::format("'{}' must be {} {} and at most {}, not {}", key, lo_inclusive ? "at least" : "above", lo,
                                hi, v));
        return v;
    }
    bool boolean(const toml::node& n, const char* key) const {
        if (!n.is_boolean()) fail(n, fmt::format("'{}' must be true or false", key));
        return n.as_boolean()->get();
    }
    const toml::array& array(const toml::node& n, const char* key, std::size_t min, std::size_t max) const {
        if (!n.is_array()) fail(n, fmt::format("'{}' must be an array [...]", key));
        const toml::array& a = *n.as_array();
        if (a.size() < min || a.size() > max)
            fail(n, min == max ? fmt::format("'{}' must hold {} values, not {}", key, min, a.size())
                               : fmt::format("'{}' must hold {} to {} values, not {}", key, min, max, a.size()));
        return a;
    }
    template <typename E>
    E choice(const toml::node& n, const char* key, std::initializer_list<std::pair<std::string_view, E>> options) const {
        const std::string s = string(n, key);
        std::string list;
        for (const auto& [name, value] : options) {
            if (s == name) return value;
            list += (list.empty() ? "" : ", ") + std::string(name);
        }
        fail(n, fmt::format("'{}' must be one of {}, not '{}'", key, list, s));
    }

    // toml++ 3.3's is_non_ascii_horizontal_whitespace reaches __builtin_unreachable (undefined
    // behaviour) for every code point of U+00A1..U+0499, U+2C5E..U+3057 and U+FB26..U+FEFE except
    // U+3000 (read from /usr/include/toml++/impl/unicode_autogenerated.h; found by fuzz_task), and its
    // parser may ask it about any character it looks ahead at, even inside what will turn out to be a
    // string (e.g. `x = [0.'"<U+03CA>`). So no such code point ever reaches toml++: the text must be
    // UTF-8; outside strings and comments non-ASCII is refused (TOML allows none there); in comments
    // such a code point becomes '?' (one character for one: positions stay right); in basic strings
    // "..." and """...""" it becomes the escape \uXXXX, which toml++ decodes back to the same
    // character; in literal strings '...' and '''...''', which have no escapes, it is refused with a hint.
    // The scanner's idea of where strings are only decides how a code point is replaced, not whether.
    // (A toml++ syntax error later on the same line as an escaped character reports a column 5 further
    // on per escape; our own messages count the file's characters.)
    static bool toml_whitespace_ub(std::uint32_t cp) noexcept {
        return ((cp > 0xA0 && cp <= 0x499) || (cp >= 0x2C5E && cp <= 0x3057 && cp != 0x3000) ||
                (cp >= 0xFB26 && cp < 0xFEFF));
    }

    // The text toml++ may parse (see above), or a Failure.
    std::string safe_text(std::string_view text) const {
        enum class In { Normal, Comment, Basic, Literal, MultiBasic, MultiLiteral } in = In::Normal;
        std::string out;
        out.reserve(text.size());
        std::uint32_t line = 1, column = 1;
        for (std::size_t i = 0; i < text.size(); ++column) {
            const auto b = static_cast<unsigned char>(text[i]);
            const std::size_t length = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
            std::uint32_t cp = length == 1 ? b : length == 2 ? b & 0x1F : length == 3 ? b & 0x0F : b & 0x07;
            bool ok = length > 0 && i + length <= text.size();
            for (std::size_t k = 1; ok && k < length; ++k) {
                const auto c = static_cast<unsigned char>(text[i + k]);
                ok = (c & 0xC0) == 0x80;
                cp = cp << 6 | (c & 0x3F);
            }
            static constexpr std::uint32_t kLeast[] = {0, 0, 0x80, 0x800, 0x10000};
            ok = ok && cp >= kLeast[length] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
            if (!ok) throw Failure{fmt::format("{}:{}:{}: the file is not valid UTF-8", path_, line, column)};
            const std::string_view rest = text.substr(i);
            std::size_t step = length;
            if (cp >= 0x80 && !(cp == 0xFEFF && i == 0)) {
                if (in == In::Normal)
                    throw Failure{fmt::format("{}:{}:{}: character U+{:04X} outside a string or comment", path_, line,
                                              column, cp)};
                if ((in == In::Literal || in == In::MultiLiteral) && toml_whitespace_ub(cp))
                    throw Failure{fmt::format("{}:{}:{}: character U+{:04X} cannot be read in a '...' string; write "
                                              "it as \\u{:04X} in a \"...\" string",
                                              path_, line, column, cp, cp)};
            }
            if (toml_whitespace_ub(cp))
                out += in == In::Comment ? std::string("?") : fmt::format("\\u{:04X}", cp);
            else
                out += rest.substr(0, length);
            if ((in == In::Basic || in == In::MultiBasic) && cp == '\\' && rest.size() > 1 &&
                static_cast<unsigned char>(rest[1]) >= 0x80)   // TOML has no such escape
                throw Failure{fmt::format("{}:{}:{}: invalid escape sequence in a string", path_, line, column)};
            switch (in) {
                case In::Normal:
                    if (cp == '#') in = In::Comment;
                    else if (rest.starts_with("\"\"\"")) in = In::MultiBasic, step = 3;
                    else if (rest.starts_with("'''")) in = In::MultiLiteral, step = 3;
                    else if (cp == '"') in = In::Basic;
                    else if (cp == '\'') in = In::Literal;
                    break;
                case In::Comment:
                    if (cp == '\n') in = In::Normal;
                    break;
                case In::Basic:
                    if (cp == '\\' && rest.size() > 1 && rest[1] != '\n') step = 2;
                    else if (cp == '"' || cp == '\n') in = In::Normal;
                    break;
                case In::Literal:
                    if (cp == '\'' || cp == '\n') in = In::Normal;
                    break;
                case In::MultiBasic:
                    if (cp == '\\' && rest.size() > 1 && rest[1] != '\n') step = 2;
                    else if (rest.starts_with("\"\"\"")) in = In::Normal, step = 3;
                    break;
                case In::MultiLiteral:
                    if (rest.starts_with("'''")) in = In::Normal, step = 3;
                    break;
            }
            // The extra ASCII characters a step takes (quotes, an escaped character) are copied as they are.
            if (step > length) out += rest.substr(length, step - length);
            if (cp == '\n') line++, column = 0;
            i += step;
            column += std::uint32_t(step - length);
        }
        return out;
    }

    TaskDefinition parse(std::string_view text) {
        const std::string safe = safe_text(text);
        toml::table root;
        try {
            root = toml::parse(safe, path_);
        } catch (const toml::parse_error& e) {
            std::string what(e.description());
            for (char& c : what)
                if (c == '\n' || c == '\r') c = ' ';
            fail(e.source(), what);
        }
        TaskDefinition d;
        d.path = path_;
        only(root, "the task file", {"name", "summary", "network", "data", "train", "validation", "recipe"});
        const toml::node* name = get(root, "name", "the task file", true);
        d.name = string(*name, "name");
        if (d.name.empty() || d.name.size() > 64 ||
            d.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
                std::string::npos)
            fail(*name, "'name' must be 1 to 64 letters, digits, '-', '_' or '.'");
        if (const toml::node* s = get(root, "summary", "", false)) d.summary = string(*s, "summary");
        network(section(root, "network", true), d);
        data(section(root, "data", true), d);
        split(section(root, "train", true), "[train]", d, d.train, false);
        split(section(root, "validation", true), "[validation]", d, d.validation, true);
        recipe(section(root, "recipe", true), d);
        return d;
    }

private:
    void network(const toml::table& t, TaskDefinition& d) const {
        const char* where = "[network]";
        d.network = choice<NetworkKind>(*get(t, "kind", where, true), "kind",
                                        {{"mlp", NetworkKind::Mlp}, {"cnn", NetworkKind::Cnn}, {"resnet", NetworkKind::ResNet}});
        switch (d.network) {
            case NetworkKind::Mlp: only(t, "[network] of an mlp", {"kind"}); break;
            case NetworkKind::Cnn: {
                only(t, "[network] of a cnn", {"kind", "layers"});
                const toml::node& n = *get(t, "layers", "[network] of a cnn", true);
                const toml::array& layers = array(n, "layers", 1, kMaxLayers);
                for (const toml::node& layer : layers) {
                    if (layer.is_string() && layer.as_string()->get() == "pool") {
                        if (d.cnn_layers.empty() || d.cnn_layers.back() == 0)
                            fail(layer, "a \"pool\" must follow a convolution");
                        d.cnn_layers.push_back(0);
                    } else if (layer.is_integer()) {
                        d.cnn_layers.push_back(int(integer(layer, "a layer's channel multiplier", 1, kMaxMultiplier)));
                    } else {
                        fail(layer, "a layer is a channel multiplier (an integer) or \"pool\"");
                    }
                }
                break;
            }
            case NetworkKind::ResNet:
                only(t, "[network] of a resnet", {"kind", "stages"});
                if (const toml::node* n = get(t, "stages", "", false))
                    d.resnet_stages = int(integer(*n, "stages", 1, kMaxStages));
                break;
        }
    }

    void data(const toml::table& t, TaskDefinition& d) {
        const char* where = "[data]";
        const toml::node& format = *get(t, "format", where, true);
        d.format = choice<DataFormat>(format, "format",
                                      {{"idx", DataFormat::Idx}, {"cifar", DataFormat::Cifar}, {"npy", DataFormat::Npy},
                                       {"csv", DataFormat::Csv}, {"spirals", DataFormat::Spirals}});
        if (d.format == DataFormat::Csv)
            only(t, "[data] of csv", {"format", "dir", "help", "shape", "classes", "mean", "std", "label_column", "header"});
        else if (d.format == DataFormat::Spirals)
            only(t, "[data] of spirals", {"format", "shape", "classes", "mean", "std"});
        else
            only(t, fmt::format("[data] of {}", to_string(d.format)), {"format", "dir", "help", "shape", "classes", "mean", "std"});
        if (const toml::node* n = get(t, "dir", where, false)) d.dir = string(*n, "dir");
        if (const toml::node* n = get(t, "help", where, false)) d.help = string(*n, "help");

        const toml::node& shape_node = *get(t, "shape", where, true);
        const toml::array& shape = array(shape_node, "shape", 3, 3);
        d.shape.channels = int(integer(*shape.get(0), "shape's channels", 1, kMaxChannels));
        d.shape.height = int(integer(*shape.get(1), "shape's height", 1, kMaxSide));
        d.shape.width = int(integer(*shape.get(2), "shape's width", 1, kMaxSide));
        if (std::int64_t(d.shape.size()) > kMaxExample)
            fail(shape_node, fmt::format("an example of {}x{}x{} values is too large (at most {})", d.shape.channels,
                                         d.shape.height, d.shape.width, kMaxExample));
        if (d.format == DataFormat::Spirals && (d.shape.channels != 2 || d.shape.height != 1 || d.shape.width != 1))
            fail(shape_node, "spirals are points of shape [2, 1, 1]");
        if (d.format == DataFormat::Cifar && d.shape.size() > (std::size_t(1) << 24))
            fail(shape_node, "CIFAR-style records are at most 16 MiB");
        shape_node_ = &shape_node;
        d.classes = int(integer(*get(t, "classes", where, true), "classes", 2, d.format == DataFormat::Idx ||
                                                                              d.format == DataFormat::Cifar ? 256 : kMaxClasses));
        const auto per_channel = [&](const char* key, float fallback, bool positive) {
            std::vector<float> v(std::size_t(d.shape.channels), fallback);
            if (const toml::node* n = get(t, key, where, false)) {
                const toml::array& a = array(*n, key, std::size_t(d.shape.channels), std::size_t(d.shape.channels));
                for (std::size_t c = 0; c < v.size(); ++c)
                    v[c] = float(number(*a.get(c), key, positive ? 0.0 : -1e6, 1e6, /*lo_inclusive=*/!positive));
            }
            return v;
        };
        d.mean = per_channel("mean", 0.0f, false);
        d.std = per_channel("std", 1.0f, true);
        if (d.format == DataFormat::Csv) {
            if (const toml::node* n = get(t, "header", where, false)) d.csv.header = boolean(*n, "header");
            if (const toml::node* n = get(t, "label_column", where, false)) {
                if (n->is_string()) {
                    d.csv.label_name = string(*n, "label_column");
                    if (d.csv.label_name.empty()) fail(*n, "'label_column' must not be empty");
                    if (!d.csv.header) fail(*n, "a label column given by name needs header = true");
                } else {
                    d.csv.label_index = int(integer(*n, "label_column", -1, std::int64_t(d.shape.size())));
                }
            }
        }
    }

    void split(const toml::table& t, const char* where, TaskDefinition& d, SplitSpec& s, bool validation) const {
        const auto file = [&](const char* key, bool required) {
            const toml::node* n = get(t, key, where, required);
            if (n == nullptr) return std::string();
            std::string f = string(*n, key);
            if (f.empty()) fail(*n, fmt::format("'{}' must name a file", key));
            return f;
        };
        switch (d.format) {
            case DataFormat::Idx:
            case DataFormat::Npy: {
                only(t, where, {"images", "labels", "rows"});
                const bool named = t.contains("images") || t.contains("labels");
                if (!validation || named) s.files = {file("images", true), file("labels", true)};
                break;
            }
            case DataFormat::Cifar:
                only(t, where, {"files", "rows"});
                if (const toml::node* n = get(t, "files", where, !validation)) {
                    for (const toml::node& f : array(*n, "files", 1, 1000)) {
                        s.files.push_back(string(f, "files"));
                        if (s.files.back().empty()) fail(f, "'files' must name files");
                    }
                }
                break;
            case DataFormat::Csv:
                only(t, where, {"file", "rows"});
                if (!validation || t.contains("file")) s.files = {file("file", true)};
                break;
            case DataFormat::Spirals:
                only(t, where, {"points", "seed"});
                s.points = std::uint64_t(integer(*get(t, "points", where, true), "points", 1, kMaxPoints));
                s.seed = std::uint64_t(integer(*get(t, "seed", where, true), "seed", 0, std::numeric_limits<std::int64_t>::max()));
                return;
        }
        if (const toml::node* n = get(t, "rows", where, false)) {
            const toml::array& a = array(*n, "rows", 2, 2);
            const std::int64_t first = integer(*a.get(0), "rows' first", 0, kMaxRows);
            const std::int64_t last = integer(*a.get(1), "rows' end", 0, kMaxRows);
            if (last <= first) fail(*n, fmt::format("rows [{}, {}) select no examples (an empty split)", first, last));
            s.rows = std::pair<std::uint64_t, std::uint64_t>(first, last);
        }
        if (validation && s.files.empty()) {
            if (!s.rows) fail(t, "[validation] names no files and no rows: it would be the training split");
            if (d.train.rows && s.rows->first < d.train.rows->second && d.train.rows->first < s.rows->second)
                fail(*t.get("rows"), fmt::format("validation rows [{}, {}) overlap the training rows [{}, {}) of the same "
                                                 "files", s.rows->first, s.rows->second, d.train.rows->first,
                                                 d.train.rows->second));
            if (!d.train.rows)
                fail(*t.get("rows"), "the validation rows are part of the training split: give [train] rows too");
        }
    }

    void recipe(const toml::table& t, TaskDefinition& d) const {
        const char* where = "[recipe]";
        only(t, where, {"steps", "width", "depth", "lr", "batch", "schedule", "warmup", "wd", "clip", "recal",
                        "downsample", "val", "momentum"});
        Fidelity& f = d.defaults;
        f.steps = int(integer(*get(t, "steps", where, true), "steps", 1, kMaxSteps));
        f.width = int(integer(*get(t, "width", where, true), "width", 1, kMaxWidth));
        f.depth = int(integer(*get(t, "depth", where, true), "depth", 1, kMaxDepth));
        f.lr = number(*get(t, "lr", where, true), "lr", 0.0, kMaxLr, /*lo_inclusive=*/false);
        f.batch = int(integer(*get(t, "batch", where, true), "batch", 1, kMaxBatch));
        f.schedule = Schedule::Constant;
        if (const toml::node* n = get(t, "schedule", where, false))
            f.schedule = choice<Schedule>(*n, "schedule", {{"constant", Schedule::Constant}, {"cosine", Schedule::Cosine}});
        f.warmup = 0;
        if (const toml::node* n = get(t, "warmup", where, false)) {
            f.warmup = int(integer(*n, "warmup", 0, kMaxSteps));
            if (f.warmup >= f.steps)
                fail(*n, fmt::format("warmup ({} steps) must be shorter than training ({} steps)", f.warmup, f.steps));
        }
        f.wd = 0.0;
        if (const toml::node* n = get(t, "wd", where, false)) f.wd = number(*n, "wd", 0.0, kMaxWeightDecay);
        f.clip = 0.0;
        if (const toml::node* n = get(t, "clip", where, false)) f.clip = number(*n, "clip", 0.0, kMaxClip);
        f.recal = 0;
        if (const toml::node* n = get(t, "recal", where, false)) f.recal = int(integer(*n, "recal", 0, kMaxRecal));
        f.downsample = 1;
        if (const toml::node* n = get(t, "downsample", where, false)) {
            f.downsample = int(integer(*n, "downsample", 1, kMaxDownsample));
            if (d.format == DataFormat::Spirals && f.downsample != 1) fail(*n, "points cannot be downsampled");
        }
        f.val = 0;
        if (const toml::node* n = get(t, "val", where, false)) f.val = int(integer(*n, "val", 0, kMaxVal));
        if (const toml::node* n = get(t, "momentum", where, false)) d.momentum = number(*n, "momentum", 0.0, 0.999);
        // The conv networks halve the image at every pool (cnn) or stage after the first (resnet).
        const int halvings = d.network == NetworkKind::Cnn ? int(std::count(d.cnn_layers.begin(), d.cnn_layers.end(), 0))
                             : d.network == NetworkKind::ResNet ? d.resnet_stages - 1 : 0;
        const int side = std::min(d.shape.height, d.shape.width) / f.downsample;
        if (d.network != NetworkKind::Mlp && side < (1 << std::max(halvings, 0)))
            fail(*shape_node_, fmt::format("{}x{} images{} are too small for the network: it halves them {} times "
                                           "(needs at least {}x{})", d.shape.height, d.shape.width,
                                           f.downsample > 1 ? fmt::format(" downsampled by {}", f.downsample) : "",
                                           halvings, 1 << halvings, 1 << halvings));
    }

    std::string path_;
    const toml::node* shape_node_ = nullptr;
};

}  // namespace

const char* to_string(NetworkKind k) noexcept {
    switch (k) {
        case NetworkKind::Mlp: return "mlp";
        case NetworkKind::Cnn: return "cnn";
        case NetworkKind::ResNet: return "resnet";
    }
    return "unknown";
}

const char* to_string(DataFormat f) noexcept {
    switch (f) {
        case DataFormat::Idx: return "idx";
        case DataFormat::Cifar: return "cifar";
        case DataFormat::Npy: return "npy";
        case DataFormat::Csv: return "csv";
        case DataFormat::Spirals: return "spirals";
    }
    return "unknown";
}

std::string TaskDefinition::canonical(bool files) const {
    std::string t = fmt::format("network={}\n", to_string(network));
    if (network == NetworkKind::Cnn) t += fmt::format("layers={}\n", fmt::join(cnn_layers, ","));
    if (network == NetworkKind::ResNet) t += fmt::format("stages={}\n", resnet_stages);
    return t + fmt::format("momentum={}\n", momentum) + canonical_data(files);
}

std::string TaskDefinition::canonical_data(bool files) const {
    // Floats in the shortest text that reads back to the same value; one key per line.
    std::string t = fmt::format("format={}\nshape={}x{}x{}\nclasses={}\nmean={}\nstd={}\n", to_string(format),
                                shape.channels, shape.height, shape.width, classes, fmt::join(mean, ","),
                                fmt::join(std, ","));
    if (format == DataFormat::Csv)
        t += fmt::format("header={}\nlabel={}\n", csv.header, csv.label_name.empty() ? std::to_string(csv.label_index)
                                                                                    : "name:" + csv.label_name);
    const auto split = [&](const char* what, const SplitSpec& s) {
        if (files) t += fmt::format("{}.files={}\n", what, fmt::join(s.files, "\x1f"));
        if (s.rows) t += fmt::format("{}.rows={},{}\n", what, s.rows->first, s.rows->second);
        if (format == DataFormat::Spirals) t += fmt::format("{}.points={}\n{}.seed={}\n", what, s.points, what, s.seed);
    };
    split("train", train);
    split("validation", validation);
    if (files) t += fmt::format("dir={}\n", dir);
    return t;
}

std::variant<TaskDefinition, TaskFileError> parse_task_file(std::string_view text, const std::string& path) {
    try {
        TaskDefinition d = Parser(path).parse(text);
        return d;
    } catch (const Failure& f) {
        return TaskFileError{f.message};
    }
}

std::variant<TaskDefinition, TaskFileError> load_task_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return TaskFileError{fmt::format("{}: cannot read the task file", path)};
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > (1u << 20)) return TaskFileError{fmt::format("{}: a task file is at most 1 MiB", path)};
    auto r = parse_task_file(text.str(), path);
    if (auto* d = std::get_if<TaskDefinition>(&r)) {
        const std::string::size_type slash = path.find_last_of('/');
        d->folder = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
    }
    return r;
}

}  // namespace actsearch::engine
