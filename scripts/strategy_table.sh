#!/usr/bin/env bash
# The table the strategy benchmark replays (scripts/bench_strategies.sh): every candidate of paper-core1
# trained on the screen task fmnist-cnn14 with 3 seeds, so that a candidate's reward is a mean over
# seeds and the top 1% is less a matter of one training run's luck (issue 13). The rediscovery run
# (scripts/rediscovery.sh) already trained seed 0 of every candidate on the same task and fidelity:
# when its database is there, the table starts as a copy of it and only seeds 1 and 2 are trained.
# Resumable: run it again after an interruption. About 45 minutes of 2 quiet cores (7,500 trainings at
# ~0.37 CPU-s).
# Usage: bash scripts/strategy_table.sh [--threads N]
# Output: scripts/results/paper-core1-fmnist-cnn14-3seeds.{db,log}
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2
while (($#)); do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    *) echo "strategy_table: unknown option $1 (use --threads N)" >&2; exit 2 ;;
  esac
done
bin=${ACTSEARCH:-build/actsearch}
db=scripts/results/paper-core1-fmnist-cnn14-3seeds.db
log=scripts/results/paper-core1-fmnist-cnn14-3seeds.log
if [ ! -e "$db" ] && [ -e scripts/results/rediscovery-paper-core1.db ]; then
  sqlite3 scripts/results/rediscovery-paper-core1.db ".backup '$db'"
  echo "== started from a copy of rediscovery-paper-core1.db (seed 0 of every candidate on fmnist-cnn14)" | tee -a "$log"
fi
echo "== strategy table $(date -u +%FT%TZ) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $threads threads" | tee -a "$log"
/usr/bin/time -f "search: %e s wall, %U s user, %S s system" \
  "$bin" search --space paper-core1 --strategy exhaustive --budget 0 --task fmnist-cnn14 --seeds 3 --promote 0 \
    --threads "$threads" --db "$db" --top 10 2>&1 | tee -a "$log"
