#include "actsearch/cost/cost.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <ctime>
#include <fstream>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/core.h>

#include "actsearch/grammar/export.hpp"
#include "actsearch/grammar/ops.hpp"
#include "actsearch/grammar/print.hpp"
#include "actsearch/grammar/program.hpp"

namespace actsearch::cost {
namespace {

constexpr double kPowProbeExponent = 2.5;

double median_of(const Direction& d) {
    std::vector<double> v;
    for (const auto& [name, c] : d.ops) v.push_back(c);
    if (v.empty()) return 1.0;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
}

double lookup(const Direction& d, std::string_view name) {
    if (auto it = d.ops.find(std::string(name)); it != d.ops.end()) return it->second;
    return median_of(d);
}

double thread_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Probes hold kProbeDepth applications of one primitive, so that its marginal cost shows even where a
// single cheap operation hides behind the memory traffic of the pass: a unary op as the sum
// op(x) + op(x) + ... (Program does not merge common subexpressions), compared with x + x + ...;
// a binary op as the chain b(...b(b(x, x), x)..., x), compared with the pass alone.
constexpr int kProbeDepth = 8;

Expr probe(const OpInfo& info) {
    const double value = info.op == Op::Pow ? kPowProbeExponent : 0.0;
    auto term = [&] { return info.arity == 1 ? make_unary(info.op, make_leaf_x(), value) : make_leaf_x(); };
    Expr e = term();
    for (int i = 1; i < kProbeDepth; ++i) {
        if (info.arity == 1 || info.op == Op::Add)
            e = make_binary(Op::Add, std::move(e), term());
        else
            e = make_binary(info.op, std::move(e), make_leaf_x());
    }
    if (info.arity == 2 && info.op != Op::Add) e = make_binary(info.op, std::move(e), make_leaf_x());
    return e;
}

struct Bench {
    const std::vector<float>& x;
    std::vector<float> y, dy, dx;
    double min_seconds;

    // CPU seconds per element of one pass (forward, or forward+backward).
    double time(const Program& p, bool backward) {
        const ActShape shape{x.size(), 1, 1};
        long passes = 0;
        const double t0 = thread_seconds();
        double t = t0;
        do {
            if (backward)
                p.backward(x.data(), dy.data(), dx.data(), nullptr, nullptr, shape);
            else
                p.forward(x.data(), y.data(), nullptr, shape);
            ++passes;
            t = thread_seconds();
        } while (t - t0 < min_seconds);
        return (t - t0) / double(passes) / double(x.size());
    }

    // CPU seconds per element of one pass of an exported primitive over `a` (and `b`, a binary op's
    // second operand) into `out`, each x.size() floats.
    double time(ExportedKernel k, const float* a, const float* b, float* out, float parameter) {
        long passes = 0;
        const double t0 = thread_seconds();
        double t = t0;
        do {
            k(a, b, out, x.size(), parameter);
            ++passes;
            t = thread_seconds();
        } while (t - t0 < min_seconds);
        return (t - t0) / double(passes) / double(x.size());
    }
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

double op_cost(const Direction& d, const Node& n, bool training) {
    if (n.arity == 0) return 0.0;
    if (n.op == Op::Pow) {
        const double p = n.value;
        if (!training) return lookup(d, p == 2.0 ? "square" : "pow");
        if (p == std::nearbyint(p) && std::abs(p) <= 64.0) {
            const auto bits = static_cast<unsigned>(std::abs(p));
            // pow_block: one multiply pass per set bit and per squaring, a reciprocal when negative.
            const int passes = std::popcount(bits) + (bits ? std::bit_width(bits) - 1 : 0) + (p < 0 ? 1 : 0);
            return passes * lookup(d, "square");
        }
        return lookup(d, "pow");
    }
    return lookup(d, op_info(n.op).name);
}

double expr_cost(const Expr& e, const CostTable& t, bool training) {
    const Direction& d = training ? t.backward : t.forward;
    const Expr c = canonicalize(e);
    // Which subtrees read x (postfix: a node's operands come just before it).
    std::vector<bool> reads_x(c.nodes.size(), false);
    for (std::size_t i = 0; i < c.nodes.size(); ++i) {
        const Node& n = c.nodes[i];
        if (n.arity == 0) {
            reads_x[i] = n.op == Op::X;
        } else {
            const std::size_t right = i - 1;
            reads_x[i] = reads_x[right] || (n.arity == 2 && reads_x[right - c.nodes[right].length]);
        }
    }
    double sum = d.pass;
    for (std::size_t i = 0; i < c.nodes.size(); ++i)
        if (training || reads_x[i]) sum += op_cost(d, c.nodes[i], training);
    return sum;
}

std::string cpu_name() {
    static const std::string name = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) != 0) continue;
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
        if (!v.empty()) return v;
    }
    return std::string("unknown");
    }();
    return name;
}

CostTable calibrate(const CalibrationOptions& o, const std::function<void(int, int)>& progress) {
    const std::size_t n = std::max<std::size_t>(o.elements, 256);
    std::vector<float> x(n);
    // Pre-activations of a trained network are roughly normal; a deterministic spread over [-4, 4]
    // without denormals or infinities in any primitive's output.
    for (std::size_t i = 0; i < n; ++i) x[i] = -4.0f + 8.0f * float((i * 2654435761u) % 10007) / 10006.0f;
    Bench bench{x, std::vector<float>(n), std::vector<float>(n, 1.0f), std::vector<float>(n), o.min_seconds};

    // Slot 0: the pass (y = x), slot 1: relu(x) alone (the unit), then one probe per primitive.
    std::vector<std::string> names{"(pass)", "(relu)"};
    std::vector<Program> programs{Program(make_leaf_x()), Program(make_unary(Op::Relu, make_leaf_x()))};
    std::vector<Op> ops{Op::X, Op::X};
    for (const OpInfo& info : all_ops()) {
        if (info.arity == 0) continue;
        names.emplace_back(info.name);
        programs.emplace_back(probe(info));
        ops.push_back(info.op);
    }
    const std::size_t add =
        static_cast<std::size_t>(std::find(ops.begin(), ops.end(), Op::Add) - ops.begin());
    const std::size_t relu =
        static_cast<std::size_t>(std::find(ops.begin(), ops.end(), Op::Relu) - ops.begin());

    // The exported kernels' operands: x, and for a binary op's second operand another spread over
    // [-4, 4] (so that max(a, b) and a - b cannot fold), and the output, in one buffer at offsets 1 KiB
    // apart modulo 4 KiB: a load whose address equals a recent store's modulo 4 KiB waits for it on
    // x86 cores (4K aliasing), which made identical loops (a + b, a - b) differ by half a relu.
    const std::size_t stride = (n + 1023) / 1024 * 1024 + 256;
    std::vector<float> operands(3 * stride);
    float* const xa = operands.data();
    float* const xb = xa + stride;
    float* const out = xb + stride;
    for (std::size_t i = 0; i < n; ++i) {
        xa[i] = x[i];
        xb[i] = x[(i * 7919) % n];
    }

    std::vector<std::vector<double>> fwd(programs.size()), bwd(programs.size());
    const int rounds = std::max(1, o.rounds);
    for (int r = 0; r < rounds; ++r) {
        // Interleaved: every primitive once per round, so slow phases of a shared machine hit all alike.
        for (std::size_t i = 0; i < programs.size(); ++i) {
            // Inference: the exported C++ (scalar code); slot 1 is relu.
            const Op op = i == 1 ? Op::Relu : ops[i];
            fwd[i].push_back(bench.time(exported_kernel(op), xa, xb, out, op == Op::Pow ? float(kPowProbeExponent) : 0.0f));
            // Training: the engine's evaluator.
            bwd[i].push_back(bench.time(programs[i], true));
        }
        if (progress) progress(r + 1, rounds);
    }

    CostTable t;
    t.cpu = cpu_name();
    t.source = fmt::format("calibrated {:%Y-%m-%d}", fmt::gmtime(std::time(nullptr)));
    // Marginal seconds per element and application, then everything over the model's relu(x).
    // Training: probes of kProbeDepth applications through Program (see probe()).
    auto fill = [&](Direction& d, const std::vector<std::vector<double>>& times) {
        std::vector<double> med;
        for (const auto& v : times) med.push_back(median(v));
        const double pass = med[0], depth = kProbeDepth;
        const double add_each = std::max(0.0, (med[add] - pass) / (depth - 1));
        const double sum_of_x = pass + (depth - 1) * add_each;   // x + x + ... + x
        std::vector<double> marginal(med.size(), 0.0);
        for (std::size_t i = 2; i < med.size(); ++i) {
            const bool unary = op_info(ops[i]).arity == 1;
            marginal[i] = i == add ? add_each : std::max(0.0, (med[i] - (unary ? sum_of_x : pass)) / depth);
        }
        const double unit = std::max(pass + marginal[relu], 1e-15);
        d.pass = pass / unit;
        for (std::size_t i = 2; i < med.size(); ++i) d.ops[names[i]] = marginal[i] / unit;
        return unit;
    };
    // Inference: one application per element in the exported code's scalar loop; each primitive's
    // marginal cost is its loop's time beyond the copy loop's (the pass).
    auto fill_exported = [&](Direction& d, const std::vector<std::vector<double>>& times) {
        std::vector<double> med;
        for (const auto& v : times) med.push_back(median(v));
        const double pass = med[0];
        std::vector<double> marginal(med.size(), 0.0);
        for (std::size_t i = 2; i < med.size(); ++i) marginal[i] = std::max(0.0, med[i] - pass);
        const double unit = std::max(pass + marginal[relu], 1e-15);
        d.pass = pass / unit;
        for (std::size_t i = 2; i < med.size(); ++i) d.ops[names[i]] = marginal[i] / unit;
        return unit;
    };
    t.relu_ns = 1e9 * fill_exported(t.forward, fwd);
    t.relu_training_ns = 1e9 * fill(t.backward, bwd);
    return t;
}

}  // namespace actsearch::cost
