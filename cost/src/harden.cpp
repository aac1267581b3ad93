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
    const std::vector<float> betas(static_cast<std::size_t>(p.beta_count()), 1.0f);
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

struct Pwl {
    std::vector<double> k, v;   // knots (sorted) and values there
    double left = 0, right = 0; // end slopes
};

Pwl unpack(const std::vector<double>& p, int K) {
    std::vector<std::size_t> idx(static_cast<std::size_t>(K));
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](auto a, auto b) { return p[a] < p[b]; });
    Pwl w;
    for (std::size_t i : idx) {
        double k = std::clamp(p[i], kHardenLo, kHardenHi);
        if (!w.k.empty()) k = std::max(k, w.k.back() + 1e-3);
        w.k.push_back(k);
        w.v.push_back(p[std::size_t(K) + i]);
    }
    w.left = p[2 * std::size_t(K)];
    w.right = p[2 * std::size_t(K) + 1];
    return w;
}

double eval_pwl(const Pwl& w, double x) {
    if (x <= w.k.front()) return w.v.front() + w.left * (x - w.k.front());
    if (x >= w.k.back()) return w.v.back() + w.right * (x - w.k.back());
    const auto it = std::upper_bound(w.k.begin(), w.k.end(), x);
    const std::size_t j = std::size_t(it - w.k.begin());
    const double t = (x - w.k[j - 1]) / (w.k[j] - w.k[j - 1]);
    return w.v[j - 1] + t * (w.v[j] - w.v[j - 1]);
}

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

Expr fit_piecewise_linear(const Expr& origin, int K) {
    K = std::clamp(K, 1, 16);
    const std::vector<double> xs = grid(481);
    const std::vector<double> fx = values(origin, xs);
    std::vector<double> w(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) w[i] = 0.1 + 0.9 * std::exp(-0.5 * xs[i] * xs[i]);
    auto at = [&](double x) {   // the origin at the grid point nearest x
        const auto i = std::size_t(std::lround((x - kHardenLo) / (kHardenHi - kHardenLo) * double(xs.size() - 1)));
        return fx[std::min(i, xs.size() - 1)];
    };
    auto objective = [&](const std::vector<double>& p) {
        const Pwl q = unpack(p, K);
        double worst = 0;
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const double d = std::abs(eval_pwl(q, xs[i]) - fx[i]);
            worst = std::max(worst, std::isfinite(d) ? d * w[i] : 1e30);
        }
        return worst;
    };
    std::vector<double> p(2 * std::size_t(K) + 2), step(p.size());
    double scale = 0;
    for (double v : fx)
        if (std::isfinite(v)) scale = std::max(scale, std::abs(v));
    for (int i = 0; i < K; ++i) {
        const double k = K == 1 ? 0.0 : -3.5 + 7.0 * i / double(K - 1);
        p[std::size_t(i)] = k;
        p[std::size_t(K + i)] = at(k);
        step[std::size_t(i)] = 0.5;
        step[std::size_t(K + i)] = 0.05 * std::max(scale, 1.0);
    }
    p[2 * std::size_t(K)] = (at(p[0]) - at(kHardenLo)) / (p[0] - kHardenLo);
    p[2 * std::size_t(K) + 1] = (at(kHardenHi) - at(p[std::size_t(K) - 1])) / (kHardenHi - p[std::size_t(K) - 1]);
    step[2 * std::size_t(K)] = step[2 * std::size_t(K) + 1] = 0.1;
    const Pwl q = unpack(nelder_mead(objective, p, step, 600 * K, 4), K);

    // a + b*x + sum c_i*relu(x - k_i)
    std::vector<double> slopes{q.left};
    for (std::size_t i = 0; i + 1 < q.k.size(); ++i) slopes.push_back((q.v[i + 1] - q.v[i]) / (q.k[i + 1] - q.k[i]));
    slopes.push_back(q.right);
    const double b = round4(q.left);
    Expr e = make_const(round4(q.v.front() - q.left * q.k.front()));
    if (b != 0) e = bin(Op::Add, e, bin(Op::Mul, cst(b), make_leaf_x()));
    for (std::size_t i = 0; i < q.k.size(); ++i) {
        const double c = round4(slopes[i + 1] - slopes[i]);
        if (std::abs(c) < 1e-6) continue;
        e = bin(Op::Add, e, bin(Op::Mul, cst(c), make_unary(Op::Relu, bin(Op::Sub, make_leaf_x(), cst(round4(q.k[i]))))));
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
