// Search spaces: the built-in spaces' sizes and contents, the mixed-radix numbering, candidate
// construction, and the errors of malformed space files.
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <variant>

#include <gtest/gtest.h>

#include "actsearch/grammar/fingerprint.hpp"
#include "actsearch/grammar/print.hpp"
#include "actsearch/grammar/space.hpp"

namespace actsearch {
namespace {

Space load(std::string_view name) {
    auto loaded = load_space(name);
    if (auto* error = std::get_if<SpaceError>(&loaded)) {
        ADD_FAILURE() << error->message;
        return {};
    }
    return std::get<Space>(std::move(loaded));
}

std::string space_error(std::string_view text, std::string_view origin = "test.space") {
    auto parsed = parse_space(text, origin);
    if (std::holds_alternative<Space>(parsed)) return "<no error>";
    return std::get<SpaceError>(parsed).message;
}

// The choice that picks these templates (by text) in a one-unit space.
Space::Choice choose(const Space& s, std::string_view u1, std::string_view u2, std::string_view b) {
    const auto index_of = [](const std::vector<std::string>& texts, std::string_view t) {
        const auto it = std::find(texts.begin(), texts.end(), t);
        EXPECT_NE(it, texts.end()) << "no template '" << t << "'";
        return static_cast<std::uint32_t>(it - texts.begin());
    };
    return {0, 0, index_of(s.unary_text, u1), index_of(s.unary_text, u2), index_of(s.binary_text, b)};
}

TEST(Space, BuiltinsAreListedAndLoad) {
    const std::vector<std::string> names = builtin_space_names();
    for (const char* expected : {"aquasurf", "hard", "paper-core1", "paper-core2"})
        EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
    for (const std::string& name : names) {
        const Space s = load(name);
        EXPECT_EQ(s.name, name);
        EXPECT_EQ(s.unary.size(), s.unary_text.size());
        EXPECT_EQ(s.binary.size(), s.binary_text.size());
    }
}

TEST(Space, PaperSpacesHaveThePapersSizes) {
    const Space core1 = load("paper-core1");
    EXPECT_EQ(core1.units, 1);
    EXPECT_EQ(core1.unary.size(), 25u);
    EXPECT_EQ(core1.binary.size(), 10u);
    EXPECT_EQ(core1.raw_count(), 6250u);

    const Space core2 = load("paper-core2");
    EXPECT_EQ(core2.units, 2);
    EXPECT_EQ(core2.token_count(), 10u);
    // Unit 1's inputs range over {x, unit 0}.
    EXPECT_EQ(core2.token_arity(5), 2u);
    EXPECT_EQ(core2.token_arity(6), 2u);
    EXPECT_EQ(core2.token_arity(0), 1u);
    EXPECT_EQ(core2.token_arity(10), 0u);
    EXPECT_EQ(core2.raw_count(), 6250ull * (2 * 2 * 25 * 25 * 10));
}

TEST(Space, AquaSurfSpaceHoldsTheExpressibleActBenchOperators) {
    const Space s = load("aquasurf");
    // Act-Bench's 27 unary and 7 binary operators less bessel_i0e, bessel_i1e and pow (no primitive).
    EXPECT_EQ(s.unary.size(), 25u);
    EXPECT_EQ(s.binary.size(), 6u);
    EXPECT_EQ(s.raw_count(), 25u * 25u * 6u);
    // Templates keep AQuaSurF's names as written, for matching Act-Bench's records.
    EXPECT_EQ(s.unary_text.front(), "zero(x)");
    EXPECT_EQ(canonical_string(s.build(choose(s, "square(x)", "selu(x)", "min(x1, x2)"))), "min(x^2, selu(x))");
    EXPECT_EQ(canonical_string(s.build(choose(s, "identity(x)", "sigmoid(x)", "mul(x1, x2)"))), "x*sigmoid(x)");
}

TEST(Space, BuildComposesTemplates) {
    const Space core1 = load("paper-core1");
    EXPECT_EQ(canonical_string(core1.build(choose(core1, "x", "sigmoid(x)", "x1*x2"))), "x*sigmoid(x)");
    EXPECT_EQ(canonical_string(core1.build(choose(core1, "sigmoid(x)", "x", "x1*x2"))), "x*sigmoid(x)");
    EXPECT_EQ(canonical_string(core1.build(choose(core1, "x", "beta*x", "sigmoid(x1)*x2"))), "sigmoid(x)*(beta*x)");
    EXPECT_EQ(canonical_string(core1.build(choose(core1, "x", "max(x, 0)", "x1 + x2"))), "x + max(x, 0)");
    // Each use of beta is its own parameter.
    const Expr two_betas = core1.build(choose(core1, "beta*x", "x + beta", "beta*x1 + (1 - beta)*x2"));
    EXPECT_EQ(two_betas.beta_count(), 4);
    EXPECT_EQ(to_infix(two_betas), "beta*(beta2*x) + (1 - beta3)*(x + beta4)");  // postfix order

    const Space hard = load("hard");
    const Expr hard_swish = hard.build(choose(hard, "x", "relu6(x + 3)/6", "x1*x2"));
    EXPECT_EQ(canonical_string(hard_swish), "x*(relu6(x + 3)/6)");
    // Structurally x*hard_sigmoid-by-hand, functionally the hard_swish primitive.
    const Fingerprint composed = fingerprint(hard_swish);
    ASSERT_TRUE(composed.valid) << composed.reason;
    EXPECT_EQ(composed.hash, fingerprint(parse("hard_swish(x)").expr()).hash);

    // Two units: unit 1 = b(u1(unit 0), u2(x)).
    const Space core2 = load("paper-core2");
    Space::Choice c(10, 0);
    const Space::Choice unit0 = choose(core2, "x", "sigmoid(x)", "x1*x2");
    std::copy(unit0.begin(), unit0.end(), c.begin());
    const Space::Choice unit1 = choose(core2, "tanh(x)", "x", "x1 + x2");
    std::copy(unit1.begin(), unit1.end(), c.begin() + 5);
    c[5] = 1;  // in_a = unit 0
    c[6] = 0;  // in_b = x
    EXPECT_EQ(canonical_string(core2.build(c)), "x + tanh(x*sigmoid(x))");
}

TEST(Space, DecodeEncodeAreInverseBijections) {
    const Space core2 = load("paper-core2");
    std::mt19937_64 rng(12345);
    std::uniform_int_distribution<std::uint64_t> any(0, core2.raw_count() - 1);
    for (int i = 0; i < 2000; ++i) {
        const std::uint64_t index = any(rng);
        const Space::Choice c = core2.decode(index);
        ASSERT_EQ(c.size(), core2.token_count());
        for (std::size_t t = 0; t < c.size(); ++t) ASSERT_LT(c[t], core2.token_arity(t));
        ASSERT_EQ(core2.encode(c), index);
    }
    // Every index of a whole space maps to a distinct choice, in lexicographic order.
    const Space hard = load("hard");
    Space::Choice previous;
    for (std::uint64_t i = 0; i < hard.raw_count(); ++i) {
        const Space::Choice c = hard.decode(i);
        if (i > 0) {
            ASSERT_LT(previous, c);
        }
        ASSERT_EQ(hard.encode(c), i);
        previous = c;
    }
    EXPECT_EQ(hard.decode(0), Space::Choice(5, 0));
    EXPECT_THROW(hard.decode(hard.raw_count()), std::out_of_range);
    EXPECT_THROW(hard.encode({0, 0, 0, 0}), std::invalid_argument);
    EXPECT_THROW(hard.encode({0, 1, 0, 0, 0}), std::invalid_argument);  // unit 0 reads only x
    EXPECT_THROW(hard.build({0, 0, 0, 0, 99}), std::invalid_argument);
}

TEST(Space, FileSyntax) {
    const char* text =
        "# a comment line\n"
        "\n"
        "name: tiny   # trailing comment\n"
        "units: 1\n"
        "description: free text, commas allowed\n"
        "unary: x, max(x, 0),   # the comma inside max() belongs to the call\n"
        "\n"
        "       # a comment inside a continued list\n"
        "       sigmoid(x)\n"
        "binary: x1 * x2, min(x1, x2)";  // no final newline
    auto parsed = parse_space(text, "tiny.space");
    ASSERT_TRUE(std::holds_alternative<Space>(parsed)) << std::get<SpaceError>(parsed).message;
    const Space& s = std::get<Space>(parsed);
    EXPECT_EQ(s.name, "tiny");
    EXPECT_EQ(s.unary_text, (std::vector<std::string>{"x", "max(x, 0)", "sigmoid(x)"}));
    EXPECT_EQ(s.binary_text, (std::vector<std::string>{"x1 * x2", "min(x1, x2)"}));
    EXPECT_EQ(s.raw_count(), 3u * 3u * 2u);
}

TEST(Space, BadFilesGiveFileAndLine) {
    const std::string ok_lists = "unary: x, tanh(x)\nbinary: x1 + x2\n";
    struct Case {
        std::string text;
        std::string message;
    } cases[] = {
        {ok_lists, "test.space:3: missing 'name'"},
        {"name: a\nbinary: x1 + x2\n", "missing 'unary'"},
        {"name: a\nunary: x\n", "missing 'binary'"},
        {"name: a\ncolour: blue\n" + ok_lists, "test.space:2: unknown key 'colour'"},
        {"name: a\nname: b\n" + ok_lists, "test.space:2: duplicate key 'name'"},
        {"name: a\nunary:\nbinary: x1 + x2\n", "test.space:2: expected a value"},
        {"name: a\nunary: x,\nbinary: x1 + x2\n", "test.space:2: a list cannot end with ','"},
        {"name: a\nunary: x,, y\nbinary: x1 + x2\n", "test.space:2: expected a value before ','"},
        {"name: a\nunary: x, x2 + 1\nbinary: x1 + x2\n", "test.space:2: unary template 'x2 + 1' uses x2"},
        {"name: a\nunary: x,\n  relu(x + \nbinary: x1 + x2\n", "test.space:3: expected ')'"},
        {"name: a\nunary: x, tanh(x))\nbinary: x1 + x2\n", "test.space:2:"},
        {"name: a\nunary: x, sigmod(x)\nbinary: x1 + x2\n",
         "test.space:2: in unary template 'sigmod(x)': unknown function 'sigmod' (did you mean 'sigmoid'?)"},
        {"name: a\nunary: x, x\nbinary: x1 + x2\n", "test.space:2: duplicate unary template 'x'"},
        {"name: a\nunits: 0\n" + ok_lists, "test.space:2: units must be an integer from 1 to 16"},
        {"name: a\nunits: two\n" + ok_lists, "units must be an integer"},
        {"name: a b\n" + ok_lists, "test.space:1: invalid name 'a b'"},
        {"name: a, b\n" + ok_lists, "'name' takes one value, got 2"},
        {"name: a\nnotation: lisp\n" + ok_lists, "notation must be 'infix' or 'aquasurf'"},
        {"name: a\n" + ok_lists + "garbage\n", "test.space:4: expected ':'"},
        {"name: \xC3\xA9\n" + ok_lists, "test.space:1: unexpected byte 0xC3"},
        {"name: a\nunary: " + std::string(300, '(') + "x" + std::string(300, ')') + "\nbinary: x1\n",
         "test.space:2: parentheses nested deeper than 256"},
    };
    for (const Case& c : cases) {
        const std::string message = space_error(c.text);
        EXPECT_NE(message.find(c.message), std::string::npos) << "file:\n" << c.text << "\nmessage: " << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
}

TEST(Space, LoadSpaceReadsFilesAndExplainsUnknownNames) {
    auto unknown = load_space("no-such-space");
    ASSERT_TRUE(std::holds_alternative<SpaceError>(unknown));
    EXPECT_NE(std::get<SpaceError>(unknown).message.find(
                  "unknown space 'no-such-space' (built-in: aquasurf, hard, paper-core1, paper-core2"),
              std::string::npos)
        << std::get<SpaceError>(unknown).message;

    const std::string path = ::testing::TempDir() + "actsearch_test.space";
    {
        std::ofstream out(path);
        out << "name: from-file\nunary: x, sin(x)\nbinary: x1 - x2\n";
    }
    const Space s = load(path);
    EXPECT_EQ(s.name, "from-file");
    EXPECT_EQ(s.raw_count(), 4u);
    std::remove(path.c_str());
}

}  // namespace
}  // namespace actsearch
