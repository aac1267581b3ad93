// The compiled evaluator against the double-precision reference (apply_scalar) and against central
// finite differences of that reference: values and gradients of every primitive, per-channel betas in
// every layout, block boundaries, NaN/inf propagation.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "actsearch/grammar/expr.hpp"
#include "actsearch/grammar/ops.hpp"
#include "actsearch/grammar/program.hpp"

namespace actsearch {
namespace {

// Reference: the postfix expression evaluated in double with apply_scalar.
double reference_value(const Expr& e, double x, const std::vector<double>& beta) {
    std::vector<double> stack;
    for (const Node& n : e.nodes) {
        switch (n.arity) {
            case 0:
                stack.push_back(n.op == Op::X ? x : n.op == Op::Beta ? beta.at(n.index) : n.value);
                break;
            case 1: stack.back() = apply_scalar(n.op, stack.back(), n.value); break;
            default: {
                const double b = stack.back();
                stack.pop_back();
                stack.back() = apply_scalar(n.op, stack.back(), b);
            }
        }
    }
    return stack.back();
}

// Central difference in double; the step scales with |x| so that 1/x-like singularities near 0 stay
// resolved (truncation and rounding errors both below 1e-8 relative).
double central_difference(const std::function<double(double)>& f, double at) {
    const double h = 1e-5 * std::max(1e-2, std::abs(at));
    return (f(at + h) - f(at - h)) / (2.0 * h);
}

bool close(double actual, double expected, double rtol, double atol) {
    if (std::isnan(expected)) return std::isnan(actual);
    if (std::isinf(expected)) return actual == expected;
    return std::abs(actual - expected) <= rtol * std::abs(expected) + atol;
}

// x on [-8, 8] in steps that avoid landing exactly on kinks, plus the kinks themselves.
std::vector<float> value_grid() {
    std::vector<float> xs;
    for (int i = 0; i <= 1600; ++i) xs.push_back(-8.0f + 0.01f * static_cast<float>(i) + 0.0013f);
    for (float special : {0.0f, -0.0f, 1.0f, -1.0f, 3.0f, -3.0f, 6.0f, 2.5f, -2.5f, 1e-5f, -1e-5f, 1e-30f, 20.0f,
                          -20.0f, 50.0f, -50.0f})
        xs.push_back(special);
    return xs;
}

bool near_kink(double x) {
    for (double kink : {0.0, 3.0, -3.0, 6.0, 2.5, -2.5, 1.0, -1.0})
        if (std::abs(x - kink) < 1e-3) return true;
    return false;
}

std::vector<Op> unary_ops() {
    std::vector<Op> ops;
    for (const OpInfo& info : all_ops())
        if (info.arity == 1) ops.push_back(info.op);
    return ops;
}
std::vector<Op> binary_ops() {
    std::vector<Op> ops;
    for (const OpInfo& info : all_ops())
        if (info.arity == 2) ops.push_back(info.op);
    return ops;
}

// The exponents the Pow rows use; integer ones go through repeated squaring, others through powf.
constexpr double kPowExponents[] = {0.0, 1.0, 2.0, 3.0, -1.0, -2.0, 0.5, 1.5, 7.0};

struct UnaryCase {
    Op op;
    double exponent;  // Pow only
    std::string name() const {
        return op == Op::Pow ? fmt::format("pow({})", exponent) : std::string(op_info(op).name);
    }
};

std::vector<UnaryCase> unary_cases() {
    std::vector<UnaryCase> cases;
    for (Op op : unary_ops()) {
        if (op == Op::Pow)
            for (double p : kPowExponents) cases.push_back({op, p});
        else
            cases.push_back({op, 0.0});
    }
    return cases;
}

TEST(ProgramForward, EveryUnaryOpMatchesScalarReference) {
    const std::vector<float> xs = value_grid();
    std::vector<float> ys(xs.size());
    for (const UnaryCase& c : unary_cases()) {
        const Program program(make_unary(c.op, make_leaf_x(), c.exponent));
        program.eval(xs.data(), ys.data(), xs.size());
        int failures = 0;
        for (std::size_t i = 0; i < xs.size() && failures < 5; ++i) {
            const double expected = apply_scalar(c.op, xs[i], c.exponent);
            // Float results of values beyond FLT_MAX are inf.
            const double expected_f = std::abs(expected) > std::numeric_limits<float>::max()
                                           ? std::copysign(std::numeric_limits<double>::infinity(), expected)
                                           : expected;
            if (!close(ys[i], expected_f, 1e-5, 1e-6)) {
                ++failures;
                ADD_FAILURE() << c.name() << "(" << xs[i] << ") = " << ys[i] << ", reference " << expected;
            }
        }
    }
}

TEST(ProgramForward, EveryBinaryOpMatchesScalarReference) {
    // One element per channel: element c sees its own beta, so both operands sweep a grid.
    const std::vector<float> grid = {-5.5f, -3.0f, -1.0f, -0.25f, 0.0f, 0.5f, 1.0f, 2.0f, 7.25f};
    std::vector<float> xs, bs;
    for (float a : grid)
        for (float b : grid) {
            xs.push_back(a);
            bs.push_back(b);
        }
    const ActShape shape{.outer = 1, .channels = xs.size(), .inner = 1};
    std::vector<float> ys(xs.size());
    for (Op op : binary_ops()) {
        const Program program(make_binary(op, make_leaf_x(), make_beta()));
        ASSERT_EQ(program.beta_count(), 1);
        program.forward(xs.data(), ys.data(), bs.data(), shape);
        for (std::size_t i = 0; i < xs.size(); ++i)
            EXPECT_TRUE(close(ys[i], apply_scalar(op, xs[i], bs[i]), 1e-6, 0.0))
                << op_info(op).name << "(" << xs[i] << ", " << bs[i] << ") = " << ys[i];
    }
}

TEST(ProgramBackward, EveryUnaryOpMatchesFiniteDifferences) {
    std::vector<float> xs;
    for (float x : value_grid())
        if (!near_kink(x) && std::abs(x) <= 8.0f) xs.push_back(x);
    std::vector<float> dy(xs.size()), dx(xs.size());
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> upstream(-2.0f, 2.0f);
    for (float& v : dy) v = upstream(rng);
    const ActShape shape{.outer = 1, .channels = 1, .inner = xs.size()};
    for (const UnaryCase& c : unary_cases()) {
        const Program program(make_unary(c.op, make_leaf_x(), c.exponent));
        program.backward(xs.data(), dy.data(), dx.data(), nullptr, nullptr, shape);
        int failures = 0;
        for (std::size_t i = 0; i < xs.size() && failures < 5; ++i) {
            auto f = [&](double v) { return apply_scalar(c.op, v, c.exponent); };
            const double slope = central_difference(f, xs[i]);
            if (!std::isfinite(slope) || !std::isfinite(f(xs[i]))) continue;  // outside the domain
            if (!close(dx[i], dy[i] * slope, 1e-4, 1e-5)) {
                ++failures;
                ADD_FAILURE() << c.name() << "'(" << xs[i] << "): dx " << dx[i] << ", expected " << dy[i] * slope;
            }
        }
    }
}

TEST(ProgramBackward, EveryBinaryOpMatchesFiniteDifferencesInBothOperands) {
    std::vector<float> xs, bs;
    for (float a = -4.1f; a < 4.0f; a += 0.37f)
        for (float b = -3.9f; b < 4.0f; b += 0.41f) {
            if (std::abs(a - b) < 1e-2f || std::abs(b) < 1e-2f) continue;  // max/min ties, x/0
            xs.push_back(a);
            bs.push_back(b);
        }
    const ActShape shape{.outer = 1, .channels = xs.size(), .inner = 1};
    std::vector<float> dy(xs.size(), 1.0f), dx(xs.size()), dbeta(xs.size());
    for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = 0.5f + static_cast<float>(i % 5);
    for (Op op : binary_ops()) {
        const Program program(make_binary(op, make_leaf_x(), make_beta()));
        std::fill(dbeta.begin(), dbeta.end(), 0.0f);
        program.backward(xs.data(), dy.data(), dx.data(), bs.data(), dbeta.data(), shape);
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const double da = central_difference([&](double v) { return apply_scalar(op, v, bs[i]); }, xs[i]);
            const double db = central_difference([&](double v) { return apply_scalar(op, xs[i], v); }, bs[i]);
            EXPECT_TRUE(close(dx[i], dy[i] * da, 1e-4, 1e-5)) << op_info(op).name << " d/da at " << xs[i] << ", " << bs[i];
            EXPECT_TRUE(close(dbeta[i], dy[i] * db, 1e-4, 1e-5)) << op_info(op).name << " d/db at " << xs[i] << ", " << bs[i];
        }
    }
}

// Derivatives at kinks follow PyTorch's conventions (grammar/NUMERICS.md).
TEST(ProgramBackward, KinkConventions) {
    struct Row {
        Op op;
        float x;
        float slope;
    };
    const Row rows[] = {
        {Op::Relu, 0.0f, 0.0f},       {Op::Abs, 0.0f, 0.0f},          {Op::MinZero, 0.0f, 0.0f},
        {Op::Relu6, 0.0f, 0.0f},      {Op::Relu6, 6.0f, 0.0f},        {Op::HardSwish, -3.0f, 0.0f},
        {Op::HardSwish, 3.0f, 1.0f},  {Op::HardSwish, 0.0f, 0.5f},    {Op::HardSigmoid, 3.0f, 0.0f},
        {Op::HardSigmoid, -3.0f, 0.0f}, {Op::LeakyRelu, 0.0f, 0.01f}, {Op::KerasHardSigmoid, 2.5f, 0.0f},
        {Op::Sinc, 0.0f, 0.0f},       {Op::LogAbs, 0.0f, 0.0f},       {Op::Elu, 0.0f, 1.0f},
    };
    for (const Row& row : rows) {
        const Program program(make_unary(row.op, make_leaf_x()));
        const float dy = 1.0f;
        float dx = -123.0f;
        program.backward(&row.x, &dy, &dx, nullptr, nullptr, ActShape{});
        EXPECT_FLOAT_EQ(dx, row.slope) << op_info(row.op).name << "'(" << row.x << ")";
    }
    // max/min ties: the whole gradient goes to the first operand.
    for (Op op : {Op::Max, Op::Min}) {
        const Program program(make_binary(op, make_leaf_x(), make_beta()));
        const float x = 2.0f, beta = 2.0f, dy = 3.0f;
        float dx = 0.0f, dbeta = 0.0f;
        program.backward(&x, &dy, &dx, &beta, &dbeta, ActShape{});
        EXPECT_EQ(dx, 3.0f) << op_info(op).name;
        EXPECT_EQ(dbeta, 0.0f) << op_info(op).name;
    }
}

// A composite with two betas, shared x, and a beta used twice, in dense and conv layouts.
TEST(ProgramBackward, PerChannelBetaGradientsInEveryLayout) {
    // x * sigmoid(beta * x) + beta2 * tanh(x) - 0.25 * beta * beta2
    const Expr swish_part = make_binary(Op::Mul, make_leaf_x(),
                                        make_unary(Op::Sigmoid, make_binary(Op::Mul, make_beta(0), make_leaf_x())));
    const Expr tanh_part = make_binary(Op::Mul, make_beta(1), make_unary(Op::Tanh, make_leaf_x()));
    const Expr coupling = make_binary(Op::Mul, make_const(0.25), make_binary(Op::Mul, make_beta(0), make_beta(1)));
    const Expr e = make_binary(Op::Sub, make_binary(Op::Add, swish_part, tanh_part), coupling);
    const Program program(e);
    ASSERT_EQ(program.beta_count(), 2);

    const ActShape shapes[] = {{.outer = 3, .channels = 5, .inner = 1},   {.outer = 64, .channels = 7, .inner = 1},
                               {.outer = 2, .channels = 3, .inner = 7},   {.outer = 2, .channels = 4, .inner = 300},
                               {.outer = 1, .channels = 300, .inner = 1}, {.outer = 5, .channels = 1, .inner = 131}};
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> uniform(-3.0f, 3.0f);
    for (const ActShape& shape : shapes) {
        const std::size_t n = shape.size();
        std::vector<float> x(n), dy(n), y(n), dx(n), beta(2 * shape.channels), dbeta(2 * shape.channels, 0.5f);
        for (float& v : x) v = uniform(rng);
        for (float& v : dy) v = uniform(rng);
        for (float& v : beta) v = uniform(rng);
        program.forward(x.data(), y.data(), beta.data(), shape);
        program.backward(x.data(), dy.data(), dx.data(), beta.data(), dbeta.data(), shape);

        std::vector<double> expected_dbeta(2 * shape.channels, 0.5);  // backward accumulates into dbeta
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t c = (i / shape.inner) % shape.channels;
            const std::vector<double> b = {beta[c], beta[shape.channels + c]};
            ASSERT_TRUE(close(y[i], reference_value(e, x[i], b), 1e-5, 1e-6)) << "element " << i;
            const double slope = central_difference([&](double v) { return reference_value(e, v, b); }, x[i]);
            ASSERT_TRUE(close(dx[i], dy[i] * slope, 1e-4, 1e-5)) << "dx element " << i;
            for (int k = 0; k < 2; ++k) {
                const double dk = central_difference(
                    [&](double v) {
                        std::vector<double> moved = b;
                        moved[k] = v;
                        return reference_value(e, x[i], moved);
                    },
                    b[k]);
                expected_dbeta[k * shape.channels + c] += dy[i] * dk;
            }
        }
        for (std::size_t j = 0; j < expected_dbeta.size(); ++j)
            EXPECT_TRUE(close(dbeta[j], expected_dbeta[j], 1e-4, 1e-4))
                << "dbeta[" << j << "] = " << dbeta[j] << ", expected " << expected_dbeta[j] << " in shape "
                << shape.outer << "x" << shape.channels << "x" << shape.inner;
    }
}

// The value at one element does not depend on where the block boundaries fall.
TEST(ProgramForward, BlockBoundariesDoNotChangeResults) {
    const Expr e = make_binary(Op::Max, make_leaf_x(),
                               make_binary(Op::Mul, make_unary(Op::Tanh, make_leaf_x()), make_beta()));
    const Program program(e);
    for (std::size_t n : {std::size_t{1}, std::size_t{255}, std::size_t{256}, std::size_t{257}, std::size_t{10000}}) {
        std::vector<float> x(n), y(n, std::nanf("")), dy(n), dx(n), beta(n);
        for (std::size_t i = 0; i < n; ++i) {
            x[i] = std::sin(0.37f * static_cast<float>(i)) * 4.0f;
            beta[i] = 0.5f + static_cast<float>(i % 13) * 0.25f;
            dy[i] = 1.0f + static_cast<float>(i % 3);
        }
        const ActShape shape{.outer = 1, .channels = n, .inner = 1};
        std::vector<float> dbeta(n, 0.0f);
        program.forward(x.data(), y.data(), beta.data(), shape);
        program.backward(x.data(), dy.data(), dx.data(), beta.data(), dbeta.data(), shape);
        for (std::size_t i = 0; i < n; ++i) {
            float y1 = 0.0f, dx1 = 0.0f, dbeta1 = 0.0f;
            program.forward(&x[i], &y1, &beta[i], ActShape{});
            program.backward(&x[i], &dy[i], &dx1, &beta[i], &dbeta1, ActShape{});
            ASSERT_EQ(y[i], y1) << "n=" << n << " i=" << i;
            ASSERT_EQ(dx[i], dx1) << "n=" << n << " i=" << i;
            ASSERT_EQ(dbeta[i], dbeta1) << "n=" << n << " i=" << i;
        }
    }
}

TEST(ProgramForward, NonFiniteValuesPropagate) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    auto eval1 = [](const Expr& e, float x) {
        float y = 0.0f;
        Program(e).eval(&x, &y, 1);
        return y;
    };
    EXPECT_TRUE(std::isnan(eval1(make_unary(Op::Log, make_leaf_x()), -1.0f)));
    EXPECT_EQ(eval1(make_unary(Op::Log, make_leaf_x()), 0.0f), -inf);
    EXPECT_TRUE(std::isnan(eval1(make_unary(Op::Sqrt, make_leaf_x()), -0.5f)));
    EXPECT_EQ(eval1(make_unary(Op::Exp, make_leaf_x()), 100.0f), inf);
    EXPECT_EQ(eval1(make_unary(Op::Exp, make_leaf_x()), 88.0f), static_cast<float>(std::exp(88.0)));
    EXPECT_EQ(eval1(make_unary(Op::Cosh, make_leaf_x()), 100.0f), inf);
    EXPECT_EQ(eval1(make_unary(Op::Reciprocal, make_leaf_x()), 0.0f), inf);
    EXPECT_EQ(eval1(make_binary(Op::Div, make_const(1.0), make_leaf_x()), 0.0f), inf);
    EXPECT_TRUE(std::isnan(eval1(make_unary(Op::Pow, make_leaf_x(), 0.5), -4.0f)));
    EXPECT_EQ(eval1(make_unary(Op::Pow, make_leaf_x(), 3.0), -2.0f), -8.0f);
    for (const UnaryCase& c : unary_cases())
        EXPECT_TRUE(std::isnan(eval1(make_unary(c.op, make_leaf_x(), c.exponent), nan)) || (c.op == Op::Pow && c.exponent == 0.0))
            << c.name() << "(NaN) is not NaN";
    for (Op op : binary_ops()) {
        EXPECT_TRUE(std::isnan(eval1(make_binary(op, make_leaf_x(), make_const(1.0)), nan))) << op_info(op).name;
        EXPECT_TRUE(std::isnan(eval1(make_binary(op, make_const(1.0), make_leaf_x()), nan))) << op_info(op).name;
    }
    // Overflow in the backward pass shows up in dx.
    const Program exp_program(make_unary(Op::Exp, make_leaf_x()));
    const float x = 100.0f, dy = 1.0f;
    float dx = 0.0f;
    exp_program.backward(&x, &dy, &dx, nullptr, nullptr, ActShape{});
    EXPECT_EQ(dx, inf);
}

TEST(ProgramCompile, LeavesAndConstantSubtrees) {
    const std::vector<float> x = {-2.0f, 0.0f, 3.5f};
    const std::vector<float> dy = {1.0f, 2.0f, 3.0f};
    std::vector<float> y(3), dx(3);
    const ActShape shape{.outer = 3, .channels = 1, .inner = 1};

    const Program identity(make_leaf_x());
    identity.forward(x.data(), y.data(), nullptr, shape);
    EXPECT_EQ(y, x);
    identity.backward(x.data(), dy.data(), dx.data(), nullptr, nullptr, shape);
    EXPECT_EQ(dx, dy);

    const Program only_beta(make_beta());
    const float beta = 0.75f;
    float dbeta = 1.0f;
    only_beta.forward(x.data(), y.data(), &beta, shape);
    EXPECT_EQ(y, std::vector<float>(3, 0.75f));
    only_beta.backward(x.data(), dy.data(), dx.data(), &beta, &dbeta, shape);
    EXPECT_EQ(dx, std::vector<float>(3, 0.0f));
    EXPECT_EQ(dbeta, 7.0f);

    // exp(1) * x: the constant subtree is folded, the result is e * x with derivative e.
    const Program scaled(make_binary(Op::Mul, make_unary(Op::Exp, make_const(1.0)), make_leaf_x()));
    scaled.forward(x.data(), y.data(), nullptr, shape);
    scaled.backward(x.data(), dy.data(), dx.data(), nullptr, nullptr, shape);
    for (int i = 0; i < 3; ++i) {
        EXPECT_FLOAT_EQ(y[i], static_cast<float>(std::numbers::e * x[i]));
        EXPECT_FLOAT_EQ(dx[i], static_cast<float>(std::numbers::e * dy[i]));
    }

    // x * x + x: x used three times, its gradient contributions summed.
    const Program repeated(make_binary(Op::Add, make_binary(Op::Mul, make_leaf_x(), make_leaf_x()), make_leaf_x()));
    repeated.backward(x.data(), dy.data(), dx.data(), nullptr, nullptr, shape);
    for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(dx[i], dy[i] * (2.0f * x[i] + 1.0f));
}

TEST(ProgramCompile, RejectsMalformedExpressionsAndMissingBeta) {
    EXPECT_THROW(Program(Expr{}), std::invalid_argument);
    EXPECT_THROW(Program(make_leaf_x(1)), std::invalid_argument);  // x2 is a template argument
    Expr dangling = make_leaf_x();
    dangling.nodes.push_back(Node{.op = Op::Add, .arity = 2});
    EXPECT_THROW(Program{dangling}, std::invalid_argument);
    Expr two_roots = make_leaf_x();
    two_roots.nodes.push_back(make_leaf_x().nodes[0]);
    EXPECT_THROW(Program{two_roots}, std::invalid_argument);
    Expr wrong_arity = make_unary(Op::Exp, make_leaf_x());
    wrong_arity.nodes.back().arity = 2;
    EXPECT_THROW(Program{wrong_arity}, std::invalid_argument);

    const Program needs_beta(make_binary(Op::Mul, make_beta(), make_leaf_x()));
    const float x = 1.0f;
    float y = 0.0f;
    EXPECT_THROW(needs_beta.forward(&x, &y, nullptr, ActShape{}), std::invalid_argument);
}

TEST(ProgramBackward, DeterministicAndThreadSafe) {
    const Expr e = make_binary(Op::Mul, make_leaf_x(),
                               make_unary(Op::Sigmoid, make_binary(Op::Mul, make_beta(), make_leaf_x())));
    const Program program(e);
    const ActShape shape{.outer = 32, .channels = 16, .inner = 9};
    std::vector<float> x(shape.size()), dy(shape.size()), beta(shape.channels);
    for (std::size_t i = 0; i < x.size(); ++i) {
        x[i] = std::cos(0.1f * static_cast<float>(i)) * 5.0f;
        dy[i] = std::sin(0.3f * static_cast<float>(i));
    }
    for (std::size_t c = 0; c < beta.size(); ++c) beta[c] = 0.5f + 0.1f * static_cast<float>(c);
    auto run = [&](std::vector<float>& dx, std::vector<float>& dbeta) {
        dx.assign(x.size(), 0.0f);
        dbeta.assign(beta.size(), 0.0f);
        program.backward(x.data(), dy.data(), dx.data(), beta.data(), dbeta.data(), shape);
    };
    std::vector<float> dx_ref, dbeta_ref;
    run(dx_ref, dbeta_ref);
    std::vector<float> dx[4], dbeta[4];
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (int repeat = 0; repeat < 20; ++repeat) run(dx[t], dbeta[t]);
            });
    }
    for (int t = 0; t < 4; ++t) {
        EXPECT_EQ(dx[t], dx_ref);
        EXPECT_EQ(dbeta[t], dbeta_ref);
    }
}

TEST(ProgramCompile, CopiesAndMovesEvaluateTheSameFunction) {
    Program original(make_unary(Op::Tanh, make_leaf_x()));
    const Program copy = original;
    Program moved = std::move(original);
    Program assigned(make_leaf_x());
    assigned = copy;
    const float x = 0.3f;
    float a = 0.0f, b = 0.0f, c = 0.0f;
    copy.eval(&x, &a, 1);
    moved.eval(&x, &b, 1);
    assigned.eval(&x, &c, 1);
    EXPECT_FLOAT_EQ(a, std::tanh(0.3f));
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, c);
}

}  // namespace
}  // namespace actsearch
