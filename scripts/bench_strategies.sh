#!/usr/bin/env bash
# Which strategy finds good activation functions sooner? Replays every strategy many times on a table
# task built from an earlier exhaustive run (no training: scores are looked up), then reports, per
# strategy, the evaluations needed to first find a top-1% and a top-0.1% candidate (median and IQR over
# seeds), the best score found after 5%, 10% and 25% of the space, and regret curves as an SVG.
#
# Usage: scripts/bench_strategies.sh TABLE.db [--space paper-core1] [--seeds 20] [--strategies "..."]
#                                    [--svg FILE]
# TABLE.db: a database holding an exhaustive run of the space (scripts/run_exhaustive.sh makes one; with
# --seeds N each candidate's reward is its mean over the N seeds).
# The markdown goes to stdout; the SVG to FILE (default: scripts/results/strategies-<table name>.svg).
set -euo pipefail
cd "$(dirname "$0")/.."
table=${1:?usage: scripts/bench_strategies.sh TABLE.db [--space S] [--seeds N] [--strategies LIST] [--svg FILE]}
shift
space=paper-core1 seeds=20 strategies="exhaustive random evolution rl surrogate"
svg=scripts/results/strategies-$(basename "${table%.db}").svg
while (($#)); do
  case "$1" in
    --space) space=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --strategies) strategies=$2; shift 2 ;;
    --svg) svg=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin=build/actsearch
[ -x "$bin" ] || { echo "build first: bash scripts/setup.sh" >&2; exit 1; }
table=$(realpath "$table")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The space's size, as the table knows it: the functionally unique candidates that were trained (ok or
# diverged; invalid ones cost nothing and are not counted).
# (on the task and fidelity the table task replays: the one with the most scored candidates)
size=$(sqlite3 "$table" "SELECT COUNT(DISTINCT candidate) FROM evaluations WHERE status IN ('ok', 'diverged')
                         AND task NOT LIKE 'table:%' GROUP BY task, fidelity ORDER BY 1 DESC LIMIT 1")
budget=$(( (size + 3) / 4 ))
echo "# Strategy benchmark: $space, table $(basename "$table") ($size scored candidates), budget $budget (25%), $seeds seeds"
echo "# $(date -u +%Y-%m-%d) on $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
echo "# command: scripts/bench_strategies.sh $(basename "$table") --space $space --seeds $seeds"
start=$(date +%s)
# One single-threaded run per (strategy, seed), as many at once as there are cores.
for s in $strategies; do
  for ((k = 1; k <= seeds; k++)); do echo "$s $k"; done
done | xargs -P "$(nproc)" -L 1 sh -c '"$0" search --space "$1" --strategy "$5" --task "table:$2" --seed "$6" \
    --budget "$3" --promote 0 --threads 1 --quiet --db "$4/$5-$6.db"' "$bin" "$space" "$table" "$budget" "$work"
echo "# $(( $(date +%s) - start )) s for all runs" >&2
/usr/bin/python3 scripts/strategy_report.py "$table" "$work" "$size" "$svg" $strategies
