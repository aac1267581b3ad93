#include "actsearch/cost/cost.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <ctime>
#include <fstream>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/core.h>

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

// The probe of one primitive: op(x), or op(x, x) for a binary one.
Expr probe(const OpInfo& info) {
    if (info.arity == 1) return make_unary(info.op, make_leaf_x(), info.op == Op::Pow ? kPowProbeExponent : 0.0);
    return make_binary(info.op, make_leaf_x(), make_leaf_x());
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
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

double op_cost(const Direction& d, const Node& n) {
    if (n.arity == 0) return 0.0;
    if (n.op == Op::Pow) {
        const double p = n.value;
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
    double sum = d.pass;
    for (const Node& n : canonicalize(e).nodes) sum += op_cost(d, n);
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

    std::vector<std::string> names{"(pass)"};
    std::vector<Program> programs{Program(make_leaf_x())};
    for (const OpInfo& info : all_ops()) {
        if (info.arity == 0) continue;
        names.emplace_back(info.name);
        programs.emplace_back(probe(info));
    }
    const std::size_t relu =
        static_cast<std::size_t>(std::find(names.begin(), names.end(), op_info(Op::Relu).name) - names.begin());

    std::vector<std::vector<double>> fwd(programs.size()), bwd(programs.size());
    const int rounds = std::max(1, o.rounds);
    for (int r = 0; r < rounds; ++r) {
        // Interleaved: every primitive once per round, so slow phases of a shared machine hit all alike.
        for (std::size_t i = 0; i < programs.size(); ++i) {
            fwd[i].push_back(bench.time(programs[i], false));
            bwd[i].push_back(bench.time(programs[i], true));
        }
        if (progress) progress(r + 1, rounds);
    }

    CostTable t;
    t.cpu = cpu_name();
    t.source = fmt::format("calibrated {:%Y-%m-%d}", fmt::gmtime(std::time(nullptr)));
    auto fill = [&](Direction& d, const std::vector<std::vector<double>>& times) {
        std::vector<double> med;
        for (const auto& v : times) med.push_back(median(v));
        const double unit = std::max(med[relu], 1e-15);
        d.pass = std::min(med[0] / unit, 1.0);
        for (std::size_t i = 1; i < med.size(); ++i) d.ops[names[i]] = std::max(0.0, med[i] / unit - d.pass);
        d.ops[names[relu]] = 1.0 - d.pass;   // relu(x) = 1 exactly
    };
    fill(t.forward, fwd);
    fill(t.backward, bwd);
    t.relu_ns = 1e9 * median(fwd[relu]);
    t.relu_training_ns = 1e9 * median(bwd[relu]);
    return t;
}

}  // namespace actsearch::cost
