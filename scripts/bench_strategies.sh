#!/usr/bin/env bash
# Which strategy finds good activation functions sooner? Replays every strategy many times on a table
# task built from an earlier exhaustive run (no training: scores are looked up), then reports, per
# strategy, the evaluations needed to first find a top-1% candidate and the best score found after 5%,
# 10% and 25% of the space.
#
# Usage: scripts/bench_strategies.sh TABLE.db [--space paper-core1] [--seeds 20] [--strategies "..."]
# TABLE.db: a database holding an exhaustive run of the space (scripts/run_exhaustive.sh makes one).
set -euo pipefail
cd "$(dirname "$0")/.."
table=${1:?usage: scripts/bench_strategies.sh TABLE.db [--space S] [--seeds N] [--strategies LIST]}
shift
space=paper-core1 seeds=20 strategies="exhaustive random evolution rl"
while (($#)); do
  case "$1" in
    --space) space=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --strategies) strategies=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin=build/actsearch
[ -x "$bin" ] || { echo "build first: bash scripts/setup.sh" >&2; exit 1; }
table=$(realpath "$table")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The space's size, as the table knows it: candidates with at least one ok score.
size=$(sqlite3 "$table" "SELECT COUNT(DISTINCT candidate) FROM evaluations WHERE status='ok'")
budget=$(( (size + 3) / 4 ))
echo "# Strategy benchmark: $space, table $(basename "$table") ($size scored candidates), budget $budget (25%), $seeds seeds"
echo "# $(date -u +%Y-%m-%d) on $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
echo "# command: scripts/bench_strategies.sh $(basename "$table") --space $space --seeds $seeds"
start=$(date +%s)
for s in $strategies; do
  for ((k = 1; k <= seeds; k++)); do
    "$bin" search --space "$space" --strategy "$s" --task "table:$table" --seed "$k" --budget "$budget" \
      --promote 0 --threads 1 --quiet --db "$work/$s-$k.db"
  done
  echo "# $s: $seeds runs done ($(( $(date +%s) - start )) s)" >&2
done
/usr/bin/python3 scripts/strategy_report.py "$table" "$work" "$size" $strategies
