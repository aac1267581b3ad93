// Plots of activation functions: f and f' over [-6, 6] on one grid, as `actsearch plot` and the
// report's figure of the best functions draw them (rendered by svg_plot.hpp).
#pragma once

#include <cstddef>
#include <string>

#include "actsearch/grammar/expr.hpp"
#include "svg_plot.hpp"

namespace actsearch::cli {

// An empty plot with the panels f(x) and f'(x) over `points` points of [-6, 6] (float grid points).
Plot function_plot(std::string title, std::size_t points);

// Adds f and df/dx of `e` to both panels, in single precision as the networks see them, trainable betas
// at their initial values (1 unless written, as in beta(0.25)). `reference`: drawn faint and left out of the y-range.
void add_function(Plot& plot, const std::string& label, const Expr& e, bool reference = false);

// relu and swish, faint, for scale.
void add_reference_functions(Plot& plot);

}  // namespace actsearch::cli
