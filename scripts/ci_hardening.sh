#!/usr/bin/env bash
# CI's hardening job, run by .ci/run after the README's test command:
#   1. builds the project with clang, -fsanitize=address,undefined (every report is fatal) and the
#      libFuzzer targets, in build-hardening/ (ccache), and runs the fast tests there: numeric, grammar,
#      db, search and the CLI tests that train nothing long (the engine's training tests, the killed and
#      resumed searches and MPI stay in the plain build's ctest);
#   2. runs each fuzzer for FUZZ_SECONDS (default 60) from its seed corpus in tests/fuzz/corpus/<target>.
# Every test program and fuzzer runs; any failure fails the job. A fuzzer's finding is saved as
# build-hardening/fuzz/<target>/crash-* (rerun it with `build-hardening/tests/fuzz/fuzz_<target> FILE`).
# Usage: bash scripts/ci_hardening.sh [--no-fuzz] [--no-tests]
set -euo pipefail
cd "$(dirname "$0")/.."

run_tests=1
run_fuzz=1
for arg in "$@"; do
  case "$arg" in
    --no-fuzz) run_fuzz=0 ;;
    --no-tests) run_tests=0 ;;
    *) echo "hardening: unknown option $arg (use --no-fuzz or --no-tests)" >&2; exit 2 ;;
  esac
done

start=$SECONDS
say() { echo "hardening [$((SECONDS - start))s]: $*"; }

# clang (libFuzzer and the sanitizer runtimes) and its OpenMP, on top of scripts/setup.sh's packages.
. scripts/lib/packages.sh
ensure_packages hardening clang libomp-dev libclang-rt-dev ccache

build=build-hardening
export CCACHE_BASEDIR="$PWD"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.ccache}"
mkdir -p "$build"
say "configuring $build (clang, address and undefined-behaviour sanitizers, fuzzers)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DACTSEARCH_SANITIZE=ON -DACTSEARCH_FUZZ=ON -DACTSEARCH_MPI=OFF \
  -DACTSEARCH_BUILD_BENCHMARKS=OFF > "$build/build.log" 2>&1 || { cat "$build/build.log"; exit 1; }

targets=(fuzz_expr fuzz_space fuzz_task)
((run_tests)) && targets+=(actsearch test_numeric test_grammar test_db test_search test_cli)
say "building ${targets[*]} (log: $build/build.log)"
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >> "$build/build.log" 2>&1 \
  || { tail -n 60 "$build/build.log"; echo "hardening: build failed (full log: $build/build.log)" >&2; exit 1; }

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

failed=()
if ((run_tests)); then
  # The CLI tests that run long searches (every strategy killed and resumed, SIGINT and resume; MPI is
  # not built here) would take most of an hour with the sanitizers; the plain build's ctest runs them.
  cli_filter="-Strategies/KillResume.*:Mpi.*:Cli.SigintMarksInterruptedAndResumes"
  for t in numeric grammar db search cli; do
    filter="*"
    [ "$t" = cli ] && filter="$cli_filter"
    say "test_$t --gtest_filter=$filter"
    if "$build/tests/test_$t" --gtest_filter="$filter" --gtest_brief=1 > "$build/test_$t.log" 2>&1; then
      tail -n 1 "$build/test_$t.log"
    else
      tail -n 80 "$build/test_$t.log"
      echo "hardening: test_$t failed (full log: $build/test_$t.log)" >&2
      failed+=("test_$t")
    fi
  done
fi

if ((run_fuzz)); then
  seconds="${FUZZ_SECONDS:-60}"
  for target in expr space task; do
    work="$build/fuzz/$target"
    rm -rf "$work" && mkdir -p "$work/corpus"
    cp tests/fuzz/corpus/"$target"/* "$work/corpus/"
    say "fuzz_$target for ${seconds}s"
    if "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
         -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" > "$work/log" 2>&1; then
      grep -a "^Done" "$work/log" | tail -n 1
    else
      grep -av "# Uses:" "$work/log" | tail -n 60
      echo "hardening: fuzz_$target found a problem; input: $(ls "$work"/crash-* "$work"/timeout-* "$work"/oom-* "$work"/leak-* 2>/dev/null | head -n 1)" >&2
      failed+=("fuzz_$target")
    fi
  done
fi
if ((${#failed[@]})); then
  say "FAILED: ${failed[*]}"
  exit 1
fi
say "passed"
