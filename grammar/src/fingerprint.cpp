// Functional fingerprint: the expression's values and derivatives on a fixed probe set, in double
// precision with the reference semantics (apply_scalar and its partials), quantised and hashed.
// Choices (grammar/NUMERICS.md, "Fingerprint"):
//  - values at every probe; derivatives only at "generic" probes, away from the points where primitives
//    have kinks (0, ±2.5, ±3, 6), because a derivative at a kink is a convention: relu(x) and
//    (x + abs(x)) / 2 are the same function but relu'(0) = 0 and the other gives 0.5;
//  - validity: every value and derivative, at every probe, must be finite in float32 (the evaluator's
//    precision), so |v| > FLT_MAX is as invalid as inf or NaN; large finite values are allowed;
//  - two beta settings: every beta at its initial value (1 unless written, beta(0.25)), then at 0.37
//    times it (0.37 for a beta that starts at 0); with every beta at 1 these are the settings 1 and 0.37
//    of the fingerprints stored before initial values existed, so those hashes are unchanged. The
//    per-beta derivative columns are sorted before hashing, so renaming parameters (beta*x + beta2
//    versus beta2*x + beta) does not change the hash;
//  - quantisation keeps 14 significant bits (about 4 decimal digits); |v| < 1e-6 counts as 0.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "actsearch/grammar/fingerprint.hpp"
#include "actsearch/numeric/rng.hpp"
#include "eval_scalar.hpp"

namespace actsearch {
namespace {

// Probe inputs: symmetric and asymmetric points over [-6, 6], including 0 and ±1.
constexpr std::array<double, 56> kProbes = {
    -6.0,  -5.61, -5.2,  -4.83, -4.4,  -4.01, -3.62, -3.3,  -3.0,  -2.77, -2.5,  -2.31, -2.0,  -1.83,
    -1.61, -1.37, -1.13, -1.0,  -0.89, -0.71, -0.53, -0.37, -0.21, -0.11, -0.043, 0.0,  0.029, 0.097,
    0.19,  0.31,  0.47,  0.66,  0.83,  1.0,   1.17,  1.42,  1.73,  2.0,   2.23,  2.5,   2.69,  3.0,
    3.17,  3.58,  3.91,  4.27,  4.66,  5.0,   5.34,  5.79,  6.0,   -0.6,  0.75,  1.29,  -1.49, 4.9};

// The second beta setting, relative to the initial values (the first).
constexpr double kSecondBetaScale = 0.37;

// Every beta's value in setting 0 (the initial values) or 1 (kSecondBetaScale times them; a beta that
// starts at 0 goes to kSecondBetaScale, so that the two settings differ for it too).
std::vector<double> beta_setting(const std::vector<double>& initial, int setting) {
    std::vector<double> values = initial;
    if (setting == 0) return values;
    for (double& v : values) v = v == 0.0 ? kSecondBetaScale : kSecondBetaScale * v;
    return values;
}

// "beta=1" / "beta=0.37" as before initial values existed when every beta starts at 1, else the values.
std::string describe_setting(const std::vector<double>& initial, const std::vector<double>& values, int setting) {
    if (std::all_of(initial.begin(), initial.end(), [](double v) { return v == 1.0; }))
        return fmt::format("beta={}", values.empty() ? 1.0 : values[0]);
    return fmt::format("betas={} ({})", fmt::join(values, ","), setting == 0 ? "initial" : "0.37 x initial");
}

// Derivatives are hashed only where x is not a multiple of 0.5: the primitives' kinks (0, ±2.5, ±3, 6)
// and the kinks users write (max(x, 1), clip at integers) sit on that grid.
bool is_kink_probe(double x) { return std::fmod(x, 0.5) == 0.0; }

constexpr double kZeroBelow = 1e-6;
constexpr int kMantissaBits = 14;

// Quantised representation of v: (exponent, mantissa) packed into one integer, 0 for |v| < 1e-6.
std::int64_t quantise(double v) {
    if (std::abs(v) < kZeroBelow) return 0;
    int exponent = 0;
    const double mantissa = std::frexp(v, &exponent);  // |mantissa| in [0.5, 1)
    auto q = static_cast<std::int64_t>(std::llround(mantissa * (1 << kMantissaBits)));
    if (std::abs(q) == (std::int64_t{1} << kMantissaBits)) {  // rounded up to the next binade
        q /= 2;
        ++exponent;
    }
    return q * 4096 + exponent;
}

// Combines v into h (boost::hash_combine's shape) through SplitMix64's finaliser: a fixed, portable mix
// (std::hash is neither).
std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
    return numeric::mix64(h ^ (v + numeric::kGoldenGamma + (h << 6) + (h >> 2)));
}

bool finite_in_float(double v) {
    return std::isfinite(v) && std::abs(v) <= static_cast<double>(std::numeric_limits<float>::max());
}

// One probe: value, d/dx and d/dbeta_k, by a forward and a reverse sweep over the postfix nodes.
struct ProbeResult {
    double value = 0.0;
    double d_x = 0.0;
    std::vector<double> d_beta;
};

class ScalarTape {
public:
    explicit ScalarTape(const Expr& e) : e_(e), children_(e.size(), {-1, -1}) {
        std::vector<int> stack;
        for (std::size_t i = 0; i < e.size(); ++i) {
            const Node& n = e.nodes[i];
            if (n.arity == 2) {
                children_[i][1] = stack.back();
                stack.pop_back();
            }
            if (n.arity >= 1) {
                children_[i][0] = stack.back();
                stack.pop_back();
            }
            stack.push_back(static_cast<int>(i));
        }
        values_.resize(e.size());
        adjoints_.resize(e.size());
    }

    ProbeResult run(double x, const std::vector<double>& beta, int beta_count) {
        const std::size_t n = e_.size();
        for (std::size_t i = 0; i < n; ++i) {
            const Node& node = e_.nodes[i];
            const auto [a, b] = children_[i];
            switch (node.op) {
                case Op::X: values_[i] = x; break;
                case Op::Beta: values_[i] = beta[node.index]; break;
                case Op::Const: values_[i] = node.value; break;
                default:
                    values_[i] = apply_scalar(node.op, values_[a], b >= 0 ? values_[b] : node.value);
            }
        }
        ProbeResult result{.value = values_.back(), .d_beta = std::vector<double>(beta_count, 0.0)};
        std::fill(adjoints_.begin(), adjoints_.end(), 0.0);
        adjoints_.back() = 1.0;
        for (std::size_t i = n; i-- > 0;) {
            const Node& node = e_.nodes[i];
            const double adjoint = adjoints_[i];
            const auto [a, b] = children_[i];
            switch (node.op) {
                case Op::X: result.d_x += adjoint; break;
                case Op::Beta: result.d_beta[node.index] += adjoint; break;
                case Op::Const: break;
                default: {
                    // No shortcut for a zero adjoint: 0 * inf = NaN here exactly as in the float
                    // evaluator's backward pass, which is what training would see.
                    const detail::ScalarPartials p =
                        detail::scalar_partials(node.op, values_[a], b >= 0 ? values_[b] : node.value);
                    adjoints_[a] += adjoint * p.d_a;
                    if (b >= 0) adjoints_[b] += adjoint * p.d_b;
                }
            }
        }
        return result;
    }

private:
    const Expr& e_;
    std::vector<std::array<int, 2>> children_;
    std::vector<double> values_;
    std::vector<double> adjoints_;
};

const char* first_non_finite(const ProbeResult& r) {
    if (!finite_in_float(r.value)) return "value";
    if (!finite_in_float(r.d_x)) return "derivative";
    for (double d : r.d_beta)
        if (!finite_in_float(d)) return "beta derivative";
    return nullptr;
}

// Checks what Program would reject, so that the fingerprint never throws.
std::string structural_problem(const Expr& e) {
    if (e.empty()) return "empty expression";
    std::size_t depth = 0;
    for (const Node& n : e.nodes) {
        if (static_cast<int>(n.op) >= kOpCount) return "invalid op code";
        if (n.arity != op_info(n.op).arity) return fmt::format("'{}' has the wrong arity", op_info(n.op).name);
        if (depth < n.arity) return fmt::format("'{}' is missing an operand", op_info(n.op).name);
        if (n.op == Op::X && n.index != 0) return fmt::format("argument x{} in a candidate", n.index + 1);
        depth = depth - n.arity + 1;
    }
    if (depth != 1) return "more than one root";
    return {};
}

}  // namespace

Fingerprint fingerprint(const Expr& e) {
    Fingerprint fp;
    if (std::string problem = structural_problem(e); !problem.empty()) {
        fp.reason = "malformed expression: " + problem;
        return fp;
    }
    const int beta_count = e.beta_count();
    const std::vector<double> initial = e.beta_initial_values();
    ScalarTape tape(e);
    std::uint64_t h = mix(0x5eed, static_cast<std::uint64_t>(beta_count));
    // Per-beta derivative columns, hashed after sorting (parameter renaming invariance).
    std::vector<std::vector<std::int64_t>> beta_columns(beta_count);
    for (int setting = 0; setting < 2; ++setting) {
        if (beta_count == 0 && setting > 0) break;  // nothing depends on beta
        const std::vector<double> betas = beta_setting(initial, setting);
        for (double x : kProbes) {
            const ProbeResult r = tape.run(x, betas, beta_count);
            if (const char* what = first_non_finite(r)) {
                fp.reason = beta_count > 0
                                ? fmt::format("non-finite {} at x={} ({})", what, x, describe_setting(initial, betas, setting))
                                : fmt::format("non-finite {} at x={}", what, x);
                return fp;
            }
            h = mix(h, static_cast<std::uint64_t>(quantise(r.value)));
            if (is_kink_probe(x)) continue;
            h = mix(h, static_cast<std::uint64_t>(quantise(r.d_x)));
            for (int k = 0; k < beta_count; ++k) beta_columns[k].push_back(quantise(r.d_beta[k]));
        }
    }
    std::sort(beta_columns.begin(), beta_columns.end());
    for (const auto& column : beta_columns)
        for (std::int64_t q : column) h = mix(h, static_cast<std::uint64_t>(q));
    fp.valid = true;
    fp.hash = h;
    return fp;
}

}  // namespace actsearch
