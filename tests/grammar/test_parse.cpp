// Parser: table-driven good and bad inputs, the guards against hostile input, AQuaSurF notation, and
// the pretty error display.
#include <chrono>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/print.hpp"

namespace actsearch {
namespace {

std::string canonical_of(std::string_view text, Notation notation = Notation::Infix) {
    const ParseResult r = parse(text, notation);
    if (!r.ok()) return "error: " + r.error().message;
    return canonical_string(r.expr());
}

struct GoodCase {
    std::string_view input;
    std::string_view canonical;
};

TEST(Parse, GoodInputsGiveExpectedCanonicalStrings) {
    const GoodCase cases[] = {
        {"x", "x"},
        {"x1", "x"},
        {"  x  ", "x"},
        {"x*sigmoid(x)", "x*sigmoid(x)"},
        {"sigmoid(x)*x", "x*sigmoid(x)"},
        {"x * sigmoid(beta * x)", "x*sigmoid(beta*x)"},
        {"1 + 2 * 3", "7"},
        {"(1 + 2) * 3", "9"},
        {"2*3+x", "x + 6"},
        {"x - 2 - 3", "x - 2 - 3"},
        {"x - (2 - 3)", "x + 1"},
        {"x / 2 / 4", "x/2/4"},
        {"-x^2", "-x^2"},
        {"(-x)^2", "x^2"},
        {"x^3", "x^3"},
        {"x^-1", "x^-1"},
        {"x^(-1)", "x^-1"},
        {"x^0.5", "x^0.5"},
        {"x^2^3", "x^8"},  // right-associative: x^(2^3)
        {"2^3", "8"},
        {"pow(x, 1.5)", "x^1.5"},
        {"1.5e3 * x", "1500*x"},
        {".5*x", "0.5*x"},
        {"1e-3", "0.001"},
        {"max(x, 0)", "max(x, 0)"},
        {"max(0, x)", "max(x, 0)"},
        {"relu(x) + leaky_relu(x)", "relu(x) + leaky_relu(x)"},
        {"silu(x)", "swish(x)"},          // alias
        {"hardswish(x)", "hard_swish(x)"},  // alias
        {"arctan(x)", "atan(x)"},
        {"logsigmoid(x) + leakyrelu(x)", "leaky_relu(x) + log_sigmoid(x)"},
        {"hard_silu(x)", "hard_swish(x)"},
        {"add(x, mul(2, x))", "x + 2*x"},  // the binary ops' table names work as functions too
        {"beta2 * x + beta", "beta*x + beta2"},  // renumbered by first appearance
        {"beta1*x", "beta*x"},
        {"x1 * x2", "x1*x2"},
        {"pi", "3.141592653589793"},
        {"e", "2.718281828459045"},
        {"--x", "x"},
        {"-(-(x))", "x"},
        {"x - -x", "x + x"},
        {"x + -2", "x - 2"},
        {"-2", "-2"},
        {"x\n+\t1", "x + 1"},
    };
    for (const GoodCase& c : cases) EXPECT_EQ(canonical_of(c.input), c.canonical) << "input: " << c.input;
}

TEST(Parse, StructureOfLiteralsAndPowers) {
    // Negative literals are constants, not Neg(Const): they must read back from the printer's "-2".
    const Expr minus_two = parse("-2").expr();
    ASSERT_EQ(minus_two.size(), 1u);
    EXPECT_EQ(minus_two.nodes[0].op, Op::Const);
    EXPECT_EQ(minus_two.nodes[0].value, -2.0);

    // x^2 and x^3 are Square and Cube; other exponents are Pow with the exponent in Node::value.
    EXPECT_EQ(parse("x^2").expr().nodes.back().op, Op::Square);
    EXPECT_EQ(parse("x^3").expr().nodes.back().op, Op::Cube);
    const Expr root = parse("x^-0.5").expr();
    EXPECT_EQ(root.nodes.back().op, Op::Pow);
    EXPECT_EQ(root.nodes.back().value, -0.5);

    // -x^2 is -(x^2): Neg is the root.
    const Expr neg_square = parse("-x^2").expr();
    EXPECT_EQ(neg_square.nodes.back().op, Op::Neg);
    EXPECT_EQ(neg_square.nodes[1].op, Op::Square);

    // Lengths are filled in: the root spans the whole array.
    const Expr e = parse("x*sigmoid(beta2*x) + 1").expr();
    EXPECT_EQ(e.nodes.back().length, e.size());
    EXPECT_EQ(e.beta_count(), 2);
    Expr copy = e;
    EXPECT_TRUE(copy.fix_lengths());
    EXPECT_EQ(copy, e);

    // x2 is argument 1 (space templates).
    const Expr two = parse("x1 - x2").expr();
    EXPECT_EQ(two.nodes[0].index, 0);
    EXPECT_EQ(two.nodes[1].index, 1);
}

struct BadCase {
    std::string_view input;
    std::string_view message;  // substring of the error message
    std::size_t position;
};

TEST(Parse, BadInputsGiveMessageAndPosition) {
    const BadCase cases[] = {
        {"", "empty expression", 0},
        {"   ", "empty expression", 0},
        {"sigmod(x)", "unknown function 'sigmod' (did you mean 'sigmoid'?)", 0},
        {"x + tanhh(x)", "unknown function 'tanhh' (did you mean 'tanh'?)", 4},
        {"frobnicate(x)", "unknown function 'frobnicate'", 0},
        {"relu(x, x)", "relu takes 1 argument, got 2", 0},
        {"max(x)", "max takes 2 arguments, got 1", 0},
        {"pow(x)", "pow takes 2 arguments, got 1", 0},
        {"pow(x, x)", "pow's exponent must be a number literal", 0},
        {"x +", "expected operand", 3},
        {"x * * 2", "expected operand", 4},
        {"(x", "expected ')'", 2},
        {"x)", "unmatched ')'", 1},
        {"x 2", "unexpected '2'", 2},
        {"2x", "unexpected 'x'", 1},
        {"relu()", "expected expression", 5},
        {"max(x,)", "expected expression", 6},
        {"x^y", "number literal as exponent", 2},
        {"x^(x+1)", "number literal as exponent", 2},
        {"2^x", "number literal as exponent", 2},
        {"1e999", "number out of range", 0},
        {"1e", "unexpected 'e'", 1},
        {"1.2.3", "unexpected '.'", 3},
        {"x + 1e400", "number out of range", 4},
        {"x^1e300^2", "exponent out of range", 2},
        {"x^1e999", "number out of range", 2},
        {"nan", "non-finite literal 'nan'", 0},
        {"x*inf", "non-finite literal 'inf'", 2},
        {"y", "unknown name 'y'", 0},
        {"x3", "unknown name 'x3'", 0},
        {"beta0", "unknown name 'beta0'", 0},
        {"beta999", "unknown name 'beta999'", 0},
        {"sigmoid", "'sigmoid' is a function", 0},
        {"x(2)", "'x' is not a function", 0},
        {"x # comment", "unexpected '#'", 2},
        {"x + \xC3\xA9", "unexpected byte 0xC3", 4},
        {std::string_view("x\0", 2), "unexpected byte 0x00", 1},
    };
    for (const BadCase& c : cases) {
        const ParseResult r = parse(c.input);
        ASSERT_FALSE(r.ok()) << "input: " << c.input;
        EXPECT_NE(r.error().message.find(c.message), std::string::npos)
            << "input: " << c.input << "\nmessage: " << r.error().message;
        EXPECT_EQ(r.error().position, c.position) << "input: " << c.input << "\nmessage: " << r.error().message;
        EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << "one line: " << r.error().message;
    }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(Parse, OneMegabyteInputIsRejectedBeforeParsing) {
    std::string big(1 << 20, ' ');
    for (std::size_t i = 0; i + 2 < big.size(); i += 2) big.replace(i, 2, "x+");
    const auto start = std::chrono::steady_clock::now();
    const ParseResult r = parse(big);
    EXPECT_LT(seconds_since(start), 0.5);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("input too long"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().position, kMaxInputBytes);
}

TEST(Parse, DeepNestingIsAnErrorNotACrash) {
    const std::string deep = std::string(10000, '(') + "x" + std::string(10000, ')');
    const ParseResult r = parse(deep);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("nested deeper than"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().position, static_cast<std::size_t>(kMaxDepth));

    // Function calls nest through parentheses too.
    std::string calls;
    for (int i = 0; i < 10000; ++i) calls += "relu(";
    calls += 'x';
    calls.append(10000, ')');
    EXPECT_FALSE(parse(calls).ok());

    // Exactly at the limit is fine.
    const std::string at_limit = std::string(kMaxDepth, '(') + "x" + std::string(kMaxDepth, ')');
    ASSERT_TRUE(parse(at_limit).ok()) << parse(at_limit).error().message;
    EXPECT_EQ(canonical_of(at_limit), "x");
}

TEST(Parse, LongFlatInputsParseQuickly) {
    // Sums and runs of unary minus are loops in the grammar, not recursion: no depth limit applies.
    std::string sum = "x";
    while (sum.size() + 2 < kMaxInputBytes / 2) sum += "+x";
    std::string minus(20000, '-');
    minus += "x";
    const auto start = std::chrono::steady_clock::now();
    const ParseResult s = parse(sum);
    const ParseResult m = parse(minus);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(s.expr().size(), sum.size());
    EXPECT_EQ(m.expr().size(), minus.size());
    EXPECT_EQ(canonical_string(m.expr()), "x");  // an even number of signs
    EXPECT_LT(seconds_since(start), 2.0);
}

TEST(Parse, TooManyNodesIsAnError) {
    // Every byte can be a node: 65,535 minus signs and an x are one node more than Node::length counts.
    const std::string text = std::string(kMaxInputBytes - 1, '-') + "x";
    const ParseResult r = parse(text);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("expression too large"), std::string::npos) << r.error().message;
}

TEST(Parse, AquaSurfNotation) {
    EXPECT_EQ(canonical_of("min(square(x),selu(x))", Notation::AquaSurf), "min(x^2, selu(x))");
    EXPECT_EQ(canonical_of("mul(identity(x), sigmoid(x))", Notation::AquaSurf), "x*sigmoid(x)");
    EXPECT_EQ(canonical_of("add(negative(x), one(x))", Notation::AquaSurf), "1 - x");
    EXPECT_EQ(canonical_of("mul(zero(x), exp(x))", Notation::AquaSurf), "0");
    EXPECT_EQ(canonical_of("hard_sigmoid(x)", Notation::AquaSurf), "keras_hard_sigmoid(x)");
    EXPECT_EQ(canonical_of("max(arcsinh(x), arctan(x))", Notation::AquaSurf), "max(asinh(x), atan(x))");
    EXPECT_EQ(canonical_of("pow(x, one(x))", Notation::AquaSurf), "x");
    EXPECT_EQ(canonical_of("sum_n(abs(x), swish(x), sigmoid(x))", Notation::AquaSurf),
              "sigmoid(x) + (abs(x) + swish(x))");
    EXPECT_EQ(canonical_of("div(log_sigmoid(x), erfc(x))", Notation::AquaSurf), "log_sigmoid(x)/erfc(x)");

    const BadCase cases[] = {
        {"bessel_i0e(x)", "'bessel_i0e' is not supported", 0},
        {"add(x, bessel_i1e(x))", "'bessel_i1e' is not supported", 7},
        {"pow(x, relu(x))", "only with a constant exponent", 0},
        {"squar(x)", "unknown AQuaSurF function 'squar' (did you mean 'square'?)", 0},
        {"x + 1", "unexpected '+'", 2},
        {"y", "unknown name 'y'", 0},
        {"add(x)", "add takes 2 arguments, got 1", 0},
        {"relu(x", "expected ')'", 6},
        {"relu(x,)", "expected a function call or x", 7},
    };
    for (const BadCase& c : cases) {
        const ParseResult r = parse(c.input, Notation::AquaSurf);
        ASSERT_FALSE(r.ok()) << "input: " << c.input;
        EXPECT_NE(r.error().message.find(c.message), std::string::npos)
            << "input: " << c.input << "\nmessage: " << r.error().message;
        EXPECT_EQ(r.error().position, c.position) << "input: " << c.input;
    }
    // Infix operators are not part of AQuaSurF notation, and AQuaSurF-only names are not infix.
    EXPECT_FALSE(parse("identity(x)").ok());
}

TEST(Parse, TokenSoupNeverCrashesAndErrorsPointIntoTheInput) {
    // Random sequences of the grammar's own tokens: mostly invalid, occasionally valid.
    const std::vector<std::string_view> tokens = {
        "x", "x2", "beta", "beta3", "1", "2.5", "1e3", ".5", "pi", "e", "+", "-", "*", "/", "^", "(", ")", ",",
        " ", "sigmoid", "max", "relu", "pow", "nan", "sigmod", "#", "1e999", "(("};
    std::mt19937 rng(7);
    int valid = 0;
    for (int i = 0; i < 3000; ++i) {
        std::string input;
        const int length = 1 + static_cast<int>(rng() % 12);
        for (int k = 0; k < length; ++k) input += tokens[rng() % tokens.size()];
        for (Notation notation : {Notation::Infix, Notation::AquaSurf}) {
            const ParseResult r = parse(input, notation);
            if (r.ok()) {
                ++valid;
                const ParseResult again = parse(to_infix(r.expr()));
                ASSERT_TRUE(again.ok()) << input << " -> " << to_infix(r.expr());
                continue;
            }
            ASSERT_LE(r.error().position, input.size()) << input;
            ASSERT_FALSE(r.error().message.empty()) << input;
            ASSERT_EQ(r.error().message.find('\n'), std::string::npos) << input;
            ASSERT_NE(r.error().pretty(input).find('^'), std::string::npos);
        }
    }
    EXPECT_GT(valid, 0);
}

TEST(Parse, PrettyErrorPutsACaretUnderTheColumn) {
    const std::string input = "x * sigmod(x)";
    const ParseResult r = parse(input);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().pretty(input),
              "error: unknown function 'sigmod' (did you mean 'sigmoid'?) at column 5\n"
              "  x * sigmod(x)\n"
              "      ^");

    // A long input is shown as an excerpt around the error, the caret still under it.
    const std::string long_input = std::string(100, ' ') + "x + )" + std::string(95, ' ');
    const ParseResult bad = parse(long_input);
    ASSERT_FALSE(bad.ok());
    const std::string pretty = bad.error().pretty(long_input);
    const auto first_newline = pretty.find('\n');
    const auto second_newline = pretty.find('\n', first_newline + 1);
    ASSERT_NE(second_newline, std::string::npos);
    const std::string excerpt = pretty.substr(first_newline + 1, second_newline - first_newline - 1);
    const std::string caret_line = pretty.substr(second_newline + 1);
    EXPECT_LT(excerpt.size(), 80u);
    EXPECT_EQ(excerpt.substr(0, 5), "  ...");
    EXPECT_EQ(excerpt[caret_line.size() - 1], ')');  // the caret sits under the offending ')'
    EXPECT_EQ(caret_line.back(), '^');

    // Multi-line input names the line.
    const std::string multi = "x +\n  foo(x)";
    const ParseResult m = parse(multi);
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.error().pretty(multi).find("line 2, column 3"), std::string::npos) << m.error().pretty(multi);
}

}  // namespace
}  // namespace actsearch
