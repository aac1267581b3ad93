#!/usr/bin/env bash
# Builds tests/bench/bench_evaluator.cpp (Release, -march=native) in build-bench/ and compares the compiled
# evaluator with hand-written fused loops: forward + backward on a [128 x 128] activation tensor.
# Prints the machine, the command, Google Benchmark's aggregates and a table of
# ratio = hand-written time / actsearch time (above 1: actsearch is faster), from median CPU time:
# on a shared machine wall time also counts the waits for a core.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${repo}/build-bench"
jobs="${JOBS:-2}"

mkdir -p "${build}"
cmake -S "${repo}" -B "${build}" -DCMAKE_BUILD_TYPE=Release -DACTSEARCH_NATIVE=ON \
      -DACTSEARCH_BUILD_BENCHMARKS=ON -DACTSEARCH_BUILD_TESTS=ON > "${build}/configure.log" 2>&1 \
    || { echo "error: configure failed, see ${build}/configure.log" >&2; exit 1; }
cmake --build "${build}" --target bench_evaluator -j "${jobs}" > "${build}/build.log" 2>&1 \
    || { echo "error: build failed, see ${build}/build.log" >&2; exit 1; }

binary="$(find "${build}" -type f -name bench_evaluator -perm -u+x | head -n 1)"
command=("${binary}" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true "$@")

echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cpu:     $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
echo "command: ${command[*]}"
echo

json="$(mktemp)"
trap 'rm -f "${json}"' EXIT
"${command[@]}" --benchmark_out="${json}" --benchmark_out_format=json

echo
python3 - "${json}" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
median = {r["run_name"]: r["cpu_time"] for r in runs if r.get("aggregate_name") == "median"}
print(f"{'function':<12} {'hand-written ns':>16} {'actsearch ns':>14} {'ratio hand/actsearch':>22}   (median CPU time)")
for name in ("relu", "swish_beta", "hard_swish", "two_unit", "sin", "cos_minus_x"):
    hand, ours = median.get(f"BM_{name}_handwritten"), median.get(f"BM_{name}_actsearch")
    if hand and ours:
        print(f"{name:<12} {hand:>16.0f} {ours:>14.0f} {hand / ours:>22.2f}")
PY
