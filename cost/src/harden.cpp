#include "actsearch/cost/harden.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
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

// 4 significant digits; what is below 1e-9 in magnitude (a fit's rounding noise, e.g. 2e-16) is 0.
double round4(double v) { return std::abs(v) < 1e-9 ? 0.0 : std::stod(fmt::format("{:.4g}", v)); }

// ---- substitution -------------------------------------------------------------------------------

Expr cst(double v) { return make_const(v); }
Expr bin(Op op, Expr a, Expr b) { return make_binary(op, std::move(a), std::move(b)); }

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
        case Op::Tanh: note("tanh -> hard_tanh"); return make_unary(Op::HardTanh, a);
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

// The piecewise-linear families a twin is fitted in: a + b*x + sum c_i*relu(x - k_i) (one knot a term),
// or a + b*x + sum c_i*hard_tanh((x - m_i)/h_i) (two knots a term, m_i -+ h_i; hard_tanh costs less
// than relu in the exported code). A clamp takes knots 2i and 2i+1.
enum class Family { Relu, Clamp };

double basis_term(Family fam, const std::vector<double>& knots, std::size_t term, double x) {
    if (fam == Family::Relu) return std::max(0.0, x - knots[term]);
    const double lo = knots[2 * term], hi = knots[2 * term + 1];
    return std::clamp((2 * x - lo - hi) / (hi - lo), -1.0, 1.0);
}

// Coefficients (a, b, c_1..c_T) of a + b*x + sum c_i term_i(x) minimising max_i w_i |error_i| for
// fixed knots, by Lawson's iteratively reweighted least squares; returns the weighted max error.
double fit_fixed_knots(Family fam, const std::vector<double>& knots, const std::vector<double>& xs,
                       const std::vector<double>& fx, const std::vector<double>& w, std::vector<double>& best) {
    const std::size_t terms = fam == Family::Relu ? knots.size() : knots.size() / 2;
    const std::size_t m = terms + 2, n = xs.size();
    std::vector<double> B(n * m);   // the basis at every point
    for (std::size_t i = 0; i < n; ++i) {
        B[i * m] = 1.0;
        B[i * m + 1] = xs[i];
        for (std::size_t j = 0; j < terms; ++j) B[i * m + j + 2] = basis_term(fam, knots, j, xs[i]);
    }
    auto basis = [&](std::size_t i, std::size_t j) { return B[i * m + j]; };
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

// Free knots of a family's fit to (xs, fx) under weights w, by Nelder-Mead from several starting points.
class KnotSearch {
public:
    KnotSearch(Family fam, std::vector<double> xs, std::vector<double> fx, std::vector<double> w)
        : fam_(fam), xs_(std::move(xs)), fx_(std::move(fx)), w_(std::move(w)) {}

    // Relu family: the knots, sorted. Clamp family: pairs (lo, hi) of each term, each pair sorted on its
    // own (terms may overlap or nest, as an S-curve inside a wider one).
    std::vector<double> knots_of(std::vector<double> p) const {
        for (double& k : p) k = std::clamp(k, kHardenLo + 0.05, kHardenHi - 0.05);
        if (fam_ == Family::Relu) {
            std::sort(p.begin(), p.end());
            for (std::size_t i = 1; i < p.size(); ++i) p[i] = std::max(p[i], p[i - 1] + 1e-2);
        } else {
            for (std::size_t i = 0; i + 1 < p.size(); i += 2) {
                if (p[i] > p[i + 1]) std::swap(p[i], p[i + 1]);
                p[i + 1] = std::max(p[i + 1], p[i] + 1e-2);
            }
        }
        return p;
    }

    Family family() const noexcept { return fam_; }

    // The weighted max error of the best fit with these knots; its coefficients in `coef`.
    double error(const std::vector<double>& knots, std::vector<double>& coef) const {
        return fit_fixed_knots(fam_, knots, xs_, fx_, w_, coef);
    }

    // The knots of a fit with K terms. Starting points: knots spread evenly; for the clamps also nested
    // pairs (-+1, -+2, ...), overlapping ones (centres spread over [-2, 2], half-width 1.5) and the
    // K - 1 fit with a narrow pair added at 0 (so K terms fit about as well as K - 1 at least). Each K
    // is searched once per KnotSearch (the clamps' K - 1 start and a later call for K - 1 share it).
    const std::vector<double>& search(int K) const {
        if (const auto it = found_.find(K); it != found_.end()) return it->second;
        const std::size_t nk = static_cast<std::size_t>(fam_ == Family::Relu ? K : 2 * K);
        std::vector<std::vector<double>> starts(1, std::vector<double>(nk));
        for (std::size_t i = 0; i < nk; ++i) starts[0][i] = nk == 1 ? 0.0 : -3.0 + 6.0 * double(i) / double(nk - 1);
        if (fam_ == Family::Clamp) {
            std::vector<double> nested(nk), overlapping(nk);
            for (std::size_t i = 0; i < nk; i += 2) nested[i] = -double(i / 2 + 1), nested[i + 1] = double(i / 2 + 1);
            const std::size_t terms = nk / 2;
            for (std::size_t i = 0; i < terms; ++i) {
                const double centre = terms == 1 ? 0.0 : -2.0 + 4.0 * double(i) / double(terms - 1);
                overlapping[2 * i] = centre - 1.5, overlapping[2 * i + 1] = centre + 1.5;
            }
            starts.push_back(nested);
            starts.push_back(overlapping);
            if (K > 1) {
                std::vector<double> warm = search(K - 1);   // a copy: found_ may grow below
                warm.push_back(-0.25);
                warm.push_back(0.25);
                starts.push_back(warm);
            }
        }
        std::vector<double> coef, best_p;
        double best = HUGE_VAL;
        auto objective = [&](const std::vector<double>& p) { return error(knots_of(p), coef); };
        for (const auto& p0 : starts) {
            std::vector<double> p = nelder_mead(objective, p0, std::vector<double>(nk, 0.6), 60 * int(nk), 2);
            if (const double err = objective(p); err < best) best = err, best_p = std::move(p);
        }
        return found_[K] = knots_of(best_p);
    }

private:
    Family fam_;
    std::vector<double> xs_, fx_, w_;
    mutable std::map<int, std::vector<double>> found_;   // K -> its knots
};

// A KnotSearch over the origin's values on the fitting grid (241 points on [-6, 6], non-finite values as
// 0, weights 0.1 + 0.9 exp(-x^2/2)).
KnotSearch knot_search(Family fam, const Expr& origin) {
    const std::vector<double> xs = grid(241);
    std::vector<double> fx = values(origin, xs);
    for (double& v : fx)
        if (!std::isfinite(v)) v = 0;   // a non-finite origin cannot be fitted there; its error shows later
    std::vector<double> w(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) w[i] = 0.1 + 0.9 * std::exp(-0.5 * xs[i] * xs[i]);
    return KnotSearch(fam, xs, std::move(fx), std::move(w));
}

// The fit with `K` terms (see Family) as an expression, constants rounded to 4 significant digits.
Expr fit(const KnotSearch& ks, int K) {
    const Family fam = ks.family();
    K = std::clamp(K, 1, 16);
    const std::vector<double>& knots = ks.search(K);
    std::vector<double> coef;
    ks.error(knots, coef);

    Expr e = make_const(round4(coef[0]));
    if (const double b = round4(coef[1]); b != 0) e = bin(Op::Add, e, bin(Op::Mul, cst(b), make_leaf_x()));
    for (std::size_t i = 0; i + 2 < coef.size(); ++i) {
        const double c = round4(coef[i + 2]);
        if (std::abs(c) < 1e-6) continue;
        Expr term;
        if (fam == Family::Relu) {
            term = make_unary(Op::Relu, bin(Op::Sub, make_leaf_x(), cst(round4(knots[i]))));
        } else {   // hard_tanh(s*x - t) with s = 2/(hi - lo), t = (hi + lo)/(hi - lo)
            const double lo = knots[2 * i], hi = knots[2 * i + 1];
            term = make_unary(Op::HardTanh, bin(Op::Sub, bin(Op::Mul, cst(round4(2 / (hi - lo))), make_leaf_x()),
                                                cst(round4((hi + lo) / (hi - lo)))));
        }
        e = bin(Op::Add, e, bin(Op::Mul, cst(c), std::move(term)));
    }
    return canonicalize(e);
}

}  // namespace

Expr fit_piecewise_linear(const Expr& origin, int K) {
    return fit(knot_search(Family::Relu, origin), K);
}
Expr fit_clamps(const Expr& origin, int K) { return fit(knot_search(Family::Clamp, origin), K); }

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
    if (!o.knots.empty()) {
        const KnotSearch relus = knot_search(Family::Relu, origin);
        for (int k : o.knots) add(fit(relus, k), fmt::format("piecewise-linear, {} knots", k));
    }
    if (!o.clamps.empty()) {   // one search for all: a fit with K terms starts from the one with K - 1
        const KnotSearch clamps = knot_search(Family::Clamp, origin);
        for (int k : o.clamps) add(fit(clamps, k), fmt::format("piecewise-linear, {} hard_tanh", k));
    }
    return out;
}

}  // namespace actsearch::cost
