#!/usr/bin/env bash
# The scale test of issue 13: on paper-core2 (two core units, 1.6e8 raw candidates, where the paper's RL
# was meant to beat random search), each strategy searches with the same budget of trained candidates
# on the screen task fmnist-cnn14 (1 seed), RUNS times with seeds 1..RUNS, each run in its own database
# (so no run reuses another's training). scripts/scale_core2_table.py then reports best found and the
# top-10 mean per strategy, with the spread over runs.
# Resumable: an interrupted run continues when the script is run again.
# Usage: bash scripts/scale_core2.sh [--budget 2000] [--runs 3] [--threads 2] [--strategies "random evolution rl surrogate"]
# Output: scripts/results/scale-core2/<strategy>-<seed>.db and scale-core2.log
set -euo pipefail
cd "$(dirname "$0")/.."
budget=2000 runs=3 threads=2 strategies="random evolution rl surrogate"
while (($#)); do
  case "$1" in
    --budget) budget=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --strategies) strategies=$2; shift 2 ;;
    *) echo "scale_core2: unknown option $1" >&2; exit 2 ;;
  esac
done
bin=${ACTSEARCH:-build/actsearch}
out=scripts/results/scale-core2
mkdir -p "$out"
log=$out/scale-core2.log
echo "== scale test $(date -u +%FT%TZ) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs): budget $budget, $runs runs, $threads threads" | tee -a "$log"
# Runs interleaved by seed, so that a run cut short leaves every strategy with the same number of runs.
for ((seed = 1; seed <= runs; seed++)); do
  for s in $strategies; do
    # A failed run is reported and the others go on.
    /usr/bin/time -f "$s seed $seed: %e s wall, %U s user" \
      "$bin" search --space paper-core2 --strategy "$s" --task fmnist-cnn14 --seeds 1 --promote 0 --seed "$seed" \
        --budget "$budget" --threads "$threads" --quiet --db "$out/$s-$seed.db" 2>&1 | tail -n 3 | tee -a "$log" ||
      echo "FAILED: $s seed $seed" | tee -a "$log"
  done
done
