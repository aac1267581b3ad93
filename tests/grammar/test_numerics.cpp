// Every primitive's value and derivative against an independent long-double reference (closed forms
// written here, not the library's formulas, and no finite differences), at many points including the
// neighbourhood of 0 where cancellation bites (sinc'), kinks excluded. Checked for the double-precision
// reference (apply_scalar, scalar_partials: what constant folding and the fingerprint use) and for the
// float block evaluator (Program). The tolerances do not depend on the build type: this test must pass
// in Debug and sanitizer builds as in Release.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "actsearch/grammar/expr.hpp"
#include "actsearch/grammar/ops.hpp"
#include "actsearch/grammar/program.hpp"

namespace actsearch {
namespace {

using LD = long double;

// Maximum relative errors of the float evaluator's vectorised sin, cos, sinh, cosh, asinh, atan and log
// (grammar/NUMERICS.md lists the same numbers).
constexpr double kBoundSin = 1.0e-7;
constexpr double kBoundCos = 1.0e-7;
constexpr double kBoundSinh = 4.0e-7;
constexpr double kBoundCosh = 4.0e-7;
constexpr double kBoundAsinh = 3.0e-7;
constexpr double kBoundAtan = 3.0e-7;
constexpr double kBoundLog = 1.5e-7;

constexpr LD kPi = 3.141592653589793238462643383279502884L;

LD sigmoid(LD x) { return x >= 0 ? 1.0L / (1.0L + std::exp(-x)) : std::exp(x) / (1.0L + std::exp(x)); }
LD softplus(LD x) { return std::log1p(std::exp(-std::fabs(x))) + std::max(x, 0.0L); }

// sinc'(x) = (x cos x - sin x) / x^2; its Taylor series below 0.05 (the closed form loses ~1/x^2 of
// long double's 19 digits to cancellation, still 15 digits at 0.05).
LD sinc_derivative(LD x) {
    if (std::fabs(x) >= 0.05L) return (x * std::cos(x) - std::sin(x)) / (x * x);
    LD sum = 0.0L, term = 1.0L;  // term = x^(2k-2) / (2k+1)! * (-1)^k * 2k, built incrementally
    LD power = 1.0L, factorial = 6.0L;
    for (int k = 1; k <= 10; ++k) {
        term = (k % 2 == 1 ? -1.0L : 1.0L) * 2.0L * k * power / factorial;
        sum += term;
        power *= x * x;
        factorial *= (2.0L * k + 2.0L) * (2.0L * k + 3.0L);
    }
    return x * sum;
}

struct Reference {
    LD value;
    LD slope;
};

// Value and derivative of a unary primitive at x (p: pow's exponent). nullopt: no reference (leaves).
std::optional<Reference> unary_reference(Op op, LD x, LD p) {
    const LD s = sigmoid(x);
    switch (op) {
        case Op::Neg: return Reference{-x, -1.0L};
        case Op::Abs: return Reference{std::fabs(x), x > 0 ? 1.0L : -1.0L};
        case Op::Square: return Reference{x * x, 2.0L * x};
        case Op::Cube: return Reference{x * x * x, 3.0L * x * x};
        case Op::Sqrt: return Reference{std::sqrt(x), 0.5L / std::sqrt(x)};
        case Op::LogAbs: return Reference{std::log(std::fabs(x) + 1e-6L), (x > 0 ? 1.0L : -1.0L) / (std::fabs(x) + 1e-6L)};
        case Op::Exp: return Reference{std::exp(x), std::exp(x)};
        case Op::Sin: return Reference{std::sin(x), std::cos(x)};
        case Op::Cos: return Reference{std::cos(x), -std::sin(x)};
        case Op::Sinh: return Reference{std::sinh(x), std::cosh(x)};
        case Op::Cosh: return Reference{std::cosh(x), std::sinh(x)};
        case Op::Tanh: return Reference{std::tanh(x), 1.0L / (std::cosh(x) * std::cosh(x))};
        case Op::Asinh: return Reference{std::asinh(x), 1.0L / std::sqrt(1.0L + x * x)};
        case Op::Atan: return Reference{std::atan(x), 1.0L / (1.0L + x * x)};
        case Op::Sinc: return Reference{x == 0 ? 1.0L : std::sin(x) / x, sinc_derivative(x)};
        case Op::Relu: return Reference{std::max(x, 0.0L), x > 0 ? 1.0L : 0.0L};
        case Op::MinZero: return Reference{std::min(x, 0.0L), x < 0 ? 1.0L : 0.0L};
        case Op::Sigmoid: return Reference{s, s * (1.0L - s)};
        case Op::Softplus: return Reference{softplus(x), s};
        case Op::Gaussian: return Reference{std::exp(-x * x), -2.0L * x * std::exp(-x * x)};
        case Op::Erf: return Reference{std::erf(x), 2.0L / std::sqrt(kPi) * std::exp(-x * x)};
        case Op::Erfc: return Reference{std::erfc(x), -2.0L / std::sqrt(kPi) * std::exp(-x * x)};
        case Op::Relu6: return Reference{std::clamp(x, 0.0L, 6.0L), (x > 0 && x < 6) ? 1.0L : 0.0L};
        case Op::HardSigmoid: return Reference{std::clamp(x + 3.0L, 0.0L, 6.0L) / 6.0L, (x > -3 && x < 3) ? 1.0L / 6.0L : 0.0L};
        case Op::HardSwish:
            return Reference{x * std::clamp(x + 3.0L, 0.0L, 6.0L) / 6.0L,
                             x <= -3 ? 0.0L : (x < 3 ? (2.0L * x + 3.0L) / 6.0L : 1.0L)};
        case Op::KerasHardSigmoid:
            return Reference{std::clamp(0.2L * x + 0.5L, 0.0L, 1.0L), (x > -2.5L && x < 2.5L) ? 0.2L : 0.0L};
        case Op::LeakyRelu: return Reference{x > 0 ? x : 0.01L * x, x > 0 ? 1.0L : 0.01L};
        case Op::Elu: return Reference{x > 0 ? x : std::expm1(x), x > 0 ? 1.0L : std::exp(x)};
        case Op::Selu: {
            constexpr LD scale = 1.0507009873554804934193349852946L, alpha = 1.6732632423543772848170429916717L;
            return Reference{scale * (x > 0 ? x : alpha * std::expm1(x)), scale * (x > 0 ? 1.0L : alpha * std::exp(x))};
        }
        case Op::Gelu: {
            const LD cdf = 0.5L * std::erfc(-x / std::sqrt(2.0L));
            const LD pdf = std::exp(-0.5L * x * x) / std::sqrt(2.0L * kPi);
            return Reference{x * cdf, cdf + x * pdf};
        }
        case Op::Swish: return Reference{x * s, s * (1.0L + x * (1.0L - s))};
        case Op::Mish: {
            const LD t = std::tanh(softplus(x));
            return Reference{x * t, t + x * (1.0L - t * t) * s};
        }
        case Op::Softsign: return Reference{x / (1.0L + std::fabs(x)), 1.0L / ((1.0L + std::fabs(x)) * (1.0L + std::fabs(x)))};
        case Op::LogSigmoid: return Reference{-softplus(-x), 1.0L - s};
        case Op::Expm1: return Reference{std::expm1(x), std::exp(x)};
        case Op::Reciprocal: return Reference{1.0L / x, -1.0L / (x * x)};
        case Op::Log: return Reference{std::log(x), 1.0L / x};
        case Op::Pow: return Reference{std::pow(x, p), p == 0 ? 0.0L : p * std::pow(x, p - 1.0L)};
        case Op::HardTanh: return Reference{std::clamp(x, -1.0L, 1.0L), (x > -1 && x < 1) ? 1.0L : 0.0L};
        default: return std::nullopt;
    }
}

// Points where a primitive is not differentiable (or its float form is defined by convention).
std::vector<double> kinks(Op op) {
    switch (op) {
        case Op::Abs: case Op::Relu: case Op::MinZero: case Op::LeakyRelu: case Op::Selu: case Op::LogAbs:
            return {0.0};
        case Op::Relu6: return {0.0, 6.0};
        case Op::HardSigmoid: case Op::HardSwish: return {-3.0, 3.0};
        case Op::KerasHardSigmoid: return {-2.5, 2.5};
        case Op::HardTanh: return {-1.0, 1.0};
        default: return {};
    }
}

bool in_domain(Op op, double x, double p) {
    if (op == Op::Sqrt || op == Op::Log) return x > 0.0;
    if (op == Op::Pow && p != std::nearbyint(p)) return x > 0.0;
    if (op == Op::Reciprocal || (op == Op::Pow && p < 0)) return x != 0.0;
    return true;
}

// Dense grid on [-12, 12] plus points near 0 (both signs, down to 1e-8) and around the sinc series
// switch-over (0.5).
std::vector<double> points() {
    std::vector<double> xs;
    for (int i = -3000; i <= 3000; ++i) xs.push_back(0.004 * i + 0.00037);
    for (double m : {1e-8, 3e-7, 1e-6, 1e-5, 9.9e-5, 1e-4, 1.01e-4, 3e-4, 0.0013, 0.004, 0.01, 0.03, 0.1, 0.3,
                     0.4999, 0.5, 0.5001, 1.0, 4.4934, 20.0, 30.0}) {
        xs.push_back(m);
        xs.push_back(-m);
    }
    xs.push_back(0.0);
    return xs;
}

bool near_kink(Op op, double x) {
    for (double k : kinks(op))
        if (std::abs(x - k) < 1e-3) return true;
    return false;
}

// |actual - expected| <= rtol |expected| + atol, with non-finite expectations matched exactly.
bool close(LD actual, LD expected, LD rtol, LD atol) {
    if (std::isnan(expected)) return std::isnan(actual);
    if (std::isinf(expected)) return actual == expected;
    return std::fabs(actual - expected) <= rtol * std::fabs(expected) + atol;
}

struct UnaryCase {
    Op op;
    double p;
    std::string name() const { return op == Op::Pow ? fmt::format("pow({})", p) : std::string(op_info(op).name); }
};

std::vector<UnaryCase> unary_cases() {
    std::vector<UnaryCase> cases;
    for (const OpInfo& info : all_ops()) {
        if (info.arity != 1) continue;
        if (info.op == Op::Pow)
            for (double p : {-2.0, -1.0, 0.0, 0.5, 1.5, 2.0, 3.0, 5.0}) cases.push_back({info.op, p});
        else cases.push_back({info.op, 0.0});
    }
    return cases;
}

// Float-evaluation inputs: overflow of the float result is not what this test is about.
bool float_safe(Op op, double x) {
    const double ax = std::abs(x);
    switch (op) {
        case Op::Exp: case Op::Sinh: case Op::Cosh: case Op::Expm1: case Op::Elu: case Op::Selu: return ax < 80.0;
        default: return true;
    }
}

TEST(Numerics, DoubleReferenceValuesAndDerivativesMatchLongDouble) {
    // The double reference must be accurate to a few ulps of its inputs' scale: 1e-12 relative, and
    // 1e-15 absolute where a derivative crosses zero.
    for (const UnaryCase& c : unary_cases()) {
        int checked = 0;
        for (double x : points()) {
            if (!in_domain(c.op, x, c.p) || near_kink(c.op, x)) continue;
            const auto ref = unary_reference(c.op, x, c.p);
            ASSERT_TRUE(ref) << c.name();
            const double value = apply_scalar(c.op, x, c.p);
            const double slope = scalar_partials(c.op, x, c.p).d_a;
            EXPECT_TRUE(close(value, ref->value, 1e-12L, 1e-15L))
                << c.name() << "(" << x << ") = " << value << ", long double " << static_cast<double>(ref->value);
            EXPECT_TRUE(close(slope, ref->slope, 1e-12L, 1e-15L))
                << c.name() << "'(" << x << ") = " << slope << ", long double " << static_cast<double>(ref->slope);
            ++checked;
        }
        EXPECT_GT(checked, 3000) << c.name();
    }
}

TEST(Numerics, FloatEvaluatorValuesAndDerivativesMatchLongDouble) {
    // The float evaluator's own approximations (grammar/NUMERICS.md) stay within 1e-5 relative, with an
    // absolute floor of 1e-6 for values and derivatives that cross zero (cancellation of O(1) terms).
    for (const UnaryCase& c : unary_cases()) {
        std::vector<float> xs;
        for (double x : points()) {
            const float xf = static_cast<float>(x);
            if (in_domain(c.op, xf, c.p) && !near_kink(c.op, xf) && float_safe(c.op, xf)) xs.push_back(xf);
        }
        const Program program(make_unary(c.op, make_leaf_x(), c.p));
        const std::size_t n = xs.size();
        std::vector<float> y(n), dy(n, 1.0f), dx(n);
        program.eval(xs.data(), y.data(), n);
        program.backward(xs.data(), dy.data(), dx.data(), nullptr, nullptr, ActShape{.outer = 1, .channels = 1, .inner = n});
        int failures = 0;
        for (std::size_t i = 0; i < n && failures < 10; ++i) {
            const auto ref = unary_reference(c.op, xs[i], c.p);
            ASSERT_TRUE(ref);
            const bool ok_value = close(y[i], ref->value, 1e-5L, 1e-6L);
            const bool ok_slope = close(dx[i], ref->slope, 1e-5L, 1e-6L);
            EXPECT_TRUE(ok_value) << c.name() << "(" << xs[i] << ") = " << y[i] << ", long double " << static_cast<double>(ref->value);
            EXPECT_TRUE(ok_slope) << c.name() << "'(" << xs[i] << ") = " << dx[i] << ", long double " << static_cast<double>(ref->slope);
            failures += !ok_value + !ok_slope;
        }
        EXPECT_GT(n, 3000u) << c.name();
    }
}

TEST(Numerics, SincSlopeNearZero) {  // the reported case: -0.000508 instead of -0.000433 at 0.0013
    const Program program(make_unary(Op::Sinc, make_leaf_x()));
    const float x = 0.0013f, dy = 1.0f;
    float dx = 0.0f;
    program.backward(&x, &dy, &dx, nullptr, nullptr, ActShape{});
    const LD expected = sinc_derivative(x);
    EXPECT_NEAR(static_cast<double>(expected), -0.000433333, 1e-9);
    EXPECT_NEAR(dx, static_cast<double>(expected), 1e-9);
    EXPECT_NEAR(scalar_partials(Op::Sinc, 0.0013).d_a, static_cast<double>(sinc_derivative(0.0013L)), 1e-18);
}

TEST(Numerics, BinaryPartialsMatchLongDouble) {
    for (Op op : {Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Max, Op::Min}) {
        for (double a : {-3.7, -0.2, 1e-4, 0.7, 5.5}) {
            for (double b : {-2.1, -1e-3, 0.3, 0.71, 4.0}) {
                const LD A = a, B = b;
                LD value = 0, da = 0, db = 0;
                switch (op) {
                    case Op::Add: value = A + B, da = 1, db = 1; break;
                    case Op::Sub: value = A - B, da = 1, db = -1; break;
                    case Op::Mul: value = A * B, da = B, db = A; break;
                    case Op::Div: value = A / B, da = 1 / B, db = -A / (B * B); break;
                    case Op::Max: value = std::max(A, B), da = A >= B, db = A < B; break;
                    default: value = std::min(A, B), da = A <= B, db = A > B; break;
                }
                const auto partials = scalar_partials(op, a, b);
                EXPECT_TRUE(close(apply_scalar(op, a, b), value, 1e-15L, 0)) << op_info(op).name;
                EXPECT_TRUE(close(partials.d_a, da, 1e-15L, 0)) << op_info(op).name << " d/da at " << a << ", " << b;
                EXPECT_TRUE(close(partials.d_b, db, 1e-15L, 0)) << op_info(op).name << " d/db at " << a << ", " << b;
                // The float evaluator: x as a, beta as b.
                const Program program(make_binary(op, make_leaf_x(), make_beta()));
                const float xf = static_cast<float>(a), bf = static_cast<float>(b), g = 1.0f;
                float dx = 0.0f, dbeta = 0.0f;
                program.backward(&xf, &g, &dx, &bf, &dbeta, ActShape{});
                const LD Bf = bf, Af = xf;
                const LD da_f = op == Op::Div ? 1 / Bf : op == Op::Mul ? Bf : da;
                const LD db_f = op == Op::Div ? -Af / (Bf * Bf) : op == Op::Mul ? Af : db;
                EXPECT_TRUE(close(dx, da_f, 1e-6L, 0)) << op_info(op).name << " float d/da at " << a << ", " << b;
                EXPECT_TRUE(close(dbeta, db_f, 1e-6L, 0)) << op_info(op).name << " float d/db at " << a << ", " << b;
            }
        }
    }
}

}  // namespace
}  // namespace actsearch

namespace actsearch {
namespace {

// ---- Error bounds of the vectorised float approximations (grammar/NUMERICS.md) -----------------------

// Largest relative error of the float evaluator's op over xs against long double (values are compared
// in relative terms: the reductions keep relative accuracy near the zeros of sin and cos too).
struct MaxError {
    double relative = 0.0;
    float at = 0.0f;
};

MaxError max_relative_error(Op op, const std::vector<float>& xs, LD (*reference)(LD)) {
    const Program program(make_unary(op, make_leaf_x()));
    std::vector<float> y(xs.size());
    program.eval(xs.data(), y.data(), xs.size());
    MaxError worst;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const LD ref = reference(xs[i]);
        const LD err = std::fabs(static_cast<LD>(y[i]) - ref) / std::max(std::fabs(ref), static_cast<LD>(std::numeric_limits<float>::min()));
        if (!(err <= worst.relative)) worst = {static_cast<double>(err), xs[i]};  // NaN counts as worst
    }
    return worst;
}

std::vector<float> dense(float lo, float hi, std::size_t count) {
    std::vector<float> xs;
    for (std::size_t i = 0; i <= count; ++i)
        xs.push_back(lo + (hi - lo) * static_cast<float>(static_cast<double>(i) / static_cast<double>(count)));
    return xs;
}

// Both signs, log-spaced from 1e-30 to `hi`, plus a linear grid near 0.
std::vector<float> wide(float hi) {
    std::vector<float> xs = dense(-4.0f, 4.0f, 50000);
    for (double v = 1e-30; v <= hi; v *= 1.001) {
        xs.push_back(static_cast<float>(v));
        xs.push_back(static_cast<float>(-v));
    }
    return xs;
}

// The documented bounds (grammar/NUMERICS.md): measured maximum rounded up.
TEST(Numerics, VectorisedTranscendentalsWithinDocumentedBounds) {
    struct Row {
        Op op;
        std::vector<float> xs;
        LD (*reference)(LD);
        double bound;
    };
    const Row rows[] = {
        {Op::Sin, wide(1e5f), [](LD x) { return std::sin(x); }, kBoundSin},
        {Op::Cos, wide(1e5f), [](LD x) { return std::cos(x); }, kBoundCos},
        {Op::Sinh, wide(89.0f), [](LD x) { return std::sinh(x); }, kBoundSinh},
        {Op::Cosh, wide(89.0f), [](LD x) { return std::cosh(x); }, kBoundCosh},
        {Op::Asinh, wide(3e38f), [](LD x) { return std::asinh(x); }, kBoundAsinh},
        {Op::Atan, wide(3e38f), [](LD x) { return std::atan(x); }, kBoundAtan},
        {Op::Log, dense(1e-3f, 100.0f, 100000), [](LD x) { return std::log(x); }, kBoundLog},
    };
    for (const Row& row : rows) {
        const MaxError e = max_relative_error(row.op, row.xs, row.reference);
        std::printf("%-6s max relative error %.3g at x = %.9g (%zu points, bound %.3g)\n",
                    std::string(op_info(row.op).name).c_str(), e.relative, static_cast<double>(e.at), row.xs.size(), row.bound);
        EXPECT_LE(e.relative, row.bound) << op_info(row.op).name << " at x = " << e.at;
    }
}

}  // namespace
}  // namespace actsearch
