// Reference semantics of every primitive in double precision (grammar/NUMERICS.md is the prose form).
// Used by constant folding, the fingerprint, and as the oracle of the evaluator and exporter tests.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "actsearch/grammar/ops.hpp"
#include "eval_scalar.hpp"

namespace actsearch {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// The documented constants in double; the float evaluator uses their nearest floats (kLogAbsEps,
// kLeakySlope in ops.hpp).
constexpr double kLogAbsEpsD = 1e-6;
constexpr double kLeakySlopeD = 0.01;

double sigmoid(double a) noexcept {
    // Two branches so exp never overflows: the result is exact to rounding on both tails.
    if (a >= 0.0) return 1.0 / (1.0 + std::exp(-a));
    const double e = std::exp(a);
    return e / (1.0 + e);
}

double softplus(double a) noexcept { return std::log1p(std::exp(-std::abs(a))) + std::max(a, 0.0); }

double sinc(double a) noexcept {
    // sin(a)/a loses nothing to cancellation, but 0/0 must be 1; the series covers tiny |a| exactly.
    if (std::abs(a) < 1e-4) return 1.0 - a * a / 6.0;
    return std::sin(a) / a;
}

double sign_or_zero(double a) noexcept { return a > 0.0 ? 1.0 : (a < 0.0 ? -1.0 : (a == 0.0 ? 0.0 : a)); }

}  // namespace

double apply_scalar(Op op, double a, double b) noexcept {
    switch (op) {
        case Op::X:
        case Op::Const:
        case Op::Beta: return a;
        case Op::Neg: return -a;
        case Op::Abs: return std::abs(a);
        case Op::Square: return a * a;
        case Op::Cube: return a * a * a;
        case Op::Sqrt: return std::sqrt(a);  // NaN for a < 0
        case Op::LogAbs: return std::log(std::abs(a) + kLogAbsEpsD);
        case Op::Exp: return std::exp(a);
        case Op::Sin: return std::sin(a);
        case Op::Cos: return std::cos(a);
        case Op::Sinh: return std::sinh(a);
        case Op::Cosh: return std::cosh(a);
        case Op::Tanh: return std::tanh(a);
        case Op::Asinh: return std::asinh(a);
        case Op::Atan: return std::atan(a);
        case Op::Sinc: return sinc(a);
        case Op::Relu: return a > 0.0 ? a : (a == a ? 0.0 : a);
        case Op::MinZero: return a < 0.0 ? a : (a == a ? 0.0 : a);
        case Op::Sigmoid: return sigmoid(a);
        case Op::Softplus: return softplus(a);
        case Op::Gaussian: return std::exp(-a * a);
        case Op::Erf: return std::erf(a);
        case Op::Erfc: return std::erfc(a);
        case Op::Relu6: return a != a ? a : std::clamp(a, 0.0, 6.0);
        case Op::HardSigmoid: return a != a ? a : std::clamp(a + 3.0, 0.0, 6.0) / 6.0;
        case Op::HardSwish: return a != a ? a : a * std::clamp(a + 3.0, 0.0, 6.0) / 6.0;
        case Op::KerasHardSigmoid: return a != a ? a : std::clamp(0.2 * a + 0.5, 0.0, 1.0);
        case Op::LeakyRelu: return a > 0.0 ? a : kLeakySlopeD * a;
        case Op::Elu: return a > 0.0 ? a : std::expm1(a);
        case Op::Selu: return kSeluScale * (a > 0.0 ? a : kSeluAlpha * std::expm1(a));
        case Op::Gelu: return 0.5 * a * std::erfc(-a * std::numbers::sqrt2 / 2.0);
        case Op::Swish: return a * sigmoid(a);
        case Op::Mish: return a * std::tanh(softplus(a));
        case Op::Softsign: return a / (1.0 + std::abs(a));
        case Op::LogSigmoid: return std::min(a, 0.0) - std::log1p(std::exp(-std::abs(a)));
        case Op::Expm1: return std::expm1(a);
        case Op::Reciprocal: return 1.0 / a;
        case Op::Log: return std::log(a);  // NaN for a < 0, -inf at 0
        case Op::Pow: return std::pow(a, b);  // integer b: exact and sign-preserving; else NaN for a < 0
        case Op::Add: return a + b;
        case Op::Sub: return a - b;
        case Op::Mul: return a * b;
        case Op::Div: return a / b;  // IEEE: x/0 = ±inf, 0/0 = NaN
        case Op::Max: return (a >= b || a != a) ? a : b;  // NaN in either operand propagates
        case Op::Min: return (a <= b || a != a) ? a : b;
        case Op::Count_: break;
    }
    return kNaN;
}

namespace detail {

ScalarPartials scalar_partials(Op op, double a, double b) noexcept {
    using std::numbers::pi;
    switch (op) {
        case Op::X:
        case Op::Const:
        case Op::Beta: return {1.0, 0.0};
        case Op::Neg: return {-1.0, 0.0};
        case Op::Abs: return {sign_or_zero(a), 0.0};
        case Op::Square: return {2.0 * a, 0.0};
        case Op::Cube: return {3.0 * a * a, 0.0};
        case Op::Sqrt: return {0.5 / std::sqrt(a), 0.0};
        case Op::LogAbs: return {sign_or_zero(a) / (std::abs(a) + kLogAbsEpsD), 0.0};
        case Op::Exp: return {std::exp(a), 0.0};
        case Op::Sin: return {std::cos(a), 0.0};
        case Op::Cos: return {-std::sin(a), 0.0};
        case Op::Sinh: return {std::cosh(a), 0.0};
        case Op::Cosh: return {std::sinh(a), 0.0};
        case Op::Tanh: {
            const double t = std::tanh(a);
            return {1.0 - t * t, 0.0};
        }
        case Op::Asinh: return {1.0 / std::sqrt(1.0 + a * a), 0.0};
        case Op::Atan: return {1.0 / (1.0 + a * a), 0.0};
        case Op::Sinc:
            if (std::abs(a) < 1e-4) return {-a / 3.0, 0.0};
            return {(a * std::cos(a) - std::sin(a)) / (a * a), 0.0};
        case Op::Relu: return {a > 0.0 ? 1.0 : 0.0, 0.0};
        case Op::MinZero: return {a < 0.0 ? 1.0 : 0.0, 0.0};
        case Op::Sigmoid: {
            const double s = sigmoid(a);
            return {s * (1.0 - s), 0.0};
        }
        case Op::Softplus: return {sigmoid(a), 0.0};
        case Op::Gaussian: return {-2.0 * a * std::exp(-a * a), 0.0};
        case Op::Erf: return {2.0 / std::sqrt(pi) * std::exp(-a * a), 0.0};
        case Op::Erfc: return {-2.0 / std::sqrt(pi) * std::exp(-a * a), 0.0};
        case Op::Relu6: return {(a > 0.0 && a < 6.0) ? 1.0 : 0.0, 0.0};
        case Op::HardSigmoid: return {(a > -3.0 && a < 3.0) ? 1.0 / 6.0 : 0.0, 0.0};
        case Op::HardSwish:  // current PyTorch: 0 for a <= -3, (2a+3)/6 on (-3, 3), 1 for a >= 3
            if (a <= -3.0) return {0.0, 0.0};
            if (a < 3.0) return {(2.0 * a + 3.0) / 6.0, 0.0};
            return {1.0, 0.0};
        case Op::KerasHardSigmoid: return {(a > -2.5 && a < 2.5) ? 0.2 : 0.0, 0.0};
        case Op::LeakyRelu: return {a > 0.0 ? 1.0 : kLeakySlopeD, 0.0};
        case Op::Elu: return {a > 0.0 ? 1.0 : std::exp(a), 0.0};
        case Op::Selu: return {kSeluScale * (a > 0.0 ? 1.0 : kSeluAlpha * std::exp(a)), 0.0};
        case Op::Gelu: {
            const double cdf = 0.5 * std::erfc(-a * std::numbers::sqrt2 / 2.0);
            const double pdf = std::exp(-0.5 * a * a) / std::sqrt(2.0 * pi);
            return {cdf + a * pdf, 0.0};
        }
        case Op::Swish: {
            const double s = sigmoid(a);
            return {s + a * s * (1.0 - s), 0.0};
        }
        case Op::Mish: {
            const double t = std::tanh(softplus(a));
            return {t + a * (1.0 - t * t) * sigmoid(a), 0.0};
        }
        case Op::Softsign: {
            const double d = 1.0 + std::abs(a);
            return {1.0 / (d * d), 0.0};
        }
        case Op::LogSigmoid: return {sigmoid(-a), 0.0};
        case Op::Expm1: return {std::exp(a), 0.0};
        case Op::Reciprocal: return {-1.0 / (a * a), 0.0};
        case Op::Log: return {1.0 / a, 0.0};
        case Op::Pow:
            if (b == 0.0) return {0.0, 0.0};
            return {b * std::pow(a, b - 1.0), 0.0};
        case Op::Add: return {1.0, 1.0};
        case Op::Sub: return {1.0, -1.0};
        case Op::Mul: return {b, a};
        case Op::Div: return {1.0 / b, -a / (b * b)};
        case Op::Max: return (a >= b) ? ScalarPartials{1.0, 0.0} : ScalarPartials{0.0, 1.0};
        case Op::Min: return (a <= b) ? ScalarPartials{1.0, 0.0} : ScalarPartials{0.0, 1.0};
        case Op::Count_: break;
    }
    return {kNaN, kNaN};
}

}  // namespace detail
}  // namespace actsearch
