#!/usr/bin/env bash
# Throughput of one search over 1, 2 and 4 MPI ranks on this machine (fmnist-mlp, candidates per
# minute). Rank 0 only coordinates; every other rank trains with its share of the cores.
# Usage: scripts/bench_mpi.sh [--budget 60] [--ranks "1 2 4"]
set -euo pipefail
cd "$(dirname "$0")/.."
budget=60 ranks="1 2 4"
while (($#)); do
  case "$1" in
    --budget) budget=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin=build/actsearch
[ -x "$bin" ] || { echo "build first: bash scripts/setup.sh" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "# MPI scaling: random search of paper-core1 on fmnist-mlp, $budget trained candidates per run"
echo "# $(date -u +%Y-%m-%d) on $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; command: scripts/bench_mpi.sh --budget $budget"
echo
echo "| ranks | launch | training ranks x threads | wall (s) | trained | candidates / min |"
echo "|---|---|---|---|---|---|"
for n in $ranks; do
  db="$work/r$n.db"
  args=(search --space paper-core1 --strategy random --task fmnist-mlp --budget "$budget" --promote 0 --quiet --db "$db")
  start=$(date +%s.%N)
  if [ "$n" = 1 ]; then
    "$bin" "${args[@]}"
    layout="1 x $(nproc)"; launch="no mpirun"
  else
    mpirun --oversubscribe -np "$n" "$bin" "${args[@]}"
    layout="$((n - 1)) x $(( $(nproc) / n > 0 ? $(nproc) / n : 1 ))"; launch="mpirun -np $n"
  fi
  end=$(date +%s.%N)
  trained=$(sqlite3 "$db" "SELECT COUNT(DISTINCT candidate) FROM evaluations WHERE status != 'invalid'")
  awk -v n="$n" -v l="$launch" -v lay="$layout" -v s="$start" -v e="$end" -v t="$trained" \
    'BEGIN { w = e - s; printf "| %s | %s | %s | %.1f | %d | %.1f |\n", n, l, lay, w, t, 60 * t / w }'
done
