#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "actsearch/grammar/expr.hpp"

namespace actsearch {

struct ExportItem {
    std::string name;      // a C++ identifier, e.g. "swish_beta"
    Expr expr;
    std::string comment;   // one line placed above the function (e.g. its score); may be empty
};

// A self-contained C++17 header: for each item, `template <typename T> T NAME(T x, T beta...)` and
// `NAME_grad(T x, T beta..., T* dbeta)` returning df/dx and writing df/dbeta_k. Compiles with
// -Wall -Wextra -Werror.
std::string export_cpp(const std::vector<ExportItem>& items);
// A PyTorch nn.Module per item with beta as an nn.Parameter of shape (num_channels,).
std::string export_torch(const std::vector<ExportItem>& items);
// The formula in LaTeX.
std::string export_latex(const Expr& e);

// One primitive of the exported C++ over arrays, compiled as g++ -O2 compiles an exported header (scalar
// loops, the C library's elementary functions): y[i] = op(a[i], b[i]) for a binary op, op(a[i]) with
// the literal `parameter` (pow's exponent) for a unary one, a[i] for a leaf. What cost::calibrate times
// for the inference cost of an exported activation.
using ExportedKernel = void (*)(const float* a, const float* b, float* y, std::size_t n, float parameter);
ExportedKernel exported_kernel(Op op) noexcept;

// True when s is a usable C++ identifier; make_identifier turns any text into one.
bool is_identifier(const std::string& s);
std::string make_identifier(const std::string& s);

}  // namespace actsearch
