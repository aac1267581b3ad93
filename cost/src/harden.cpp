#include "actsearch/cost/harden.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <string>

#include <fmt/core.h>

#include "actsearch/grammar/ops.hpp"
#include "actsearch/grammar/print.hpp"
#include "actsearch/grammar/program.hpp"

namespace actsearch::cost {
namespace {

std::vector<double> grid(int n) {
    std::vector<double> xs(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) xs[std::size_t(i)] = kHardenLo + (kHardenHi - kHardenLo) * i / double(n - 1);
    return xs;
}

std::vector<double> values(const Expr& e, const std::vector<double>& xs) {
    const Program p(e);
    // At the values training starts from (beta(0.25) starts at 0.25; a plain beta at 1): the twin is
    // fitted to and measured against the function a network would begin with.
    const std::vector<float>& betas = p.beta_initial_values();
    std::vector<float> xf(xs.begin(), xs.end()), y(xs.size());
    p.eval(xf.data(), y.data(), xf.size(), betas.data());
    return {y.begin(), y.end()};
}

double round4(double v) { return std::stod(fmt::format("{:.4g}", v)); }

// ---- substitution -------------------------------------------------------------------------------

Expr cst(double v) { return make_const(v); }
Expr bin(Op op, Expr a, Expr b) { return make_binary(op, std::move(a), std::move(b)); }
Expr hard_tanh(Expr a) { return bin(Op::Max, bin(Op::Min, std::move(a), cst(1)), cst(-1)); }

// Rebuilds the subtree ending at `root`, substituting cheap forms; records what it replaced.
Expr rebuild(const Expr& e, std::size_t root, std::vector<std::string>& applied) {
    const Node& n = e.nodes[root];
    if (n.arity == 0) return Expr{{n}};
    if (n.arity == 2) {
        const std::size_t right = root - 1;
        const std::size_t left = right - e.nodes[right].length;
        return make_binary(n.op, rebuild(e, left, applied), rebuild(e, right, applied));
    }
    Expr a = rebuild(e, root - 1, applied);
    auto note = [&](const char* what) {
        if (std::find(applied.begin(), applied.end(), what) == applied.end()) applied.emplace_back(what);
    };
    switch (n.op) {
        case Op::Sigmoid: note("sigmoid -> hard_sigmoid"); return make_unary(Op::HardSigmoid, a);
        case Op::Swish: note("swish -> hard_swish"); return make_unary(Op::HardSwish, a);
        case Op::Tanh: note("tanh -> max(min(a, 1), -1)"); return hard_tanh(a);
        case Op::Mish:   // hard-mish: a * clamp(a + 2, 0, 2) / 2
            note("mish -> hard-mish a*min(max(a + 2, 0), 2)/2");
            return bin(Op::Div, bin(Op::Mul, a, bin(Op::Min, bin(Op::Max, bin(Op::Add, a, cst(2)), cst(0)), cst(2))),
                       cst(2));
        case Op::Gelu:   // gelu ~ a*sigmoid(1.702a)
            note("gelu -> a*hard_sigmoid(1.702a)");
            return bin(Op::Mul, a, make_unary(Op::HardSigmoid, bin(Op::Mul, cst(1.702), a)));
        case Op::Exp: case Op::Softplus: case Op::Erf: case Op::Erfc: case Op::Elu: case Op::Selu:
        case Op::Gaussian: case Op::LogSigmoid: case Op::Expm1: {
            // The primitive's own piecewise-linear fit (4 knots on [-6, 6]), applied to its argument.
            const std::string what = fmt::format("{} -> piecewise-linear (4 knots)", op_info(n.op).name);
            note(what.c_str());
            const Expr fit = fit_piecewise_linear(make_unary(n.op, make_leaf_x()), 4);
            return substitute(fit, {a});
        }
        default: return make_unary(n.op, a, n.value);
    }
}

// ---- piecewise-linear fit -----------------------------------------------------------------------

// Nelder-Mead on a non-smooth objective, restarted from its best point.
std::vector<double> nelder_mead(const std::function<double(const std::vector<double>&)>& f, std::vector<double> x0,
                                const std::vector<double>& step, int iterations, int restarts) {
    const std::size_t n = x0.size();
    for (int r = 0; r < restarts; ++r) {
        std::vector<std::vector<double>> s(n + 1, x0);
        for (std::size_t i = 0; i < n; ++i) s[i + 1][i] += step[i] / double(1 + r);
        std::vector<double> fs(n + 1);
        for (std::size_t i = 0; i <= n; ++i) fs[i] = f(s[i]);
        for (int it = 0; it < iterations; ++it) {
            std::vector<std::size_t> o(n + 1);
            std::iota(o.begin(), o.end(), 0);
            std::sort(o.begin(), o.end(), [&](auto a, auto b) { return fs[a] < fs[b]; });
            const std::size_t worst = o[n];
            std::vector<double> c(n, 0.0);
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < n; ++j) c[j] += s[o[i]][j] / double(n);
            auto along = [&](double t) {
                std::vector<double> p(n);
                for (std::size_t j = 0; j < n; ++j) p[j] = c[j] + t * (s[worst][j] - c[j]);
                return p;
            };
            auto xr = along(-1.0);
            const double fr = f(xr);
            if (fr < fs[o[0]]) {
                auto xe = along(-2.0);
                const double fe = f(xe);
                if (fe < fr) s[worst] = xe, fs[worst] = fe;
                else s[worst] = xr, fs[worst] = fr;
            } else if (fr < fs[o[n - 1]]) {
                s[worst] = xr, fs[worst] = fr;
            } else {
                auto xc = along(0.5);
                const double fc = f(xc);
                if (fc < fs[worst]) {
                    s[worst] = xc, fs[worst] = fc;
                } else {
                    for (std::size_t i = 1; i <= n; ++i) {
                        for (std::size_t j = 0; j < n; ++j) s[o[i]][j] = s[o[0]][j] + 0.5 * (s[o[i]][j] - s[o[0]][j]);
                        fs[o[i]] = f(s[o[i]]);
                    }
                }
            }
        }
        x0 = s[std::size_t(std::min_element(fs.begin(), fs.end()) - fs.begin())];
    }
    return x0;
}

}  // namespace

std::pair<double, double> twin_errors(const Expr& origin, const Expr& twin) {
    const std::vector<double> xs = grid(2401);
    const auto f = values(origin, xs), g = values(twin, xs);
    double mx = 0, wt = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const double d = std::abs(f[i] - g[i]);
        const double err = std::isfinite(d) ? d : HUGE_VAL;
        mx = std::max(mx, err);
        wt = std::max(wt, err * std::exp(-0.5 * xs[i] * xs[i]));
    }
    return {mx, wt};
}

Expr substitute_cheap(const Expr& origin, std::string* applied) {
    const Expr canon = canonicalize(origin);
    if (canon.empty()) return {};
    std::vector<std::string> notes;
    Expr out = rebuild(canon, canon.size() - 1, notes);
    if (notes.empty()) return {};
    if (applied) {
        applied->clear();
        for (const auto& s : notes) *applied += (applied->empty() ? "" : ", ") + s;
    }
    return canonicalize(out);
}

namespace {

// Solves A z = r (m x m, row-major) by Gaussian elimination with partial pivoting; false if singular.
bool solve(std::vector<double> A, std::vector<double> r, std::size_t m, std::vector<double>& z) {
    for (std::size_t c = 0; c < m; ++c) {
        std::size_t piv = c;
        for (std::size_t i = c + 1; i < m; ++i)
            if (std::abs(A[i * m + c]) > std::abs(A[piv * m + c])) piv = i;
        if (std::abs(A[piv * m + c]) < 1e-300) return false;
        for (std::size_t j = 0; j < m; ++j) std::swap(A[c * m + j], A[piv * m + j]);
        std::swap(r[c], r[piv]);
        for (std::size_t i = c + 1; i < m; ++i) {
            const double f = A[i * m + c] / A[c * m + c];
            for (std::size_t j = c; j < m; ++j) A[i * m + j] -= f * A[c * m + j];
            r[i] -= f * r[c];
        }
    }
    z.assign(m, 0.0);
    for (std::size_t c = m; c-- > 0;) {
        double v = r[c];
        for (std::size_t j = c + 1; j < m; ++j) v -= A[c * m + j] * z[j];
        z[c] = v / A[c * m + c];
    }
    return true;
}

// Coefficients (a, b, c_1..c_K) of a + b*x + sum c_i relu(x - k_i) minimising max_i w_i |error_i| for
// fixed knots, by Lawson's iteratively reweighted least squares; returns the weighted max error.
double fit_fixed_knots(const std::vector<double>& knots, const std::vector<double>& xs, const std::vector<double>& fx,
                       const std::vector<double>& w, std::vector<double>& best) {
    const std::size_t m = knots.size() + 2, n = xs.size();
    auto basis = [&](std::size_t i, std::size_t j) {
        return j == 0 ? 1.0 : j == 1 ? xs[i] : std::max(0.0, xs[i] - knots[j - 2]);
    };
    std::vector<double> u(n, 1.0 / double(n)), z;
    double best_err = HUGE_VAL;
    for (int it = 0; it < 30; ++it) {
        std::vector<double> A(m * m, 0.0), r(m, 0.0);
        for (std::size_t i = 0; i < n; ++i) {
            const double wi = u[i] * w[i] * w[i];
            for (std::size_t a = 0; a < m; ++a) {
                const double ba = basis(i, a) * wi;
                r[a] += ba * fx[i];
                for (std::size_t b = a; b < m; ++b) A[a * m + b] += ba * basis(i, b);
            }
        }
        for (std::size_t a = 0; a < m; ++a) {
            A[a * m + a] += 1e-12;
            for (std::size_t b = 0; b < a; ++b) A[a * m + b] = A[b * m + a];
        }
        if (!solve(A, r, m, z)) break;
        double err = 0, total = 0;
        std::vector<double> e(n);
        for (std::size_t i = 0; i < n; ++i) {
            double g = 0;
            for (std::size_t j = 0; j < m; ++j) g += z[j] * basis(i, j);
            e[i] = w[i] * std::abs(g - fx[i]);
            err = std::max(err, e[i]);
        }
        if (err < best_err) best_err = err, best = z;
        for (std::size_t i = 0; i < n; ++i) total += (u[i] *= e[i] + 1e-15);
        for (double& v : u) v /= total;
    }
    return best_err;
}

}  // namespace

Expr fit_piecewise_linear(const Expr& origin, int K) {
    K = std::clamp(K, 1, 16);
    const std::vector<double> xs = grid(241);
    std::vector<double> fx = values(origin, xs);
    for (double& v : fx)
        if (!std::isfinite(v)) v = 0;   // a non-finite origin cannot be fitted there; its error shows later
    std::vector<double> w(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) w[i] = 0.1 + 0.9 * std::exp(-0.5 * xs[i] * xs[i]);
    auto knots_of = [&](std::vector<double> p) {
        for (double& k : p) k = std::clamp(k, kHardenLo + 0.05, kHardenHi - 0.05);
        std::sort(p.begin(), p.end());
        for (std::size_t i = 1; i < p.size(); ++i) p[i] = std::max(p[i], p[i - 1] + 1e-2);
        return p;
    };
    std::vector<double> coef;
    auto objective = [&](const std::vector<double>& p) { return fit_fixed_knots(knots_of(p), xs, fx, w, coef); };
    std::vector<double> p0(static_cast<std::size_t>(K)), step(p0.size(), 0.6);
    for (int i = 0; i < K; ++i) p0[std::size_t(i)] = K == 1 ? 0.0 : -3.0 + 6.0 * i / double(K - 1);
    const std::vector<double> knots = knots_of(nelder_mead(objective, p0, step, 60 * K, 2));
    fit_fixed_knots(knots, xs, fx, w, coef);

    Expr e = make_const(round4(coef[0]));
    if (const double b = round4(coef[1]); b != 0) e = bin(Op::Add, e, bin(Op::Mul, cst(b), make_leaf_x()));
    for (std::size_t i = 0; i < knots.size(); ++i) {
        const double c = round4(coef[i + 2]);
        if (std::abs(c) < 1e-6) continue;
        e = bin(Op::Add, e, bin(Op::Mul, cst(c), make_unary(Op::Relu, bin(Op::Sub, make_leaf_x(), cst(round4(knots[i]))))));
    }
    return canonicalize(e);
}

std::vector<Twin> harden(const Expr& origin, const HardenOptions& o, const CostTable& t) {
    std::vector<Twin> out;
    const std::string origin_text = canonical_string(origin);
    auto add = [&](Expr e, std::string method) {
        if (e.empty()) return;
        Twin tw;
        tw.expr = canonicalize(e);
        tw.text = to_infix(tw.expr);
        if (tw.text == origin_text) return;
        for (const Twin& other : out)
            if (other.text == tw.text) return;
        tw.method = std::move(method);
        std::tie(tw.max_error, tw.weighted_error) = twin_errors(origin, tw.expr);
        tw.cost = expr_cost(tw.expr, t);
        out.push_back(std::move(tw));
    };
    if (o.substitution) {
        std::string applied;
        Expr s = substitute_cheap(origin, &applied);
        add(std::move(s), "substitution: " + applied);
    }
    for (int k : o.knots) add(fit_piecewise_linear(origin, k), fmt::format("piecewise-linear, {} knots", k));
    return out;
}

}  // namespace actsearch::cost
