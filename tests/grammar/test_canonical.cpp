// Expr builders, printer, canonical form and structural hash; property tests over random expressions.
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "actsearch/grammar/expr.hpp"
#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/print.hpp"
#include "parsed.hpp"

namespace actsearch {
namespace {

using test::parsed;

std::string canonical(std::string_view text) { return canonical_string(parsed(text)); }

// ---- Expr ----

TEST(Expr, BuildersKeepPostfixOrderAndLengths) {
    const Expr e = make_binary(Op::Mul, make_leaf_x(), make_unary(Op::Sigmoid, make_beta(1)));
    ASSERT_EQ(e.size(), 4u);
    EXPECT_EQ(e.nodes[0].op, Op::X);
    EXPECT_EQ(e.nodes[1].op, Op::Beta);
    EXPECT_EQ(e.nodes[2].op, Op::Sigmoid);
    EXPECT_EQ(e.nodes[3].op, Op::Mul);
    EXPECT_EQ(e.nodes[2].length, 2);
    EXPECT_EQ(e.nodes[3].length, 4);
    EXPECT_EQ(e.beta_count(), 2);
    EXPECT_EQ(make_const(1.5).beta_count(), 0);
    EXPECT_EQ(e, parsed("x*sigmoid(beta2)"));
}

TEST(Expr, FixLengthsRejectsMalformedArrays) {
    Expr e = parsed("x + sin(x)");
    for (Node& n : e.nodes) n.length = 99;
    ASSERT_TRUE(e.fix_lengths());
    EXPECT_EQ(e, parsed("x + sin(x)"));

    Expr two_roots = parsed("x");
    two_roots.nodes.push_back(two_roots.nodes[0]);
    EXPECT_FALSE(two_roots.fix_lengths());

    Expr missing_child = parsed("x + 1");
    missing_child.nodes.erase(missing_child.nodes.begin());
    EXPECT_FALSE(missing_child.fix_lengths());

    Expr wrong_arity = parsed("sin(x)");
    wrong_arity.nodes.back().arity = 2;
    EXPECT_FALSE(wrong_arity.fix_lengths());

    Expr empty;
    EXPECT_FALSE(empty.fix_lengths());
}

TEST(Expr, SubstituteReplacesArgumentsAndFixesLengths) {
    const Expr tmpl = parsed("sigmoid(x1)*x2 + x1");
    const Expr out = substitute(tmpl, {parsed("beta*x"), parsed("tanh(x)")});
    EXPECT_EQ(out, parsed("sigmoid(beta*x)*tanh(x) + beta*x"));
    EXPECT_EQ(out.nodes.back().length, out.size());
}

TEST(Expr, SplitBetasGivesEachUseItsOwnParameter) {
    const Expr e = split_betas(parsed("beta*x + beta*beta"));
    EXPECT_EQ(e, parsed("beta*x + beta2*beta3"));
    EXPECT_EQ(e.beta_count(), 3);
}

// ---- printer ----

TEST(Print, MinimalParenthesesThatReadBack) {
    const char* cases[][2] = {
        {"x - (x - 1)", "x - (x - 1)"},
        {"(x - x) - 1", "x - x - 1"},
        {"x / (x * 2)", "x/(x*2)"},
        {"(x / x) * 2", "x/x*2"},
        {"(-x)^2", "(-x)^2"},
        {"-(x^2)", "-x^2"},
        {"(x^2)^3", "(x^2)^3"},
        {"(-2)^2", "(-2)^2"},
        {"-(x*x)", "-(x*x)"},
        {"x*(-x)", "x*-x"},
        {"x - (-x)", "x - -x"},
        {"(x + 1)*(x - 1)", "(x + 1)*(x - 1)"},
        {"max(x + 1, -x)", "max(x + 1, -x)"},
        {"x^-0.5", "x^-0.5"},
        {"0.1 + 1e-7 + 1e20", "0.1 + 1e-07 + 1e+20"},
        {"beta3 * x1 - x2", "beta3*x1 - x2"},
    };
    for (const auto& [input, printed] : cases) {
        const Expr e = parsed(input);
        EXPECT_EQ(to_infix(e), printed) << input;
        EXPECT_EQ(parsed(to_infix(e)), e) << input;
    }
    EXPECT_EQ(to_infix(Expr{}), "");
    // Only built programmatically (the parser rejects these literals): printed, but not readable.
    EXPECT_EQ(to_infix(make_binary(Op::Add, make_leaf_x(), make_const(INFINITY))), "x + inf");
}

// ---- canonical form ----

TEST(Canonical, CommutativeOperandsGiveOneString) {
    EXPECT_EQ(canonical("x*sigmoid(x)"), canonical("sigmoid(x)*x"));
    EXPECT_EQ(canonical("x*sigmoid(x)"), "x*sigmoid(x)");
    EXPECT_EQ(canonical("tanh(x) + sin(x)"), canonical("sin(x) + tanh(x)"));
    EXPECT_EQ(canonical("max(relu(x), x)"), canonical("max(x, relu(x))"));
    EXPECT_EQ(canonical("min(exp(x), cos(x))"), canonical("min(cos(x), exp(x))"));
    EXPECT_EQ(canonical("(x + 1)*(x - 1)"), canonical("(x - 1)*(x + 1)"));
    // Not commutative: order kept.
    EXPECT_NE(canonical("x - sin(x)"), canonical("sin(x) - x"));
    EXPECT_NE(canonical("x/sin(x)"), canonical("sin(x)/x"));
}

TEST(Canonical, ConstantFolding) {
    EXPECT_EQ(canonical("2*3 + x"), "x + 6");
    EXPECT_EQ(canonical("x*(1 + 1)"), "2*x");
    EXPECT_EQ(canonical("sigmoid(0)*x"), "0.5*x");
    EXPECT_EQ(canonical("exp(0) + 2^3"), "9");
    EXPECT_EQ(canonical("-(3)"), "-3");
    // Non-finite results are kept as written: the candidate must still be seen to fail.
    EXPECT_EQ(canonical("x + log(0)"), "x + log(0)");
    EXPECT_EQ(canonical("x*(1/0)"), "x*(1/0)");
    EXPECT_EQ(canonical("sqrt(-1)"), "sqrt(-1)");
    // ... and x*0 -> 0 does not swallow them: only expressions of x or beta are assumed finite.
    EXPECT_EQ(canonical("log(0)*0"), "0*log(0)");
}

TEST(Canonical, Identities) {
    const char* cases[][2] = {
        {"x + 0", "x"},         {"0 + x", "x"},           {"x - 0", "x"},          {"0 - x", "-x"},
        {"x*1", "x"},           {"1*x", "x"},             {"x*0", "0"},            {"0*sin(x)", "0"},
        {"x/1", "x"},           {"x/-1", "-x"},           {"x*-1", "-x"},          {"--x", "x"},
        {"x - x", "0"},         {"sin(x) - sin(x)", "0"}, {"beta - beta2", "beta - beta2"},
        {"x^1", "x"},           {"x^0", "1"},             {"pow(x, 2)", "x^2"},    {"max(x, x)", "x"},
        {"min(tanh(x), tanh(x))", "tanh(x)"},             {"x + -x", "0"},
        {"x - -1", "x + 1"},    {"x + -1", "x - 1"},      {"-x + 1", "1 - x"},     {"-x*x", "-(x*x)"},
        {"-x*-x", "x*x"},       {"-x/x", "-(x/x)"},       {"abs(-x)", "abs(x)"},   {"(-x)^4", "x^4"},
        {"cosh(-x)", "cosh(x)"}, {"(-x)^3", "(-x)^3"},    {"sinh(-x)", "sinh(-x)"},
    };
    for (const auto& [input, expected] : cases) EXPECT_EQ(canonical(input), expected) << input;
}

TEST(Canonical, BetasRenumberedInOrderOfAppearance) {
    EXPECT_EQ(canonical("beta3*x + beta"), "beta*x + beta2");
    EXPECT_EQ(canonical("x*sigmoid(beta7*x)"), "x*sigmoid(beta*x)");
    EXPECT_EQ(canonicalize(parsed("beta5 + beta9")).beta_count(), 2);
    EXPECT_EQ(canonicalize(parsed("beta5*0 + x")).beta_count(), 0);
    // Renaming the betas does not change the canonical string.
    EXPECT_EQ(canonical("beta2*x + beta*sin(x)"), canonical("beta*x + beta2*sin(x)"));
}

TEST(Canonical, DeepChainsAreLinear) {
    std::string text = "x";
    while (text.size() + 8 < kMaxInputBytes) text += "+sin(x)";
    const Expr e = parsed(text);
    // No timing here (a sanitizer or Debug build is many times slower): a quadratic canonicaliser shows
    // up as this test running into ctest's timeout, not as a flaky wall-clock bound.
    const Expr c = canonicalize(e);
    const std::string s = to_infix(c);
    EXPECT_EQ(c.size(), e.size());
    EXPECT_EQ(canonicalize(c), c);
    EXPECT_FALSE(s.empty());
}

// ---- structural hash ----

TEST(StructuralHash, EqualForEqualExpressionsAndSensitiveToEveryField) {
    const std::uint64_t h = structural_hash(parsed("x*sigmoid(beta*x) + 1.5"));
    EXPECT_EQ(h, structural_hash(parsed("x * sigmoid(beta * x) + 1.5")));
    EXPECT_NE(h, structural_hash(parsed("x*sigmoid(beta*x) + 1.25")));   // constant
    EXPECT_NE(h, structural_hash(parsed("x*tanh(beta*x) + 1.5")));       // op
    EXPECT_NE(h, structural_hash(parsed("x*sigmoid(beta2*x) + 1.5")));   // beta number
    EXPECT_NE(h, structural_hash(parsed("sigmoid(beta*x)*x + 1.5")));    // operand order
    EXPECT_NE(structural_hash(parsed("x^0.5")), structural_hash(parsed("x^1.5")));
    EXPECT_NE(structural_hash(parsed("x1 - x2")), structural_hash(parsed("x2 - x1")));
    // Fields an op does not use do not count.
    Expr noisy = parsed("sin(x)");
    noisy.nodes.back().value = 42.0;
    noisy.nodes.back().index = 7;
    EXPECT_EQ(structural_hash(noisy), structural_hash(parsed("sin(x)")));
}

TEST(StructuralHash, IsStableAcrossBuildsAndPlatforms) {
    // These values are stored in databases: a change here invalidates every stored hash. The function
    // uses only integer arithmetic on fixed-width values and the bit pattern of doubles.
    EXPECT_EQ(structural_hash(canonicalize(parsed("x*sigmoid(x)"))), 0x89469b50ef440101ull);
    EXPECT_EQ(structural_hash(canonicalize(parsed("2*3 + x"))), 0x53fe71757bac43cfull);
}

// ---- properties over random expressions ----

class RandomExpr {
public:
    explicit RandomExpr(std::uint64_t seed) : rng_(seed) {
        for (const OpInfo& info : all_ops()) {
            if (info.arity == 1 && info.op != Op::Pow) unary_.push_back(info.op);
            if (info.arity == 2) binary_.push_back(info.op);
        }
    }

    Expr operator()(int depth) {
        const int kind = depth == 0 ? 0 : pick(10);
        if (kind < 3) return leaf();
        if (kind < 6) {
            if (pick(8) == 0) {
                // Powers other than 2 and 3 (those parse back as square and cube).
                static constexpr double kExponents[] = {-2.0, -1.0, 0.0, 0.5, 1.0, 1.5, 4.0};
                return make_unary(Op::Pow, (*this)(depth - 1), kExponents[pick(7)]);
            }
            return make_unary(unary_[pick(unary_.size())], (*this)(depth - 1));
        }
        Expr a = (*this)(depth - 1);
        return make_binary(binary_[pick(binary_.size())], std::move(a), (*this)(depth - 1));
    }

private:
    std::mt19937_64 rng_;
    std::vector<Op> unary_, binary_;

    std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

    Expr leaf() {
        static constexpr double kConstants[] = {0.0, -0.0, 1.0, -1.0, 2.0, 0.5, -1.5, 0.1, 1e-3, 7.25, 3.0};
        switch (pick(4)) {
            case 0: return make_const(kConstants[pick(std::size(kConstants))]);
            case 1: return make_beta(static_cast<int>(pick(3)));
            default: return make_leaf_x();
        }
    }
};

// f(x) by apply_scalar over the postfix array, every beta = `beta`. nullopt when some intermediate value
// is zero or not finite: there, sign-of-zero and inf/NaN differences between rewritings are allowed.
std::optional<double> evaluate(const Expr& e, double x, double beta) {
    std::vector<double> stack;
    for (const Node& n : e.nodes) {
        double v = 0.0;
        switch (n.op) {
            case Op::X: v = x; break;
            case Op::Beta: v = beta; break;
            case Op::Const: v = n.value; break;
            default:
                if (n.arity == 1) {
                    v = apply_scalar(n.op, stack.back(), n.value);
                    stack.pop_back();
                } else {
                    const double b = stack.back();
                    stack.pop_back();
                    v = apply_scalar(n.op, stack.back(), b);
                    stack.pop_back();
                }
        }
        if (n.arity > 0 && (v == 0.0 || !std::isfinite(v))) return std::nullopt;
        stack.push_back(v);
    }
    return stack.back();
}

bool same_values(const Expr& a, const Expr& b, int& compared) {
    static constexpr double kPoints[] = {-3.7, -1.1, -0.35, 0.2, 0.9, 2.6, 5.3};
    for (double x : kPoints) {
        const auto va = evaluate(a, x, 0.7);
        const auto vb = evaluate(b, x, 0.7);
        if (!va || !vb) continue;
        ++compared;
        if (std::abs(*va - *vb) > 1e-12 * std::max(1.0, std::abs(*va))) return false;
    }
    return true;
}

TEST(Properties, PrintParseRoundTripKeepsStructureAndValues) {
    RandomExpr random(20240501);
    int compared = 0;
    for (int i = 0; i < 2000; ++i) {
        const Expr e = random(1 + i % 6);
        const std::string text = to_infix(e);
        const ParseResult back = parse(text);
        ASSERT_TRUE(back.ok()) << text << ": " << back.error().message;
        // Equal, or equal once -(2) has become the literal -2 and x^2 square(x): both canonicalise.
        if (back.expr() != e) {
            ASSERT_EQ(canonicalize(back.expr()), canonicalize(e)) << text;
        }
        ASSERT_TRUE(same_values(back.expr(), e, compared)) << text;
    }
    EXPECT_GT(compared, 2000);
}

TEST(Properties, CanonicalFormIsIdempotentReadsBackAndKeepsValues) {
    RandomExpr random(77);
    int compared = 0;
    for (int i = 0; i < 2000; ++i) {
        const Expr e = random(1 + i % 6);
        const Expr c = canonicalize(e);
        ASSERT_EQ(canonicalize(c), c) << to_infix(e) << " -> " << to_infix(c);
        ASSERT_EQ(c.nodes.back().length, c.size());
        ASSERT_LE(c.size(), e.size()) << to_infix(e);
        const std::string text = to_infix(c);
        const ParseResult back = parse(text);
        ASSERT_TRUE(back.ok()) << text << ": " << back.error().message;
        ASSERT_EQ(canonicalize(back.expr()), c) << text;
        ASSERT_EQ(canonical_string(back.expr()), text);
        ASSERT_TRUE(same_values(c, e, compared)) << to_infix(e) << " -> " << text;
    }
    EXPECT_GT(compared, 1000);
}

TEST(Properties, CommutedOperandsCanonicaliseAlike) {
    // Swapping the operands of every commutative op anywhere in the tree leaves the canonical form.
    RandomExpr random(4242);
    for (int i = 0; i < 500; ++i) {
        const Expr e = random(1 + i % 5);
        std::vector<Expr> stack;
        for (const Node& n : e.nodes) {
            if (n.arity == 0) {
                stack.push_back(Expr{{n}});
            } else if (n.arity == 1) {
                stack.back() = make_unary(n.op, std::move(stack.back()), n.value);
            } else {
                Expr b = std::move(stack.back());
                stack.pop_back();
                Expr a = std::move(stack.back());
                stack.back() = op_info(n.op).commutative ? make_binary(n.op, std::move(b), std::move(a))
                                                         : make_binary(n.op, std::move(a), std::move(b));
            }
        }
        // Betas are renumbered by appearance, which swapping changes: compare with betas merged.
        const auto merged = [](Expr x) {
            for (Node& n : x.nodes)
                if (n.op == Op::Beta) n.index = 0;
            return canonical_string(x);
        };
        ASSERT_EQ(merged(stack.back()), merged(e)) << to_infix(e) << " vs " << to_infix(stack.back());
    }
}

}  // namespace
}  // namespace actsearch
