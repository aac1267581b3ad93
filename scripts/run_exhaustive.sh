#!/usr/bin/env bash
# The README's exhaustive run: every functionally unique candidate of a space trained on a proxy task,
# plus relu, swish and hard_swish evaluated the same way for reference; then a report.
# Resumable: run it again after an interruption and it carries on.
# Usage: scripts/run_exhaustive.sh [--space paper-core1] [--task fmnist-mlp] [--db FILE] [--threads N]
set -euo pipefail
cd "$(dirname "$0")/.."
space=paper-core1 task=fmnist-mlp db="" threads=$(nproc)
while (($#)); do
  case "$1" in
    --space) space=$2; shift 2 ;;
    --task) task=$2; shift 2 ;;
    --db) db=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
db=${db:-scripts/results/$space-$task.db}
mkdir -p "$(dirname "$db")"
bin=build/actsearch
[ -x "$bin" ] || { echo "build first: bash scripts/setup.sh" >&2; exit 1; }
echo "# exhaustive $space on $task, $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $threads threads"
/usr/bin/time -f "# wall %e s" "$bin" search --space "$space" --strategy exhaustive --task "$task" --budget 0 \
  --promote 0 --threads "$threads" --db "$db" --top 10
for f in 'relu(x)' 'x*sigmoid(x)' 'x*sigmoid(beta*x)' 'hard_swish(x)'; do
  "$bin" eval "$f" --task "$task" --seeds 1 --seed 0 --threads "$threads" --db "$db" > /dev/null
done
/usr/bin/python3 scripts/exhaustive_report.py "$db" "$task"
