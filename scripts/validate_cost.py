#!/usr/bin/env python3
"""Validates the cost model against measured time of the exported C++ functions.

For 50 random valid paper-core1 candidates plus well-known activations: the model's cost
(`actsearch parse --json`: built-in table, relative to relu) against the CPU time per element of the
function exported by `actsearch export --format cpp`, compiled with g++ -O2 -march=native and run over a
large float array (median over interleaved rounds, thread CPU time). Reports Spearman's rho for the
forward function (inference cost) and for its _grad (training cost), and writes a markdown table.
"""
import argparse
import datetime
import json
import os
import random
import re
import subprocess
import sys
import tempfile

from rank_stats import spearman

NAMED = ["relu(x)", "x*sigmoid(x)", "x*sigmoid(beta*x)", "hard_swish(x)", "gelu(x)", "mish(x)", "elu(x)",
         "selu(x)", "softplus(x)", "tanh(x)", "sigmoid(x)", "hard_sigmoid(x)", "leaky_relu(x)", "relu6(x)",
         "x", "softsign(x)", "x*tanh(softplus(x))", "x*erf(x)"]

HARNESS = r"""
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>
using Fn = void (*)(const float*, float*, std::size_t);
float g_beta[8];
%(decls)s
static const Fn fwd[] = {%(fwd)s};
static const Fn grad[] = {%(grad)s};
static double now() { timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static double time_one(Fn f, const float* x, float* y, std::size_t n, double min_s) {
    long passes = 0; double t0 = now(), t = t0;
    do { f(x, y, n); ++passes; t = now(); } while (t - t0 < min_s);
    return (t - t0) / passes / n * 1e9;
}
int main(int argc, char** argv) {
    const std::size_t n = std::atol(argv[1]); const int rounds = std::atoi(argv[2]); const double min_s = std::atof(argv[3]);
    for (float& b : g_beta) b = std::atof(argv[4]);   // 1: every beta at its default
    std::vector<float> x(n), y(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = -4.0f + 8.0f * float((i * 2654435761u) %% 10007) / 10006.0f;
    const int k = sizeof(fwd) / sizeof(fwd[0]);
    std::vector<std::vector<double>> tf(k), tg(k);
    for (int r = 0; r < rounds; ++r)
        for (int i = 0; i < k; ++i) { tf[i].push_back(time_one(fwd[i], x.data(), y.data(), n, min_s));
                                      tg[i].push_back(time_one(grad[i], x.data(), y.data(), n, min_s)); }
    for (int i = 0; i < k; ++i) {
        std::sort(tf[i].begin(), tf[i].end()); std::sort(tg[i].begin(), tg[i].end());
        std::printf("%%d %%.6f %%.6f\n", i, tf[i][rounds / 2], tg[i][rounds / 2]);
    }
}
"""

# The betas are read at run time (as a network's trained, per-channel values are), so the compiler cannot
# fold them into constants; being the same for every element, what depends only on them is hoisted out
# of the loop, as in any compiled activation layer.
UNIT = r"""
#include <cstddef>
#include "f%(i)d.hpp"
extern float g_beta[8];
void run_f%(i)d(const float* x, float* y, std::size_t n) {
    %(locals)s
    for (std::size_t i = 0; i < n; ++i) y[i] = actsearch_export::f%(i)d(x[i]%(betas)s);
}
void run_g%(i)d(const float* x, float* y, std::size_t n) {
    %(locals)s
    float db[%(nb1)d];
    for (std::size_t i = 0; i < n; ++i) y[i] = actsearch_export::f%(i)d_grad(x[i]%(betas)s, %(dbarg)s);
}
"""


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", default="build/actsearch")
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--elements", type=int, default=1 << 16)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--min-ms", type=float, default=2.0)
    ap.add_argument("--cxx", default="g++")
    ap.add_argument("-o", "--output", default="scripts/results/cost-validation.md")
    a = ap.parse_args()

    listing = run([a.binary, "space", "--space", "paper-core1", "--list", "6250"])
    space = [line.split(None, 1)[1] for line in listing.splitlines() if line[:8].strip().isdigit()]
    rng = random.Random(a.seed)
    rng.shuffle(space)
    cands, seen = [], set()
    for e in NAMED + space:
        if len([c for c in cands if c["origin"] == "paper-core1"]) >= a.count and e not in NAMED:
            break
        # parse --json prints non-finite samples as bare nan/inf (not JSON): read them as null.
        text = re.sub(r'(?<=[:\s\[,])-?(nan|inf)\b', 'null', run([a.binary, "parse", "--format", "json", "--", e]))
        info = json.loads(text)
        if not info["valid"] or info["canonical"] in seen:
            continue
        seen.add(info["canonical"])
        info["origin"] = "named" if e in NAMED else "paper-core1"
        cands.append(info)

    with tempfile.TemporaryDirectory() as tmp:
        units = []
        for i, c in enumerate(cands):
            hpp = os.path.join(tmp, f"f{i}.hpp")
            run([a.binary, "export", "--format", "cpp", "--name", f"f{i}", "-o", hpp, "--", c["canonical"]])
            nb = c["betas"]
            src = os.path.join(tmp, f"f{i}.cpp")
            with open(src, "w") as f:
                f.write(UNIT % {"i": i, "locals": " ".join(f"const float b{k} = g_beta[{k}];" for k in range(nb)),
                                "betas": "".join(f", b{k}" for k in range(nb)), "nb1": nb + 1,
                                "dbarg": "db" if nb else "static_cast<float*>(nullptr)"})
            units.append(src)
        decls = "\n".join(f"void run_f{i}(const float*, float*, std::size_t); "
                          f"void run_g{i}(const float*, float*, std::size_t);" for i in range(len(cands)))
        main_cpp = os.path.join(tmp, "main.cpp")
        with open(main_cpp, "w") as f:
            f.write(HARNESS % {"decls": decls, "fwd": ", ".join(f"run_f{i}" for i in range(len(cands))),
                               "grad": ", ".join(f"run_g{i}" for i in range(len(cands)))})
        flags = ["-O2", "-march=native", "-std=c++17", "-w"]
        objs = []
        procs = []
        for src in units + [main_cpp]:
            obj = src[:-4] + ".o"
            procs.append(subprocess.Popen([a.cxx, *flags, "-I", tmp, "-c", src, "-o", obj]))
            objs.append(obj)
            if len(procs) >= 2:
                if procs.pop(0).wait() != 0:
                    sys.exit("compile failed")
        for p in procs:
            if p.wait() != 0:
                sys.exit("compile failed")
        exe = os.path.join(tmp, "bench")
        run([a.cxx, *objs, "-o", exe])
        out = run([exe, str(a.elements), str(a.rounds), str(a.min_ms / 1000), "1"])
    for line in out.splitlines():
        i, tf, tg = line.split()
        cands[int(i)]["ns"], cands[int(i)]["ns_grad"] = float(tf), float(tg)

    rho_f = spearman([c["cost"] for c in cands], [c["ns"] for c in cands])
    rho_g = spearman([c["training_cost"] for c in cands], [c["ns_grad"] for c in cands])
    relu_ns = next(c["ns"] for c in cands if c["canonical"] == "max(x, 0)" or c["canonical"].startswith("relu"))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
    lines = [f"# Cost model validation", "",
             f"`python3 scripts/validate_cost.py` ({datetime.date.today()}, {cpu}, {os.cpu_count()} cores, shared; "
             f"{len(cands)} candidates: {sum(c['origin'] == 'named' for c in cands)} named, "
             f"{sum(c['origin'] == 'paper-core1' for c in cands)} random valid paper-core1 (seed {a.seed}); "
             f"{a.elements} floats, median of {a.rounds} interleaved rounds of thread CPU time, "
             f"{a.cxx} -O2 -march=native).", "",
             f"- **Spearman, model cost vs measured ns/element of the exported function: {rho_f:.3f}**",
             f"- Spearman, model training cost vs measured ns/element of the exported _grad: {rho_g:.3f}", "",
             "| expression | origin | model cost | measured ns/elt | measured / relu | model training | _grad ns/elt |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for c in sorted(cands, key=lambda c: c["cost"]):
        lines.append(f"| `{c['canonical']}` | {c['origin']} | {c['cost']:.2f} | {c['ns']:.3f} | "
                     f"{c['ns'] / relu_ns:.2f} | {c['training_cost']:.2f} | {c['ns_grad']:.3f} |")
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(a.output) or ".", exist_ok=True)
    with open(a.output, "w") as f:
        f.write(text)
    print(text)
    print(f"spearman forward {rho_f:.3f}, training {rho_g:.3f}")


if __name__ == "__main__":
    main()
