#include "function_plot.hpp"

#include <vector>

#include "actsearch/grammar/program.hpp"

namespace actsearch::cli {

Plot function_plot(std::string title, std::size_t points) {
    constexpr double kXMin = -6.0, kXMax = 6.0;
    Plot plot;
    plot.title = std::move(title);
    for (std::size_t i = 0; i < points; ++i)
        plot.x.push_back(static_cast<float>(kXMin + (kXMax - kXMin) * double(i) / double(points - 1)));
    // Activations worth comparing live on the scale of x (relu reaches 6) and of slopes near 1.
    plot.panels = {Panel{"f(x)", {}, 3 * kXMax}, Panel{"f'(x)", {}, 10}};
    return plot;
}

void add_function(Plot& plot, const std::string& label, const Expr& e, bool reference) {
    const std::vector<float> xs(plot.x.begin(), plot.x.end());   // exact: the grid points are floats
    const Program program(e);
    // Trainable betas at their initial values (1 unless written, as in beta(0.25)).
    const std::vector<float>& betas = program.beta_initial_values();
    std::vector<float> dbeta(betas.size(), 0.0f), y(xs.size()), dx(xs.size());
    const std::vector<float> ones(xs.size(), 1.0f);
    program.eval(xs.data(), y.data(), xs.size(), betas.data());
    program.backward(xs.data(), ones.data(), dx.data(), betas.data(), dbeta.empty() ? nullptr : dbeta.data(),
                     ActShape{xs.size(), 1, 1});
    plot.panels[0].series.push_back({label, std::vector<double>(y.begin(), y.end()), reference});
    plot.panels[1].series.push_back({label, std::vector<double>(dx.begin(), dx.end()), reference});
}

void add_reference_functions(Plot& plot) {
    add_function(plot, "relu (reference)", make_unary(Op::Relu, make_leaf_x()), true);
    add_function(plot, "swish (reference)", make_unary(Op::Swish, make_leaf_x()), true);
}

}  // namespace actsearch::cli
