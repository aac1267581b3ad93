#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/core.h>

#include "actsearch/cost/cost.hpp"
#include "actsearch/cost/harden.hpp"
#include "actsearch/cost/pareto.hpp"
#include "actsearch/grammar/export.hpp"
#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/print.hpp"
#include "actsearch/grammar/program.hpp"

namespace actsearch::cost {
namespace {

Expr P(const char* s) {
    auto r = parse(s);
    EXPECT_TRUE(r.ok()) << s;
    return r.expr();
}

TEST(CostModel, ReluIsOneAndOrderingHoldsInTheBuiltInTable) {
    const CostTable& t = default_table();
    EXPECT_NEAR(expr_cost(P("relu(x)"), t), 1.0, 1e-3);
    EXPECT_LT(expr_cost(P("relu(x)"), t), expr_cost(P("hard_swish(x)"), t));
    EXPECT_LT(expr_cost(P("hard_swish(x)"), t), expr_cost(P("x*sigmoid(x)"), t));
    EXPECT_LT(expr_cost(P("x*sigmoid(x)"), t), expr_cost(P("x*tanh(softplus(x))"), t));
    EXPECT_NEAR(expr_cost(P("relu(x)"), t, true), 1.0, 1e-3);
}

TEST(CostModel, SumOverOperations) {
    const CostTable& t = default_table();
    const double a = expr_cost(P("sigmoid(x)"), t), b = expr_cost(P("sin(x)"), t);
    const double both = expr_cost(P("sigmoid(x) + sin(x)"), t);
    EXPECT_NEAR(both, a + b - t.forward.pass + t.forward.ops.at("add"), 1e-9);
    // Leaves are free; one pass is paid once.
    EXPECT_NEAR(expr_cost(P("x"), t), t.forward.pass, 1e-12);
    // In training integer powers are multiplications: x^3 costs more than x^2 and less than a
    // non-integer power. The exported code calls std::pow, which only x^2 escapes (as a multiplication).
    const Node p3{Op::Pow, 1, 0, 2, 3.0}, p2{Op::Pow, 1, 0, 2, 2.0}, pf{Op::Pow, 1, 0, 2, 2.5};
    EXPECT_LT(op_cost(t.backward, p2, true), op_cost(t.backward, p3, true));
    EXPECT_LT(op_cost(t.backward, p3, true), op_cost(t.backward, pf, true));
    EXPECT_DOUBLE_EQ(op_cost(t.forward, p2), t.forward.ops.at("square"));
    EXPECT_DOUBLE_EQ(op_cost(t.forward, p3), t.forward.ops.at("pow"));
    EXPECT_DOUBLE_EQ(op_cost(t.forward, pf), t.forward.ops.at("pow"));
    EXPECT_LT(t.forward.ops.at("square"), t.forward.ops.at("pow"));
    // At inference what does not read x is computed once per channel: free. Training charges it.
    const double mul = t.forward.ops.at("mul");
    EXPECT_NEAR(expr_cost(P("beta*beta2*x"), t), t.forward.pass + mul, 1e-12);
    EXPECT_NEAR(expr_cost(P("(1 - beta)*x + beta*sin(x)"), t), expr_cost(P("beta*x + beta*sin(x)"), t), 1e-12);
    EXPECT_GT(expr_cost(P("beta*beta2*x"), t, true), expr_cost(P("beta*x"), t, true));
}

TEST(CostModel, UnknownPrimitiveCostsTheMedian) {
    Direction d{0.5, {{"relu", 0.5}, {"exp", 3.0}, {"sin", 5.0}}};
    EXPECT_DOUBLE_EQ(op_cost(d, Node{Op::Tanh, 1}), 3.0);
    EXPECT_DOUBLE_EQ(op_cost(d, Node{Op::Exp, 1}), 3.0);
    EXPECT_DOUBLE_EQ(op_cost(d, Node{Op::X, 0}), 0.0);
}

// A small calibration on whatever machine runs the tests: relu is 1 by construction and the ordering
// of cheap, hard and exp-based functions holds (exp costs several times a max).
TEST(CostModel, CalibrationOnThisMachine) {
    CalibrationOptions o;
    o.elements = 1 << 14;
    o.rounds = 3;
    o.min_seconds = 5e-4;
    int calls = 0;
    const CostTable t = calibrate(o, [&](int done, int total) {
        ++calls;
        EXPECT_LE(done, total);
    });
    EXPECT_EQ(calls, 3);
    EXPECT_FALSE(t.cpu.empty());
    EXPECT_NEAR(expr_cost(P("relu(x)"), t), 1.0, 1e-9);
    EXPECT_LT(expr_cost(P("relu(x)"), t), expr_cost(P("hard_swish(x)"), t));
    EXPECT_LT(expr_cost(P("hard_swish(x)"), t), expr_cost(P("x*sigmoid(x)"), t));
    EXPECT_LT(expr_cost(P("relu(x)"), t, true), expr_cost(P("x*sigmoid(x)"), t, true));
    for (const auto& [name, c] : t.forward.ops) EXPECT_GE(c, 0.0) << name;
    EXPECT_TRUE(t.forward.ops.count("sigmoid") && t.backward.ops.count("max"));
}

// The check: a twin of swish within 0.1 max error on [-6, 6] at <= 2x relu's cost. The
// substitution twin (hard-swish) is cheap but 0.14 away; the relu-form fits within 0.1 need 5 knots
// (5 relus, ~3x relu); the hard_tanh form reaches it with fewer, cheaper terms.
TEST(Harden, SwishHasATwinWithinATenthAtTwiceRelusCost) {
    const Expr swish = P("x*sigmoid(x)");
    const auto twins = harden(swish);
    ASSERT_GE(twins.size(), 3u);
    const double relu = expr_cost(P("relu(x)"));
    EXPECT_NE(twins[0].method.find("sigmoid -> hard_sigmoid"), std::string::npos);
    EXPECT_NEAR(twins[0].max_error, 0.143, 0.01);   // x*hard_sigmoid(x) is 0.14 from swish at x = 3
    EXPECT_LE(twins[0].cost, 2.0 * relu);
    EXPECT_LT(twins[0].cost, expr_cost(swish));
    const Twin* relu5 = nullptr;
    for (const Twin& t : twins)
        if (t.method == "piecewise-linear, 5 knots") relu5 = &t;
    ASSERT_NE(relu5, nullptr);
    EXPECT_LE(relu5->max_error, 0.1) << relu5->text;
    EXPECT_LE(relu5->weighted_error, 0.02) << relu5->text;
    const Twin* cheapest = nullptr;   // of the twins within 0.1
    for (const Twin& t : twins)
        if (t.max_error <= 0.1 && (!cheapest || t.cost < cheapest->cost)) cheapest = &t;
    ASSERT_NE(cheapest, nullptr);
    EXPECT_LE(cheapest->cost, 2.0 * relu) << cheapest->text;
    EXPECT_NE(cheapest->method.find("hard_tanh"), std::string::npos) << cheapest->text;
}

// The hard_tanh form: 2K knots from K terms; more terms fit at least as well; each term is a hard_tanh.
TEST(Harden, ClampFitsAreHardTanhSums) {
    const Expr tanh = P("tanh(x)");
    const Expr one = fit_clamps(tanh, 1), three = fit_clamps(tanh, 3);
    EXPECT_EQ(to_infix(one).find("relu"), std::string::npos) << to_infix(one);
    std::size_t terms = 0;
    for (const Node& n : three.nodes) terms += n.op == Op::HardTanh;
    EXPECT_GE(terms, 2u) << to_infix(three);
    EXPECT_LE(terms, 3u) << to_infix(three);
    // tanh is odd: its best 2-knot fit is symmetric, i.e. one clamp, so both families find the same error.
    const auto [one_max, one_weighted] = twin_errors(tanh, one);
    const auto relu2 = twin_errors(tanh, fit_piecewise_linear(tanh, 2));
    EXPECT_NEAR(one_weighted, relu2.second, 2e-3) << to_infix(one);
    EXPECT_NEAR(one_max, relu2.first, 0.02) << to_infix(one);
    // Three terms (6 knots) fit far better, still at less than twice relu's cost.
    EXPECT_LT(twin_errors(tanh, three).second, 0.5 * one_weighted) << to_infix(three);
    EXPECT_LT(twin_errors(tanh, three).first, 0.1) << to_infix(three);
    EXPECT_LT(expr_cost(three), 2.0 * expr_cost(P("relu(x)"))) << to_infix(three);
}

TEST(Harden, MishGetsHardMish) {
    const auto twins = harden(P("mish(x)"), HardenOptions{{3}, true, {}});
    ASSERT_GE(twins.size(), 2u);
    EXPECT_NE(twins[0].method.find("hard-mish"), std::string::npos);
    // hard-mish = x*clamp(x + 2, 0, 2)/2: 0 below -2, x above 0; its distance to mish is 0.25 (mish(-2) = -0.25).
    const Expr hm = P("x*min(max(x + 2, 0), 2)/2");
    EXPECT_LT(twin_errors(twins[0].expr, hm).first, 1e-6);
    EXPECT_NEAR(twins[0].max_error, 0.2525, 0.01);
    EXPECT_LT(twins[0].cost, expr_cost(P("mish(x)")));
}

TEST(Harden, FitsImproveWithKnotsAndHandleBetas) {
    const auto twins = harden(P("tanh(x)"), HardenOptions{{2, 4}, false, {}});
    ASSERT_EQ(twins.size(), 2u);
    EXPECT_LE(twins[1].weighted_error, twins[0].weighted_error + 1e-3);
    EXPECT_LT(twins[1].weighted_error, 0.05);   // tanh itself is up to 1 from 0
    EXPECT_LT(twins[1].max_error, 0.3);
    // The substitution keeps betas; the fits are of the beta = 1 shape.
    const Expr s = substitute_cheap(P("x*sigmoid(beta*x)"));
    EXPECT_EQ(s.beta_count(), 1);
    EXPECT_TRUE(substitute_cheap(P("relu(x) + x")).empty());
}

// Twins are fitted to and measured against the function training starts from: beta(0.25) at 0.25.
TEST(Harden, TwinsUseTheBetasInitialValues) {
    const auto twins = harden(P("x*sigmoid(beta(0.25)*x)"), HardenOptions{{5}, true, {}});
    ASSERT_EQ(twins.size(), 2u);
    // The substitution keeps beta(0.25); its error, on the same grid in double precision:
    EXPECT_NE(twins[0].text.find("0.25"), std::string::npos) << twins[0].text;
    double expected = 0;
    for (int i = 0; i <= 2400; ++i) {
        const double x = -6 + 12.0 * i / 2400, z = 0.25 * x;
        const double hard = std::clamp(z + 3, 0.0, 6.0) / 6;
        expected = std::max(expected, std::abs(x / (1 + std::exp(-z)) - x * hard));
    }
    EXPECT_NEAR(twins[0].max_error, expected, 1e-4);
    EXPECT_GT(std::abs(twins[0].max_error - 0.143), 0.01);   // not the error at beta = 1
    // The fit is of x*sigmoid(0.25x) (2.92 at x = 4), not of x*sigmoid(x) (3.93).
    ASSERT_EQ(twins[1].expr.beta_count(), 0);
    const Program fit(twins[1].expr);
    const float x4 = 4, none = 0;
    float y4 = 0;
    fit.eval(&x4, &y4, 1, &none);
    EXPECT_NEAR(y4, 4 / (1 + std::exp(-1.0)), 0.1);
    EXPECT_LT(twins[1].max_error, 0.1) << twins[1].text;
}

// Every twin parses back to itself, and its exported C++ (compiled) matches the evaluator.
TEST(Harden, TwinsParseBackAndExportMatchesTheEvaluator) {
    std::vector<ExportItem> items;
    for (const char* origin : {"x*sigmoid(beta*x)", "mish(x)", "gelu(x)", "softplus(x) - exp(-x*x)"})
        for (const Twin& t : harden(P(origin), HardenOptions{{3}, true, {2}})) {
            auto r = parse(t.text);
            ASSERT_TRUE(r.ok()) << t.text;
            EXPECT_EQ(canonicalize(r.expr()), t.expr) << t.text;
            items.push_back({fmt::format("twin{}", items.size()), t.expr, t.method});
        }
    ASSERT_GE(items.size(), 11u);   // 4 origins x (3 knots, 2 hard_tanh), and 3 substitutions
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / fmt::format("actsearch-harden-{}", ::getpid());
    fs::create_directories(dir);
    std::ofstream(dir / "twins.hpp") << export_cpp(items);
    std::ostringstream driver;
    driver << "#include <cstdio>\n#include \"twins.hpp\"\nint main() {\n";
    for (std::size_t i = 0; i < items.size(); ++i)
        driver << fmt::format("  for (int k = 0; k <= 240; ++k) {{ float x = -6.0f + 0.05f * k; "
                              "std::printf(\"%.9g\\n\", (double)actsearch_export::{}(x{})); }}\n",
                              items[i].name, std::string(", 1.0f").substr(0, items[i].expr.beta_count() ? 6 : 0));
    driver << "}\n";
    std::ofstream(dir / "driver.cpp") << driver.str();
    const std::string cmd = fmt::format("'{}' -std=c++17 -O1 -Wall -Wextra -Werror -I '{}' '{}' -o '{}' 2> '{}'",
                                        ACTSEARCH_CXX, dir.string(), (dir / "driver.cpp").string(),
                                        (dir / "driver").string(), (dir / "log").string());
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "see " << (dir / "log");
    ASSERT_EQ(std::system(fmt::format("'{}' > '{}'", (dir / "driver").string(), (dir / "out").string()).c_str()), 0);
    std::ifstream in(dir / "out");
    for (const ExportItem& item : items) {
        const Program p(item.expr);
        for (int k = 0; k <= 240; ++k) {
            const float x = -6.0f + 0.05f * float(k);
            float y = 0;
            const float beta = 1.0f;
            p.eval(&x, &y, 1, &beta);
            double got = 0;
            ASSERT_TRUE(in >> got);
            // Fits have large terms that cancel (e.g. 111*x^2 - 663): float rounding of the two orders.
            EXPECT_NEAR(got, y, 2e-4 * (1 + std::abs(y))) << item.name << " " << to_infix(item.expr) << " at " << x;
        }
    }
    fs::remove_all(dir);
}

}  // namespace
}  // namespace actsearch::cost

namespace actsearch::cost {
namespace {

bool dominated_brute(const std::vector<ScoreCost>& p, std::size_t i) {
    for (std::size_t j = 0; j < p.size(); ++j)
        if (j != i && p[j].score >= p[i].score && p[j].cost <= p[i].cost &&
            (p[j].score > p[i].score || p[j].cost < p[i].cost))
            return true;
    return false;
}

TEST(Pareto, MatchesBruteForceOnRandomPoints) {
    std::mt19937 rng(7);
    for (int trial = 0; trial < 200; ++trial) {
        std::vector<ScoreCost> p(std::size_t(1 + rng() % 40));
        // Coarse values so that ties in score, cost and whole points occur.
        for (auto& q : p) q = {double(rng() % 10) / 10.0, double(1 + rng() % 8)};
        if (trial % 10 == 0) p[0].score = std::nan("");
        const auto front = pareto_front(p);
        std::vector<std::size_t> expected;
        for (std::size_t i = 0; i < p.size(); ++i)
            if (std::isfinite(p[i].score) && !dominated_brute(p, i)) expected.push_back(i);
        std::vector<std::size_t> got = front;
        std::sort(got.begin(), got.end());
        ASSERT_EQ(got, expected) << "trial " << trial;
        for (std::size_t k = 1; k < front.size(); ++k) EXPECT_LE(p[front[k - 1]].cost, p[front[k]].cost);
    }
    EXPECT_TRUE(pareto_front({}).empty());
}

}  // namespace
}  // namespace actsearch::cost
