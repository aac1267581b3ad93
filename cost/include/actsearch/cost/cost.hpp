// What an activation costs per element at inference (and in training), relative to relu(x) = 1.
//
// The model is AutoML-Zero's: a sum over the program's operations. One pass over the tensor (read x,
// write y) costs `pass`; every operation of the canonical expression adds its primitive's marginal cost
// (its time beyond that pass). Both are measured by calibrate() over a large float array and divided by
// the time of relu(x) in the same run, so relu(x) = pass + relu = 1: the inference table times the
// primitives as the exported C++ computes them (scalar loops over the C library's functions, compiled
// as g++ -O2 compiles an exported header: grammar's exported_kernel), the training table times them
// through the engine's evaluator (Program's vectorised forward and backward), which is what a search
// trains with.
// Leaves (x, constants, betas) are free. The tables are keyed by primitive name (OpInfo::name), so a
// table outlives changes to the Op enum; a primitive missing from a table costs the table's median.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "actsearch/grammar/expr.hpp"

namespace actsearch::cost {

struct Direction {
    double pass = 0;                      // one pass over the tensor, relative to relu(x)
    std::map<std::string, double> ops;    // primitive name -> marginal cost, relative to relu(x)
};

struct CostTable {
    std::string cpu;          // CPU model name of the machine it was measured on
    std::string source;       // "built-in" or "calibrated YYYY-MM-DD"
    Direction forward;        // inference: y = f(x)
    Direction backward;       // training: forward and backward (dx, dbeta), relative to relu's
    double relu_ns = 0, relu_training_ns = 0;   // CPU ns per element of relu(x) when measured (0: unknown)
};

// Measured on the development machine (2-core AMD EPYC Zen 5, shared) with `actsearch calibrate`.
const CostTable& default_table();

// The exponent of Op::Pow decides its cost. In training (the engine's evaluator) integer exponents are
// repeated multiplications, charged as that many `square` passes. At inference the exported code calls
// std::pow, which the compiler turns into a multiplication for the exponent 2 only (exactly; other
// integers need -ffast-math): x^2 costs a `square`, every other exponent the table's "pow" (measured at 2.5).
double op_cost(const Direction& d, const Node& n, bool training = false);

// Cost of f (forward) or of its training step (backward) relative to relu; canonicalises e first. At
// inference, operations that do not read x (beta*beta2, 1 - beta) are free: they are the same for every
// element of a channel, and a compiled activation computes them once (the exported C++ does). In
// training each is charged, as the engine's evaluator computes it per element.
double expr_cost(const Expr& e, const CostTable& t = default_table(), bool training = false);

struct CalibrationOptions {
    std::size_t elements = std::size_t{1} << 16;   // floats per pass: 256 KiB in and out, in L2
    int rounds = 7;                                // interleaved rounds; the median is kept
    double min_seconds = 2e-3;                     // per timing: passes repeated until this much CPU time
};

// Times every primitive, at inference as exported C++ and in training through Program, interleaved
// over rounds, in thread CPU time. `progress` (may be empty) is called with (done, total) after each round.
CostTable calibrate(const CalibrationOptions& o, const std::function<void(int, int)>& progress = {});

// "model name" of /proc/cpuinfo, or "unknown".
std::string cpu_name();

}  // namespace actsearch::cost
