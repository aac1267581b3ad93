// parse(): cheap guards on the raw bytes, the X3 grammar (parser_grammar.cpp) for the structure, then
// lowering of the syntax tree to the flat postfix Expr, which is where names, arities and literal
// ranges are checked against the op table.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <numbers>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "actsearch/grammar/ops.hpp"
#include "actsearch/grammar/parse.hpp"
#include "parser_ast.hpp"
#include "parser_config.hpp"
#include "parser_grammar.hpp"

namespace actsearch {
namespace {

namespace ast = parser::ast;
namespace x3 = boost::spirit::x3;

constexpr std::size_t kMaxNodes = std::numeric_limits<decltype(Node::length)>::max();
constexpr int kMaxBetas = std::numeric_limits<decltype(Node::index)>::max() + 1;

// Thrown inside lowering only; parse() turns it into its result, so parse() itself never throws.
struct LoweringError {
    std::string message;
    std::size_t position;
};

[[noreturn]] void fail(std::size_t position, std::string message) {
    throw LoweringError{std::move(message), position};
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            diagonal = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
        }
    }
    return row[b.size()];
}

// " (did you mean 'sigmoid'?)" when some known name is close enough to be a plausible typo.
template <typename Names>
std::string suggestion(std::string_view name, const Names& known) {
    std::string_view best;
    std::size_t best_distance = std::numeric_limits<std::size_t>::max();
    for (std::string_view candidate : known) {
        const std::size_t d = edit_distance(name, candidate);
        if (d < best_distance) {
            best_distance = d;
            best = candidate;
        }
    }
    const std::size_t tolerance = std::max<std::size_t>(1, name.size() / 3);
    if (best.empty() || best_distance > tolerance) return {};
    return fmt::format(" (did you mean '{}'?)", best);
}

std::vector<std::string_view> infix_function_names() {
    std::vector<std::string_view> names;
    for (const OpInfo& info : all_ops())
        if (info.arity > 0 && info.symbol.empty()) names.push_back(info.name);
    names.push_back("pow");
    return names;
}

constexpr std::array<std::string_view, 6> kInfixVariableNames{"x", "x1", "x2", "beta", "pi", "e"};

bool is_non_finite_name(std::string_view name) {
    for (std::string_view n : {"nan", "NaN", "NAN", "inf", "Inf", "INF", "infinity", "Infinity"})
        if (name == n) return true;
    return false;
}

// `beta` is beta number 1 (index 0), `betaN` is beta number N; nullopt when `name` is not of that form.
std::optional<int> beta_index(std::string_view name) {
    if (!name.starts_with("beta")) return std::nullopt;
    const std::string_view digits = name.substr(4);
    if (digits.empty()) return 0;
    if (digits.front() == '0' || digits.size() > 3) return std::nullopt;
    int number = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        number = number * 10 + (c - '0');
    }
    if (number > kMaxBetas) return std::nullopt;
    return number - 1;
}

std::string beta_name(int index) { return index == 0 ? std::string("beta") : fmt::format("beta{}", index + 1); }

std::string plural_arguments(std::size_t n) { return fmt::format("{} argument{}", n, n == 1 ? "" : "s"); }

// Appends postfix nodes to one array: children first, so each subtree is lowered exactly once and the
// array never needs rebuilding. Recursion follows the syntax tree, whose depth parse() has bounded.
class Lowering {
public:
    Expr take() {
        // Every node of a beta number carries its initial value: the one written at some use, else 1.
        for (Node& n : nodes_)
            if (n.op == Op::Beta) n.value = initial_[n.index] ? initial_[n.index]->value : kBetaDefaultInitial;
        Expr e{std::move(nodes_)};
        e.fix_lengths();
        return e;
    }

    // --- infix ---

    void lower(const ast::expression& e) {
        lower(e.first);
        for (const ast::sum_step& step : e.rest) {
            lower(step.operand);
            push_op(step.op == '+' ? Op::Add : Op::Sub, 0);
        }
    }

    void lower(const ast::term& t) {
        lower(t.first);
        for (const ast::product_step& step : t.rest) {
            lower(step.operand);
            push_op(step.op == '*' ? Op::Mul : Op::Div, 0);
        }
    }

    void lower(const ast::unary& u) {
        std::size_t negations = u.minus_signs.size();
        const auto* literal = u.operand.exponents.empty() ? boost::get<ast::number>(&u.operand.base) : nullptr;
        if (literal != nullptr && negations > 0) {
            // "-2" is the literal -2, not Neg(2): negative constants print as "-2" and must read back.
            push_const(-checked_literal(*literal), literal->position);
            --negations;
        } else {
            lower(u.operand);
        }
        for (std::size_t i = 0; i < negations; ++i) push_op(Op::Neg, u.position);
    }

    void lower(const ast::power& p) {
        lower_operand(p.base);
        if (p.exponents.empty()) return;
        // Right-associative: x^a^b = x^(a^b), and a^b is a number.
        double exponent = signed_exponent(p.exponents.back());
        for (auto it = std::next(p.exponents.rbegin()); it != p.exponents.rend(); ++it) {
            exponent = std::pow(signed_exponent(*it), exponent);
            if (!std::isfinite(exponent)) fail(it->position, "exponent out of range (must be finite)");
        }
        push_power(exponent, p.exponents.front().position);
    }

    void lower_operand(const ast::operand& o) {
        if (const auto* number = boost::get<ast::number>(&o)) {
            push_const(checked_literal(*number), number->position);
        } else if (const auto* named = boost::get<ast::named>(&o)) {
            named->args ? lower_call(*named) : lower_name(*named);
        } else {
            lower(boost::get<x3::forward_ast<ast::expression>>(o).get());
        }
    }

    void lower_name(const ast::named& n) {
        const std::string_view name = n.name;
        if (name == "x" || name == "x1") return push_leaf(Op::X, 0, 0.0, n.position);
        if (name == "x2") return push_leaf(Op::X, 1, 0.0, n.position);
        if (name == "pi") return push_const(std::numbers::pi, n.position);
        if (name == "e") return push_const(std::numbers::e, n.position);
        if (const auto beta = beta_index(name)) return push_beta(*beta, std::nullopt, n.position);
        if (is_non_finite_name(name))
            fail(n.position, fmt::format("non-finite literal '{}' is not allowed", name));
        if (const auto op = op_by_name(name); op && op_info(*op).arity > 0)
            fail(n.position, fmt::format("'{}' is a function: write {}(...)", name, name));
        fail(n.position, fmt::format("unknown name '{}'{}", name, suggestion(name, kInfixVariableNames)));
    }

    void lower_call(const ast::named& call) {
        const std::string_view name = call.name;
        const std::vector<ast::expression>& args = *call.args;
        if (name == "pow") {
            expect_arity(call.position, name, 2, args.size());
            lower(args[0]);
            return push_power(constant_argument(args[1], call.position, "pow's exponent"), call.position);
        }
        if (const auto beta = beta_index(name)) return lower_beta_call(call, *beta);
        const std::optional<Op> op = op_by_name(name);
        if (!op) {
            if (name == "x" || name == "x1" || name == "x2" || name == "pi" || name == "e")
                fail(call.position, fmt::format("'{}' is not a function", name));
            fail(call.position,
                 fmt::format("unknown function '{}'{}", name, suggestion(name, infix_function_names())));
        }
        expect_arity(call.position, name, op_info(*op).arity, args.size());
        for (const ast::expression& arg : args) lower(arg);
        push_op(*op, call.position);
    }

    // `beta(0.25)`, `beta3(-1)`: a trainable parameter and its initial value, a number literal that is
    // finite in float (the networks train betas in float).
    void lower_beta_call(const ast::named& call, int index) {
        const std::vector<ast::expression>& args = *call.args;
        if (args.size() != 1)
            fail(call.position, fmt::format("{} takes 1 argument, its initial value (e.g. {}(0.25)), got {}", call.name,
                                            call.name, args.size()));
        push_beta(index, initial_value_literal(args[0], call.name), call.position);
    }

    // --- AQuaSurF notation ---

    void lower(const ast::call& c) {
        const std::string_view name = c.name;
        if (!c.args) {
            if (name == "x" || name == "x1") return push_leaf(Op::X, 0, 0.0, c.position);
            if (name == "x2") return push_leaf(Op::X, 1, 0.0, c.position);
            fail(c.position, fmt::format("unknown name '{}' (AQuaSurF notation has only x and function calls)", name));
        }
        const std::vector<ast::call>& args = *c.args;
        const AquaSurfOp* entry = find_aquasurf_op(name);
        if (entry == nullptr) {
            std::vector<std::string_view> names;
            for (const AquaSurfOp& known : kAquaSurfOps) names.push_back(known.name);
            for (const AquaSurfOp& known : primitive_aquasurf_ops()) names.push_back(known.name);
            fail(c.position,
                 fmt::format("unknown AQuaSurF function '{}'{}", name, suggestion(name, names)));
        }
        if (entry->kind == AquaSurfKind::Unsupported)
            fail(c.position, fmt::format("AQuaSurF function '{}' is not supported: {}", name, entry->note));
        if (entry->kind == AquaSurfKind::Nary) {
            if (args.empty()) fail(c.position, fmt::format("{} takes at least 1 argument, got 0", name));
            lower(args[0]);
            for (std::size_t i = 1; i < args.size(); ++i) {
                lower(args[i]);
                push_op(entry->op, c.position);
            }
            return;
        }
        const int arity = entry->kind == AquaSurfKind::Binary || entry->kind == AquaSurfKind::Power ? 2 : 1;
        expect_arity(c.position, name, arity, args.size());
        switch (entry->kind) {
            case AquaSurfKind::Constant: {
                // zeros_like / ones_like: the argument is checked, then dropped.
                const std::size_t mark = nodes_.size();
                lower(args[0]);
                nodes_.resize(mark);
                return push_const(entry->value, c.position);
            }
            case AquaSurfKind::Identity: return lower(args[0]);
            case AquaSurfKind::Unary:
            case AquaSurfKind::Binary:
                for (const ast::call& arg : args) lower(arg);
                return push_op(entry->op, c.position);
            case AquaSurfKind::Power: {
                lower(args[0]);
                const std::size_t mark = nodes_.size();
                lower(args[1]);
                // tf.math.pow with a computed exponent has no primitive here; constant exponents
                // (one(x), negative(one(x)), ...) are exact.
                const std::optional<double> exponent = fold_constant(mark);
                if (!exponent)
                    fail(c.position, "AQuaSurF function 'pow' is supported only with a constant exponent "
                                     "(e.g. pow(x, one(x))): actsearch has no x^y primitive");
                nodes_.resize(mark);
                return push_power(*exponent, c.position);
            }
            default: break;
        }
    }

private:
    enum class AquaSurfKind { Constant, Identity, Unary, Binary, Nary, Power, Unsupported };
    struct AquaSurfOp {
        std::string_view name;
        AquaSurfKind kind;
        Op op;
        double value;           // Constant: the value
        std::string_view note;  // Unsupported: why
    };

    // The operator dictionaries of AQuaSurF (cognizant-ai-labs/aquasurf, aquasurf/activation.py:
    // UNARY_FUNCTIONS, BINARY_FUNCTIONS, N_ARY_FUNCTIONS), each mapped to the TensorFlow function it
    // names. Those that are one primitive are named in the op table (OpInfo::aquasurf; hard_sigmoid is
    // tf.keras.activations.hard_sigmoid of TF 2.8, clip(0.2x+0.5, 0, 1)); the rest are listed here.
    static constexpr std::array<AquaSurfOp, 10> kAquaSurfOps{{
        {"zero", AquaSurfKind::Constant, Op::Const, 0.0, ""},
        {"one", AquaSurfKind::Constant, Op::Const, 1.0, ""},
        {"identity", AquaSurfKind::Identity, Op::X, 0.0, ""},
        {"bessel_i0e", AquaSurfKind::Unsupported, Op::X, 0.0,
         "actsearch has no Bessel primitive (exp(-|x|) I0(x))"},
        {"bessel_i1e", AquaSurfKind::Unsupported, Op::X, 0.0,
         "actsearch has no Bessel primitive (exp(-|x|) I1(x))"},
        {"pow", AquaSurfKind::Power, Op::Pow, 0.0, ""},
        {"sum_n", AquaSurfKind::Nary, Op::Add, 0.0, ""},
        {"prod_n", AquaSurfKind::Nary, Op::Mul, 0.0, ""},
        {"max_n", AquaSurfKind::Nary, Op::Max, 0.0, ""},
        {"min_n", AquaSurfKind::Nary, Op::Min, 0.0, ""},
    }};

    // The primitives of the op table that AQuaSurF names, as entries of the kind above.
    static const std::vector<AquaSurfOp>& primitive_aquasurf_ops() {
        static const std::vector<AquaSurfOp> ops = [] {
            std::vector<AquaSurfOp> out;
            for (const OpInfo& info : all_ops())
                if (!info.aquasurf.empty())
                    out.push_back({info.aquasurf, info.arity == 2 ? AquaSurfKind::Binary : AquaSurfKind::Unary, info.op,
                                   0.0, ""});
            return out;
        }();
        return ops;
    }

    static const AquaSurfOp* find_aquasurf_op(std::string_view name) {
        for (const AquaSurfOp& op : kAquaSurfOps)
            if (op.name == name) return &op;
        for (const AquaSurfOp& op : primitive_aquasurf_ops())
            if (op.name == name) return &op;
        return nullptr;
    }

    static void expect_arity(std::size_t position, std::string_view name, std::size_t expected, std::size_t got) {
        if (expected != got)
            fail(position, fmt::format("{} takes {}, got {}", name, plural_arguments(expected), got));
    }

    // Correctly rounded, so that every double the printer writes reads back bit for bit.
    static double to_double(const std::string& text, std::size_t position) {
        double value = 0.0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        // libstdc++ reports subnormal results (5e-324, which the printer can write) as out of range;
        // strtod rounds them correctly, and underflow to zero is harmless.
        if (ec == std::errc::result_out_of_range) value = std::strtod(text.c_str(), nullptr);
        else if (ec != std::errc{} || end != text.data() + text.size()) value = HUGE_VAL;
        if (!std::isfinite(value)) fail(position, "number out of range (must be a finite double)");
        return value;
    }

    static double checked_literal(const ast::number& n) { return to_double(n.text, n.position); }

    static double signed_exponent(const ast::exponent& e) {
        const double magnitude = to_double(e.magnitude, e.position);
        return e.negative ? -magnitude : magnitude;
    }

    // The value of the subtree lowered from `mark` on, when it has no x or beta and evaluates to a finite
    // number; nullopt otherwise.
    std::optional<double> fold_constant(std::size_t mark) const {
        std::vector<double> stack;
        for (std::size_t i = mark; i < nodes_.size(); ++i) {
            const Node& n = nodes_[i];
            if (n.op == Op::X || n.op == Op::Beta) return std::nullopt;
            if (n.op == Op::Const) {
                stack.push_back(n.value);
                continue;
            }
            double b = n.op == Op::Pow ? n.value : 0.0;
            if (n.arity == 2) {
                b = stack.back();
                stack.pop_back();
            }
            stack.back() = apply_scalar(n.op, stack.back(), b);
        }
        if (stack.size() != 1 || !std::isfinite(stack.back())) return std::nullopt;
        return stack.back();
    }

    double constant_argument(const ast::expression& arg, std::size_t position, std::string_view what) {
        const std::size_t mark = nodes_.size();
        lower(arg);
        const bool literal = nodes_.size() == mark + 1 && nodes_.back().op == Op::Const;
        if (!literal) fail(position, fmt::format("{} must be a number literal", what));
        const double value = nodes_.back().value;
        nodes_.resize(mark);
        return value;
    }

    void push_power(double exponent, std::size_t position) {
        if (exponent == 2.0) return push_op(Op::Square, position);
        if (exponent == 3.0) return push_op(Op::Cube, position);
        push_node(Op::Pow, 1, 0, exponent, position);
    }

    void push_const(double value, std::size_t position) { push_leaf(Op::Const, 0, value, position); }

    // A use of beta number `index`, with its initial value when written there. One parameter has one
    // initial value: a second, different one is an error (another value needs another beta number).
    void push_beta(int index, std::optional<double> initial, std::size_t position) {
        if (initial) {
            std::optional<BetaInitial>& known = initial_[static_cast<std::size_t>(index)];
            if (known && known->value != *initial)
                fail(position, fmt::format("{} is given two initial values, {} and {} (a parameter with another "
                                           "initial value needs another beta number)",
                                           beta_name(index), known->value, *initial));
            if (!known) known = BetaInitial{*initial};
        }
        push_leaf(Op::Beta, index, kBetaDefaultInitial, position);   // take() sets the value
    }

    void push_leaf(Op op, int index, double value, std::size_t position) {
        push_node(op, 0, index, value, position);
    }

    void push_op(Op op, std::size_t position) { push_node(op, op_info(op).arity, 0, 0.0, position); }

    void push_node(Op op, int arity, int index, double value, std::size_t position) {
        if (nodes_.size() >= kMaxNodes)
            fail(position, fmt::format("expression too large (more than {} nodes)", kMaxNodes));
        Node n;
        n.op = op;
        n.arity = static_cast<std::uint8_t>(arity);
        n.index = static_cast<std::uint8_t>(index);
        n.value = value;
        nodes_.push_back(n);
    }

    struct BetaInitial {
        double value;
    };

    // The initial value written for a beta (`beta(0.25)`): a number literal, optionally negated, finite
    // in float. -0 is read as 0 (the same start, and one canonical form).
    static double initial_value_literal(const ast::expression& arg, std::string_view name) {
        const ast::unary& u = arg.first.first;
        const auto not_a_literal = [&] {
            fail(u.position, fmt::format("the initial value of {} must be a number literal, e.g. {}(0.25)", name, name));
        };
        if (!arg.rest.empty() || !arg.first.rest.empty() || u.minus_signs.size() > 1 || !u.operand.exponents.empty())
            not_a_literal();
        if (const auto* named = boost::get<ast::named>(&u.operand.base);
            named != nullptr && !named->args && is_non_finite_name(named->name))
            fail(named->position, fmt::format("non-finite initial value '{}' is not allowed", named->name));
        const auto* number = boost::get<ast::number>(&u.operand.base);
        if (number == nullptr) not_a_literal();
        const double magnitude = checked_literal(*number);
        if (magnitude > static_cast<double>(std::numeric_limits<float>::max()))
            fail(number->position, fmt::format("initial value {} of {} is out of range (betas are float: at most {:g} "
                                               "in magnitude)",
                                               number->text, name, static_cast<double>(std::numeric_limits<float>::max())));
        return (u.minus_signs.empty() ? magnitude : -magnitude) + 0.0;
    }

    std::vector<Node> nodes_;
    std::array<std::optional<BetaInitial>, kMaxBetas> initial_{};
};

// Guards that must run before X3 sees the input: its recursion follows the parentheses without bound,
// and its character classes expect ASCII.
std::optional<ParseError> scan_input(std::string_view input) {
    if (input.size() > kMaxInputBytes)
        return ParseError{fmt::format("input too long: {} bytes (limit {})", input.size(), kMaxInputBytes),
                          kMaxInputBytes};
    int depth = 0;
    bool blank = true;
    for (std::size_t i = 0; i < input.size(); ++i) {
        const auto byte = static_cast<unsigned char>(input[i]);
        const bool whitespace = byte == ' ' || (byte >= '\t' && byte <= '\r');
        if (!whitespace && (byte < 0x20 || byte >= 0x7f))
            return ParseError{fmt::format("unexpected byte 0x{:02X} (expressions are ASCII text)", byte), i};
        blank = blank && whitespace;
        if (byte == '(' && ++depth > kMaxDepth)
            return ParseError{fmt::format("parentheses nested deeper than {}", kMaxDepth), i};
        if (byte == ')') depth = std::max(0, depth - 1);
    }
    if (blank) return ParseError{"empty expression", 0};
    return std::nullopt;
}

template <typename Ast, typename Rule>
ParseResult parse_with(std::string_view input, const Rule& rule) {
    if (auto error = scan_input(input)) return {*std::move(error)};
    parser::ParseState state;
    state.begin = input.data();
    Ast tree;
    parser::iterator_type first = input.data();
    const parser::iterator_type last = input.data() + input.size();
    try {
        const bool ok = x3::phrase_parse(first, last, x3::with<parser::parse_state_tag>(state)[rule],
                                         x3::ascii::space, tree);
        if (!ok || state.failed) {
            if (!state.failed) state.fail(static_cast<std::size_t>(first - input.data()), "invalid expression");
            return {ParseError{state.message, state.position}};
        }
        Lowering lowering;
        lowering.lower(tree);
        return {lowering.take()};
    } catch (const LoweringError& e) {
        return {ParseError{e.message, e.position}};
    } catch (const std::exception& e) {
        return {ParseError{fmt::format("internal parser error: {}", e.what()), 0}};
    }
}

}  // namespace

ParseResult parse(std::string_view input, Notation notation) {
    if (notation == Notation::AquaSurf) return parse_with<parser::ast::call>(input, parser::aquasurf_input());
    return parse_with<parser::ast::expression>(input, parser::infix_input());
}

std::string ParseError::pretty(std::string_view input) const {
    const std::size_t at = std::min(position, input.size());
    // The line holding the error, then a window of it around the error when the line is long.
    const std::size_t previous_newline = at == 0 ? std::string_view::npos : input.rfind('\n', at - 1);
    const std::size_t line_begin = previous_newline == std::string_view::npos ? 0 : previous_newline + 1;
    const std::size_t line_end = std::min(input.find('\n', at), input.size());
    const std::size_t line_number = 1 + static_cast<std::size_t>(
        std::count(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(line_begin), '\n'));
    const std::size_t column = at - line_begin;

    constexpr std::size_t kContext = 30;
    const std::size_t window_begin = column > kContext ? at - kContext : line_begin;
    const std::size_t window_end = std::min(line_end, at + kContext);
    std::string excerpt(input.substr(window_begin, window_end - window_begin));
    std::replace_if(excerpt.begin(), excerpt.end(),
                    [](char c) { return c == '\t' || c == '\r' || c == '\v' || c == '\f'; }, ' ');
    for (char& c : excerpt)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    std::size_t caret = at - window_begin;
    if (window_begin > line_begin) {
        excerpt.insert(0, "...");
        caret += 3;
    }
    if (window_end < line_end) excerpt += "...";

    const std::string where = line_number > 1 || line_end < input.size()
                                  ? fmt::format("line {}, column {}", line_number, column + 1)
                                  : fmt::format("column {}", column + 1);
    return fmt::format("error: {} at {}\n  {}\n  {}^", message, where, excerpt, std::string(caret, ' '));
}

}  // namespace actsearch
