// Trainable parameters that carry their initial value, beta(0.25): parsing and its errors, printing and
// the round trip, the canonical form and hash, the fingerprint at the initial values, the evaluator's
// initial values, and LaTeX. (The C++ and PyTorch exports are checked in test_export.cpp, the networks
// in tests/engine, the database and the commands in tests/cli.)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "parsed.hpp"   // test::scalar_value
#include "actsearch/grammar/export.hpp"
#include "actsearch/grammar/fingerprint.hpp"
#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/print.hpp"
#include "actsearch/grammar/program.hpp"

namespace actsearch {
namespace {

constexpr std::string_view kPrelu = "max(x, 0) + beta(0.25)*min(x, 0)";
constexpr std::string_view kAptx = "(beta(1) + tanh(beta2(1)*x))*beta3(0.5)*x";

Expr parsed(std::string_view text) {
    ParseResult r = parse(text);
    EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.expr() : Expr{};
}

std::string canonical(std::string_view text) { return canonical_string(parsed(text)); }
std::uint64_t canonical_hash(std::string_view text) { return structural_hash(canonicalize(parsed(text))); }

using test::scalar_value;

// ---- parsing ----

TEST(BetaInitial, PreluAndAptxParseWithTheirValues) {
    const Expr prelu = parsed(kPrelu);
    EXPECT_EQ(prelu.beta_count(), 1);
    EXPECT_EQ(prelu.beta_initial_values(), std::vector<double>{0.25});
    const Expr aptx = parsed(kAptx);
    EXPECT_EQ(aptx.beta_count(), 3);
    EXPECT_EQ(aptx.beta_initial_values(), (std::vector<double>{1.0, 1.0, 0.5}));
    // The values are the leaves' values; a function of x at the initial values: APTx = (1 + tanh(x)) x / 2.
    for (double x : {-2.5, -0.3, 0.0, 0.7, 3.1}) {
        EXPECT_DOUBLE_EQ(scalar_value(prelu, x, prelu.beta_initial_values()), x > 0 ? x : 0.25 * x);
        EXPECT_NEAR(scalar_value(aptx, x, aptx.beta_initial_values()), (1 + std::tanh(x)) * 0.5 * x, 1e-15);
    }
    EXPECT_EQ(parsed("beta3(-2) * x").beta_initial_values(), (std::vector<double>{1.0, 1.0, -2.0}));
    EXPECT_EQ(parsed("beta(1e-3)").beta_initial_values(), std::vector<double>{1e-3});
    EXPECT_EQ(parsed("beta( 0.5 ) * x").beta_initial_values(), std::vector<double>{0.5});
}

TEST(BetaInitial, BareBetaIsOneAndAValueHoldsForEveryUse) {
    EXPECT_EQ(parsed("beta*x").beta_initial_values(), std::vector<double>{1.0});
    EXPECT_EQ(parsed("beta(1)*x"), parsed("beta*x"));   // the same Expr, node for node
    EXPECT_EQ(parsed("beta1(1)*x"), parsed("beta*x"));
    // Written once, the value holds at every use (before or after): one parameter, one start.
    const Expr shared = parsed("beta*x + sigmoid(beta(0.5)*x) - beta");
    EXPECT_EQ(shared.beta_count(), 1);
    for (const Node& n : shared.nodes) {
        if (n.op == Op::Beta) {
            EXPECT_EQ(n.value, 0.5);
        }
    }
    EXPECT_EQ(parsed("beta(0.5)*x + beta(0.5)"), parsed("beta(0.5)*x + beta"));
    // -0 is 0.
    EXPECT_EQ(std::signbit(parsed("beta(-0)").nodes[0].value), false);
    EXPECT_EQ(parsed("beta(-0)"), parsed("beta(0)"));
}

struct BadCase {
    std::string_view input;
    std::string_view message;  // substring
    std::size_t position;
};

TEST(BetaInitial, BadValuesAreOneLineErrorsWithTheirColumn) {
    const BadCase cases[] = {
        {"beta(", "expected expression but the input ended", 5},
        {"beta()", "expected expression before ')'", 5},
        {"x*beta(0.5", "expected ')'", 10},
        {"beta(x)", "the initial value of beta must be a number literal, e.g. beta(0.25)", 5},
        {"beta2(2*x)", "the initial value of beta2 must be a number literal", 6},
        {"beta(1 + 1)", "must be a number literal", 5},
        {"beta(--1)", "must be a number literal", 5},
        {"beta(2^2)", "must be a number literal", 5},
        {"beta(pi)", "must be a number literal", 5},
        {"beta(nan)", "non-finite initial value 'nan' is not allowed", 5},
        {"x + beta(-inf)", "non-finite initial value 'inf' is not allowed", 10},
        {"beta(1e40)", "initial value 1e40 of beta is out of range (betas are float", 5},
        {"beta(-4e38)", "out of range", 6},
        {"beta(1e400)", "number out of range", 5},
        {"beta(1, 2)", "beta takes 1 argument, its initial value (e.g. beta(0.25)), got 2", 0},
        {"beta(0.5)*x + beta(2)", "beta is given two initial values, 0.5 and 2", 14},
        {"beta2(1)*x + beta2(0.5)", "beta2 is given two initial values, 1 and 0.5", 13},
        {"beta(0.5)(x)", "unexpected '('", 9},
        {"beta0(1)", "unknown function 'beta0'", 0},
    };
    for (const BadCase& c : cases) {
        const ParseResult r = parse(c.input);
        ASSERT_FALSE(r.ok()) << "input: " << c.input;
        EXPECT_NE(r.error().message.find(c.message), std::string::npos)
            << "input: " << c.input << "\nmessage: " << r.error().message;
        EXPECT_EQ(r.error().position, c.position) << "input: " << c.input << "\nmessage: " << r.error().message;
        EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << "one line: " << r.error().message;
    }
    // The largest float is allowed.
    EXPECT_TRUE(parse("beta(3.4e38)").ok());
}

// ---- printing ----

TEST(BetaInitial, PrinterWritesValuesOtherThanOne) {
    EXPECT_EQ(to_infix(parsed(kPrelu)), "max(x, 0) + beta(0.25)*min(x, 0)");
    EXPECT_EQ(to_infix(parsed(kAptx)), "(beta + tanh(beta2*x))*beta3(0.5)*x");
    EXPECT_EQ(to_infix(parsed("beta(-0.5)^2")), "beta(-0.5)^2");
    EXPECT_EQ(to_infix(parsed("-beta(2)")), "-beta(2)");
    EXPECT_EQ(to_infix(make_beta(1, 1e-7)), "beta2(1e-07)");
    EXPECT_EQ(to_infix(make_beta(0, 0.1)), "beta(0.1)");   // shortest text that reads back
}

// Random expressions whose betas carry random initial values, one per beta number.
class RandomExpr {
public:
    explicit RandomExpr(std::uint64_t seed) : rng_(seed) {
        for (const OpInfo& info : all_ops()) {
            if (info.arity == 1 && info.op != Op::Pow) unary_.push_back(info.op);
            if (info.arity == 2) binary_.push_back(info.op);
        }
    }

    Expr operator()(int depth) {
        static constexpr double kInitial[] = {1.0, 0.25, -0.5, 0.0, 2.0, 0.1, 1e-3, -3.75, 1.0 / 3.0};
        for (double& v : initial_) v = kInitial[pick(std::size(kInitial))];
        return draw(depth);
    }

private:
    std::mt19937_64 rng_;
    std::vector<Op> unary_, binary_;
    double initial_[3] = {1.0, 1.0, 1.0};

    std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

    Expr draw(int depth) {
        const std::size_t kind = depth == 0 ? 0 : pick(10);
        if (kind < 3) {
            switch (pick(4)) {
                case 0: return make_const(std::ldexp(static_cast<double>(pick(9)) - 4.0, -static_cast<int>(pick(3))));
                case 1: {
                    const int index = static_cast<int>(pick(3));
                    return make_beta(index, initial_[index]);
                }
                default: return make_leaf_x();
            }
        }
        if (kind < 6) return make_unary(unary_[pick(unary_.size())], draw(depth - 1));
        Expr a = draw(depth - 1);
        return make_binary(binary_[pick(binary_.size())], std::move(a), draw(depth - 1));
    }
};

TEST(BetaInitial, PrintParseRoundTripKeepsEveryInitialValue) {
    // print(parse(s)) parses to the same program, for s printed from random expressions with values.
    RandomExpr random(1202);
    int with_values = 0;
    for (int i = 0; i < 3000; ++i) {
        const Expr e = random(1 + i % 6);
        const std::string s = to_infix(e);
        const ParseResult first = parse(s);
        ASSERT_TRUE(first.ok()) << s << ": " << first.error().message;
        const std::string again = to_infix(first.expr());
        const ParseResult second = parse(again);
        ASSERT_TRUE(second.ok()) << again << ": " << second.error().message;
        ASSERT_EQ(second.expr(), first.expr()) << s << " -> " << again;
        ASSERT_EQ(first.expr().beta_initial_values(), e.beta_initial_values()) << s;
        // The same function as the original, at its initial values.
        for (double x : {-1.3, 0.4, 2.2}) {
            const double a = scalar_value(e, x, e.beta_initial_values());
            const double b = scalar_value(first.expr(), x, e.beta_initial_values());
            if (std::isfinite(a) && std::isfinite(b)) {
                ASSERT_NEAR(a, b, 1e-9 * std::max(1.0, std::abs(a))) << s;
            }
        }
        for (double v : e.beta_initial_values()) with_values += v != 1.0;
    }
    EXPECT_GT(with_values, 1000);
}

// ---- canonical form and structural hash ----

TEST(BetaInitial, CanonicalFormKeepsValuesAndNeverFoldsABeta) {
    EXPECT_EQ(canonical(kPrelu), "max(x, 0) + beta(0.25)*min(x, 0)");
    EXPECT_EQ(canonical("min(0, x)*beta(0.25) + max(0, x)"), "max(x, 0) + beta(0.25)*min(x, 0)");
    // Products put x first here (x is a leaf, the rest a product), sums their non-leaf operand first;
    // renumbered by first appearance, beta3(0.5) becomes beta.
    EXPECT_EQ(canonical(kAptx), "x*(beta(0.5)*(tanh(beta2*x) + beta3))");
    // beta(1) is beta: one canonical form, one hash.
    EXPECT_EQ(canonical("beta(1)*x + beta2(1)"), canonical("beta*x + beta2"));
    EXPECT_EQ(canonical_hash("beta(1)*x"), canonical_hash("beta*x"));
    // Different initial values are different parameters and different candidates.
    EXPECT_NE(canonical("beta(0.25)*x"), canonical("beta*x"));
    EXPECT_NE(canonical_hash("beta(0.25)*x"), canonical_hash("beta*x"));
    EXPECT_NE(canonical_hash("beta(0.25)*x"), canonical_hash("beta(0.5)*x"));
    EXPECT_NE(canonical_hash("beta(0.25)*x"), canonical_hash("0.25*x"));
    // Renumbering by first appearance keeps each value with its parameter.
    EXPECT_EQ(canonical("beta2(0.5)*x + beta(3)"), "beta(0.5)*x + beta2(3)");
    EXPECT_EQ(canonical("beta3(-1) + beta(2)*beta3"), "beta(-1)*beta2(2) + beta(-1)");
    // Nothing folds a beta, whatever it starts at.
    EXPECT_EQ(canonical("beta(0)*x"), "beta(0)*x");
    EXPECT_EQ(canonical("beta(2) + 3"), "beta(2) + 3");
    EXPECT_EQ(canonical("x*beta(1)"), "beta*x");   // x*1 -> x does not apply to beta(1) either
    EXPECT_EQ(canonical("exp(beta(0))"), "exp(beta(0))");
    EXPECT_EQ(canonical("beta(0.5) - beta(0.5)"), "0");          // the same parameter: a - a
    EXPECT_EQ(canonical("beta(0.5) - beta2(0.5)"), "beta(0.5) - beta2(0.5)");   // two parameters
    // Operand order looks at the value, not the number: renaming cannot reorder.
    EXPECT_EQ(canonical("beta(2)*x + beta2(0.5)*x"), canonical("beta2(2)*x + beta(0.5)*x"));
}

TEST(BetaInitial, CanonicalisingAnInconsistentExprUsesTheFirstValue) {
    // Builders can put two values on one beta number; the first (postfix order) holds everywhere.
    const Expr e = make_binary(Op::Add, make_beta(0, 0.5), make_binary(Op::Mul, make_beta(0, 2.0), make_leaf_x()));
    EXPECT_EQ(e.beta_initial_values(), std::vector<double>{0.5});
    const Expr c = canonicalize(e);
    for (const Node& n : c.nodes) {
        if (n.op == Op::Beta) {
            EXPECT_EQ(n.value, 0.5);
        }
    }
    EXPECT_EQ(canonical_string(e), "beta(0.5)*x + beta(0.5)");
    EXPECT_EQ(canonicalize(make_beta(0, -0.0)), canonicalize(make_beta(0, 0.0)));
}

TEST(BetaInitial, CanonicalFormIsIdempotentAndReadsBack) {
    RandomExpr random(99);
    for (int i = 0; i < 2000; ++i) {
        const Expr e = random(1 + i % 6);
        const Expr c = canonicalize(e);
        ASSERT_EQ(canonicalize(c), c) << to_infix(e);
        const std::string text = to_infix(c);
        const ParseResult back = parse(text);
        ASSERT_TRUE(back.ok()) << text << ": " << back.error().message;
        ASSERT_EQ(canonicalize(back.expr()), c) << text;
        ASSERT_EQ(structural_hash(canonicalize(back.expr())), structural_hash(c)) << text;
        // Renumbered, but the multiset of initial values is kept.
        std::vector<double> before = e.beta_initial_values(), after = c.beta_initial_values();
        std::vector<double> used_before;
        for (const Node& n : e.nodes)
            if (n.op == Op::Beta) used_before.push_back(before[n.index] + 0.0);
        std::vector<double> used_after;
        for (const Node& n : c.nodes)
            if (n.op == Op::Beta) used_after.push_back(after[n.index]);
        // Canonicalisation may drop uses (x - x -> 0) but never invents a value.
        for (double v : used_after)
            ASSERT_NE(std::find(used_before.begin(), used_before.end(), v), used_before.end()) << text;
    }
}

// ---- fingerprint ----

std::uint64_t fp_hash(std::string_view text) {
    const Fingerprint f = fingerprint(parsed(text));
    EXPECT_TRUE(f.valid) << text << ": " << f.reason;
    return f.hash;
}

TEST(BetaInitial, FingerprintProbesAtTheInitialValues) {
    EXPECT_EQ(fp_hash("beta(1)*x"), fp_hash("beta*x"));
    EXPECT_NE(fp_hash("beta(0.25)*x"), fp_hash("beta*x"));
    EXPECT_NE(fp_hash(kPrelu), fp_hash("max(x, 0) + beta*min(x, 0)"));
    EXPECT_NE(fp_hash(kPrelu), fp_hash("leaky_relu(x)"));
    // The same function at the same start, written differently: same fingerprint.
    EXPECT_EQ(fp_hash(kPrelu), fp_hash("relu(x) + min0(x)*beta(0.25)"));
    EXPECT_EQ(fp_hash(kAptx), fp_hash("x*beta3(0.5)*(beta + tanh(x*beta2))"));
    // Renaming parameters keeps the hash (values travel with their parameter).
    EXPECT_EQ(fp_hash("beta(0.5)*x + beta2(2)"), fp_hash("beta(2) + beta2(0.5)*x"));
    // Equal values at the start, different parameterisation: different.
    EXPECT_NE(fp_hash("beta(0.5)*x"), fp_hash("0.5*beta*x"));
    // Validity is judged where training starts.
    const Fingerprint at_zero = fingerprint(parsed("x/beta(0)"));
    EXPECT_FALSE(at_zero.valid);
    EXPECT_NE(at_zero.reason.find("betas=0 (initial)"), std::string::npos) << at_zero.reason;
    EXPECT_TRUE(fingerprint(parsed("x/beta")).valid);
    const Fingerprint second = fingerprint(parsed("log(beta(-1) + 1.5)*x"));   // log(-0.37 + 1.5) is fine,
    EXPECT_TRUE(second.valid) << second.reason;                               // log(-1 + 1.5) too
    const Fingerprint negative = fingerprint(parsed("sqrt(beta(-1))*x"));
    EXPECT_FALSE(negative.valid);
    // A beta starting at 0 is probed at 0.37 too (0.37 x 0 would probe 0 twice): these agree in value
    // and in d/dbeta at beta = 0, and differ at 0.37.
    EXPECT_NE(fp_hash("beta(0)*relu(x)"), fp_hash("sin(beta(0))*relu(x)"));
}

TEST(BetaInitial, FingerprintOfStoredKindsUsesBetaOneAndPointThreeSeven) {
    // With every beta at 1 the reason names the setting as before initial values existed.
    const Fingerprint f = fingerprint(parsed("sqrt(beta - 0.5)*x"));
    ASSERT_FALSE(f.valid);
    EXPECT_EQ(f.reason, "non-finite value at x=-6 (beta=0.37)");
}

// ---- evaluator ----

TEST(BetaInitial, ProgramReportsInitialValuesInFloat) {
    const Program prelu(parsed(kPrelu));
    EXPECT_EQ(prelu.beta_initial_values(), std::vector<float>{0.25f});
    const Program aptx(parsed(kAptx));
    EXPECT_EQ(aptx.beta_initial_values(), (std::vector<float>{1.0f, 1.0f, 0.5f}));
    EXPECT_TRUE(Program(parsed("relu(x)")).beta_initial_values().empty());
    EXPECT_EQ(Program(parsed("beta2(3)*x")).beta_initial_values(), (std::vector<float>{1.0f, 3.0f}));
    // At its initial values PReLU is leaky relu with slope 0.25, APTx (1 + tanh(x)) x / 2.
    const std::vector<float> xs{-3.0f, -0.5f, 0.0f, 0.25f, 2.0f};
    std::vector<float> y(xs.size());
    prelu.eval(xs.data(), y.data(), xs.size(), prelu.beta_initial_values().data());
    for (std::size_t i = 0; i < xs.size(); ++i) EXPECT_FLOAT_EQ(y[i], xs[i] > 0 ? xs[i] : 0.25f * xs[i]);
    aptx.eval(xs.data(), y.data(), xs.size(), aptx.beta_initial_values().data());
    for (std::size_t i = 0; i < xs.size(); ++i)
        EXPECT_NEAR(y[i], (1.0 + std::tanh(double(xs[i]))) * 0.5 * xs[i], 1e-6);
}

// ---- LaTeX ----

TEST(BetaInitial, LatexStatesTheInitialValues) {
    EXPECT_EQ(export_latex(parsed(kPrelu)),
              "\\max\\left(x, 0\\right) + \\beta \\cdot \\min\\left(x, 0\\right) \\quad \\text{with } "
              "\\beta = 0.25 \\text{ initially}");
    EXPECT_EQ(export_latex(parsed(kAptx)),
              "\\left(\\beta + \\tanh\\left(\\beta_{2} \\cdot x\\right)\\right) \\cdot \\beta_{3} \\cdot x \\quad "
              "\\text{with } \\beta = 1,\\ \\beta_{2} = 1,\\ \\beta_{3} = 0.5 \\text{ initially}");
    // Every beta at 1: the formula alone, as before.
    EXPECT_EQ(export_latex(parsed("beta(1)*x")), "\\beta \\cdot x");
}

}  // namespace
}  // namespace actsearch
