// Writes compat_golden.tsv: for a fixed set of expressions, what the grammar made of them when the file
// was generated (the printer's text, the canonical string, the structural hash of the canonical form,
// the fingerprint). tests/grammar/test_compat.cpp recomputes every line with the current grammar and
// requires byte-identical results: databases store these strings and hashes.
//
// Not part of the build. It uses only the public grammar API; the file in the repository was written by
// this program compiled against main at 33e11f0 (before initial values of betas existed):
//   g++ -std=c++20 -O1 -I grammar/include compat_golden_gen.cpp libactsearch_grammar.a -lfmt -o gen
//   ./gen > tests/grammar/data/compat_golden.tsv
// Lines: KIND<TAB>INPUT<TAB>to_infix<TAB>canonical<TAB>structural_hash(canonical)<TAB>fingerprint<TAB>
// valid<TAB>reason, where KIND is `expr` (INPUT is infix text) or `space` (INPUT is NAME:INDEX, the
// candidate Space::build(decode(INDEX)) of a built-in space).
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "actsearch/grammar/fingerprint.hpp"
#include "actsearch/grammar/parse.hpp"
#include "actsearch/grammar/print.hpp"
#include "actsearch/grammar/space.hpp"

using namespace actsearch;

namespace {

void emit(const char* kind, const std::string& input, const Expr& e) {
    const Expr c = canonicalize(e);
    const Fingerprint fp = fingerprint(e);
    fmt::print("{}\t{}\t{}\t{}\t{:016x}\t{:016x}\t{}\t{}\n", kind, input, to_infix(e), to_infix(c), structural_hash(c),
               fp.hash, fp.valid ? 1 : 0, fp.reason);
}

// Random expressions as the canonical tests draw them (betas only at their default), printed as text.
class RandomExpr {
public:
    explicit RandomExpr(std::uint64_t seed) : rng_(seed) {
        for (const OpInfo& info : all_ops()) {
            if (info.arity == 1 && info.op != Op::Pow) unary_.push_back(info.op);
            if (info.arity == 2) binary_.push_back(info.op);
        }
    }
    Expr operator()(int depth) {
        const int kind = depth == 0 ? 0 : static_cast<int>(pick(10));
        if (kind < 3) return leaf();
        if (kind < 6) {
            if (pick(8) == 0) {
                static constexpr double kExponents[] = {-2.0, -1.0, 0.0, 0.5, 1.0, 1.5, 4.0};
                return make_unary(Op::Pow, (*this)(depth - 1), kExponents[pick(7)]);
            }
            return make_unary(unary_[pick(unary_.size())], (*this)(depth - 1));
        }
        Expr a = (*this)(depth - 1);
        return make_binary(binary_[pick(binary_.size())], std::move(a), (*this)(depth - 1));
    }

private:
    std::mt19937_64 rng_;
    std::vector<Op> unary_, binary_;
    std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
    Expr leaf() {
        static constexpr double kConstants[] = {0.0, -0.0, 1.0, -1.0, 2.0, 0.5, -1.5, 0.1, 1e-3, 7.25, 3.0};
        switch (pick(4)) {
            case 0: return make_const(kConstants[pick(std::size(kConstants))]);
            case 1: return make_beta(static_cast<int>(pick(3)));
            default: return make_leaf_x();
        }
    }
};

}  // namespace

int main() {
    const char* named[] = {
        "x", "beta", "beta2", "beta*x", "x*sigmoid(x)", "x*sigmoid(beta*x)", "x / (1 + exp(-x))", "swish(x)",
        "relu(x)", "max(x, 0)", "max(0, x)", "(x + abs(x)) / 2", "leaky_relu(x)", "max(x, 0.01*x)",
        "max(x, 0) + beta*min(x, 0)", "relu(x) + beta*min0(x)", "max(x, beta*x)", "gelu(x)", "mish(x)",
        "x*tanh(softplus(x))", "(1 + tanh(x))*0.5*x", "(beta + tanh(beta2*x))*beta3*x", "(beta + tanh(beta*x))*beta*x",
        "hard_swish(x)", "x*relu6(x + 3)/6", "hard_sigmoid(x)", "hard_tanh(x)", "elu(x)", "selu(x)",
        "softplus(x)", "log(1 + exp(x))", "tanh(x)", "2*sigmoid(2*x) - 1", "sin(x)", "cos(x) - x",
        "max(x, tanh(x))", "max(x, tanh(x))*sigmoid(beta*(x + cos(x)))", "beta*tanh(x) + cos(x)*(1 - beta2)",
        "beta*max(x, 0) + sin(x)*(1 - beta2)", "atan(x)*(x + beta)", "beta*(1 - beta2) + beta3*max(x, 0)",
        "beta2*x + beta", "beta1*x", "beta*x + beta*beta", "beta - beta", "beta*0", "x - x", "x*1 + 0",
        "2*3 + x", "x^2", "x^0.5", "x^-1", "pow(x, 1.5)", "(-x)^2", "-x^2", "--x", "x - -x", "x + -2", "-2",
        "exp(exp(x))", "log(x)", "sqrt(x)", "1/x", "sqrt(abs(x))", "log_abs(x)", "sinc(x)", "erf(x)", "erfc(x)",
        "gaussian(x)", "exp(-x^2)", "expm1(x)", "reciprocal(x)", "softsign(x)", "log_sigmoid(x)", "asinh(x)",
        "sinh(x)", "cosh(x)", "cube(x)", "square(x)", "keras_hard_sigmoid(x)", "min(x, 0)", "min0(x)",
        "x*sigmoid(1.702*x)", "beta*x*sigmoid(beta2*x)", "sigmoid(beta*x)*beta2", "min(max(x, beta*x), 2 - x)",
        "beta*relu(x) + beta2*sinc(x)", "min(max(x, -1.5), beta)", "pi*x", "e*x", "x*beta + 0.25*beta",
        "beta*x + beta2*x + beta3*x + beta4", "max(beta2*x, beta*x)", "sigmoid(beta)*x", "tanh(beta*x)/beta",
    };
    for (const char* text : named) {
        const ParseResult r = parse(text);
        if (!r.ok()) {
            std::fprintf(stderr, "does not parse: %s\n", text);
            return 1;
        }
        emit("expr", text, r.expr());
    }
    RandomExpr random(20261202);
    for (int i = 0; i < 300; ++i) {
        const std::string text = to_infix(random(1 + i % 6));
        const ParseResult r = parse(text);
        if (!r.ok()) continue;   // (none so far: printed text reads back)
        emit("expr", text, r.expr());
    }
    // Every 25th candidate of paper-core1 and aquasurf, every hard one, 150 spread over paper-core2.
    for (const char* name : {"paper-core1", "hard", "aquasurf", "paper-core2"}) {
        auto loaded = load_space(name);
        if (!std::holds_alternative<Space>(loaded)) return 1;
        const Space& s = std::get<Space>(loaded);
        const std::uint64_t n = s.raw_count();
        const std::uint64_t stride = std::string(name) == "hard" ? 1 : std::string(name) == "paper-core2" ? n / 150 + 7 : 25;
        for (std::uint64_t i = 0; i < n; i += stride) emit("space", fmt::format("{}:{}", name, i), s.build(s.decode(i)));
    }
    return 0;
}
