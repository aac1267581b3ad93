// Functional fingerprints: equal for equal functions written differently, different for different
// functions (beta or not, another constant), invalid where the probes hit a NaN or an infinity.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "actsearch/grammar/fingerprint.hpp"
#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/print.hpp"

namespace actsearch {
namespace {

Fingerprint fp(std::string_view text) {
    const ParseResult parsed = parse(text);
    if (!parsed.ok()) {
        ADD_FAILURE() << "cannot parse '" << text << "': " << parsed.error().message;
        return {};
    }
    return fingerprint(parsed.expr());
}

void expect_same(std::string_view a, std::string_view b) {
    const Fingerprint fa = fp(a), fb = fp(b);
    ASSERT_TRUE(fa.valid) << a << ": " << fa.reason;
    ASSERT_TRUE(fb.valid) << b << ": " << fb.reason;
    EXPECT_EQ(fa.hash, fb.hash) << "'" << a << "' and '" << b << "' should fingerprint equal";
}

void expect_different(std::string_view a, std::string_view b) {
    const Fingerprint fa = fp(a), fb = fp(b);
    ASSERT_TRUE(fa.valid) << a << ": " << fa.reason;
    ASSERT_TRUE(fb.valid) << b << ": " << fb.reason;
    EXPECT_NE(fa.hash, fb.hash) << "'" << a << "' and '" << b << "' should fingerprint differently";
}

TEST(Fingerprint, EquivalentFormsHashEqual) {
    expect_same("x * sigmoid(x)", "x / (1 + exp(-x))");
    expect_same("x * sigmoid(x)", "sigmoid(x) * x");
    expect_same("x * sigmoid(x)", "swish(x)");
    expect_same("x * sigmoid(beta * x)", "x / (1 + exp(-(beta * x)))");
    expect_same("x * sigmoid(beta * x)", "sigmoid(x * beta) * x");
    expect_same("relu(x)", "max(x, 0)");
    expect_same("relu(x)", "(x + abs(x)) / 2");  // equal values; derivatives differ only at the kink 0
    expect_same("tanh(x)", "2 * sigmoid(2 * x) - 1");
    expect_same("hard_swish(x)", "x * relu6(x + 3) / 6");
    expect_same("softplus(x)", "log(1 + exp(x))");
    expect_same("x - x", "0");
    expect_same("beta * x + beta2", "beta2 * x + beta");  // renaming parameters
}

TEST(Fingerprint, DifferentFunctionsHashDifferently) {
    expect_different("x * sigmoid(beta * x)", "x * sigmoid(x)");
    expect_different("x * sigmoid(x)", "x * sigmoid(1.01 * x)");
    expect_different("relu(x)", "leaky_relu(x)");
    expect_different("gelu(x)", "x * sigmoid(1.702 * x)");  // the usual approximation is not gelu
    expect_different("beta * x", "beta * x + beta");
    expect_different("beta * x", "beta * beta2 * x");
    expect_different("x", "-x");
    expect_different("hard_sigmoid(x)", "keras_hard_sigmoid(x)");
}

TEST(Fingerprint, NonFiniteOnProbesIsInvalid) {
    for (std::string_view text : {"log(x)", "sqrt(x)", "1 / x", "x / (x - 1)", "reciprocal(x)", "exp(exp(x))",
                                  "x ^ 0.5", "log(x - 10)", "sqrt(abs(x))" /* infinite slope at 0 */}) {
        const Fingerprint f = fp(text);
        EXPECT_FALSE(f.valid) << text;
        EXPECT_NE(f.reason.find("non-finite"), std::string::npos) << text << ": " << f.reason;
    }
    const Fingerprint log_fp = fp("log(x)");
    EXPECT_NE(log_fp.reason.find("x=-6"), std::string::npos) << log_fp.reason;  // names the probe
    // 1/(x + beta) is fine at beta = 1 on every probe except x = -1.
    EXPECT_FALSE(fp("1 / (x + beta)").valid);
}

TEST(Fingerprint, FiniteEverywhereIsValidEvenWhenConstant) {
    for (std::string_view text : {"x - x", "beta", "3", "log_abs(x)", "sqrt(x * x + 1)", "x / (1 + abs(x))",
                                  "exp(x) * cube(x)", "sinc(x)", "log(1 + exp(x))"}) {
        const Fingerprint f = fp(text);
        EXPECT_TRUE(f.valid) << text << ": " << f.reason;
        EXPECT_TRUE(f.reason.empty()) << text;
    }
}

TEST(Fingerprint, DeterministicAndNonTrivial) {
    const Fingerprint a = fp("max(x, tanh(x)) * sigmoid(beta * x)");
    const Fingerprint b = fp("max(x, tanh(x)) * sigmoid(beta * x)");
    ASSERT_TRUE(a.valid);
    EXPECT_EQ(a.hash, b.hash);
    EXPECT_NE(a.hash, 0u);
}

// Databases store fingerprints and structural hashes: these are the values written down from main
// 33e11f0, before their mixing function moved to actsearch/numeric.
TEST(Fingerprint, StoredHashesAreThoseOfBefore) {
    struct Case {
        const char* text;
        std::uint64_t structural, fingerprint;
    };
    for (const Case& c : {Case{"x*sigmoid(beta*x)", 0xfea3ad9ee708a681ull, 0x7f962b6fdf259b87ull},
                          Case{"max(x, tanh(x))", 0xec0fbd7739efb41cull, 0xc564d5008f52bd19ull},
                          Case{"x/(1+exp(-x))", 0xf1a47e51cb8d9a54ull, 0x3e411d2741036cfdull},
                          Case{"relu(x) + 0.5*sin(x)", 0x1e478dedb5f23094ull, 0xa30988e936e3e05cull}}) {
        const Expr e = canonicalize(parse(c.text).expr());
        EXPECT_EQ(structural_hash(e), c.structural) << c.text;
        const Fingerprint f = fingerprint(e);
        EXPECT_TRUE(f.valid) << c.text;
        EXPECT_EQ(f.hash, c.fingerprint) << c.text;
    }
}

TEST(Fingerprint, MalformedExpressionIsInvalidNotACrash) {
    EXPECT_FALSE(fingerprint(Expr{}).valid);
    Expr dangling = make_leaf_x();
    dangling.nodes.push_back(Node{.op = Op::Mul, .arity = 2});
    const Fingerprint f = fingerprint(dangling);
    EXPECT_FALSE(f.valid);
    EXPECT_NE(f.reason.find("malformed"), std::string::npos) << f.reason;
    EXPECT_FALSE(fingerprint(make_leaf_x(1)).valid);  // x2 only exists in space templates
}

}  // namespace
}  // namespace actsearch
