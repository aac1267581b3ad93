// Cheap twins of an activation, as hard-swish is to swish: by substituting cheap forms for expensive
// primitives, and by fitting a piecewise-linear function written in the grammar with relu or hard_tanh
// terms and constants.
#pragma once

#include <string>
#include <vector>

#include "actsearch/cost/cost.hpp"
#include "actsearch/grammar/expr.hpp"

namespace actsearch::cost {

inline constexpr double kHardenLo = -6.0, kHardenHi = 6.0;

struct Twin {
    Expr expr;                   // canonical
    std::string text;            // canonical infix: parses back to expr
    std::string method;          // "substitution: sigmoid -> hard_sigmoid, ...", "piecewise-linear, K knots"
                                 // or "piecewise-linear, K hard_tanh" (2K knots)
    double max_error = 0;        // max |twin - origin| on [-6, 6] (betas at their initial values)
    double weighted_error = 0;   // max |twin - origin| * exp(-x^2/2): the error the standard normal weights
    double cost = 0;             // inference cost relative to relu(x)
};

struct HardenOptions {
    std::vector<int> knots{2, 3, 4, 5, 6, 7, 8};   // piecewise-linear fits with this many free knots
    bool substitution = true;
    std::vector<int> clamps{1, 2, 3, 4};            // fits with this many hard_tanh terms (2 knots each)
};

// The errors of `twin` against `origin` on [-6, 6] (2,401 points, betas at their
// initial values: 1, or v for beta(v)): {max, weighted}.
std::pair<double, double> twin_errors(const Expr& origin, const Expr& twin);

// The substitution twin, or an empty Expr when the origin has nothing to substitute. `applied` receives
// a list like "sigmoid -> hard_sigmoid, tanh -> hard_tanh".
Expr substitute_cheap(const Expr& origin, std::string* applied = nullptr);

// A piecewise-linear function of x with `knots` free knots (knots + 1 pieces), fitted to the origin at
// its betas' initial values to minimise max |error| * (0.1 + 0.9 exp(-x^2/2)) on [-6, 6] (errors near 0, where
// pre-activations are, weigh 10x more than in the tails), written as a + b*x + sum c_i*relu(x - k_i)
// with constants rounded to 4 significant digits. Deterministic.
Expr fit_piecewise_linear(const Expr& origin, int knots);

// The same fit with `clamps` terms c_i*hard_tanh(s_i*x - t_i): 2*clamps free knots, in pairs whose
// slope changes are opposite (each term rises or falls between its two knots and is flat outside),
// written as a + b*x + sum c_i*hard_tanh(s_i*x - t_i). A hard_tanh costs less than a relu in the
// exported code, so this family reaches an error at a lower cost for S-shaped and bump-shaped
// stretches; the relu family fits what the pairs cannot. Deterministic.
Expr fit_clamps(const Expr& origin, int clamps);

// Substitution twin (when any) and one fit per entry of o.knots and of o.clamps, with errors and costs; twins that
// are equal to the origin or to an earlier twin are dropped.
std::vector<Twin> harden(const Expr& origin, const HardenOptions& o = {}, const CostTable& t = default_table());

}  // namespace actsearch::cost
