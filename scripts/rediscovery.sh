#!/usr/bin/env bash
# Rediscovery, the end-to-end check of the fidelity ladder: every candidate of the Swish paper's
# one-core-unit space (paper-core1) is screened on fmnist-cnn14 with 1 seed (as the default search
# does); the best 5% move up to the judge fmnist-cnn with 2 seeds as their screen results arrive (ASHA),
# and the best 10 of those get 5 seeds. Then the paper's published top functions of this space (and
# relu) are evaluated on both tasks with the same seeds, and scripts/rediscovery_table.py says where
# they land.
# Resumable: run the same command again after an interruption and it continues where it stopped.
# Usage: bash scripts/rediscovery.sh [--threads N]      (about an hour of 2 quiet cores)
# Output: scripts/results/rediscovery-paper-core1.{db,log,md}
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2
while (($#)); do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    *) echo "rediscovery: unknown option $1 (use --threads N)" >&2; exit 2 ;;
  esac
done
bin=${ACTSEARCH:-build/actsearch}
db=scripts/results/rediscovery-paper-core1.db
log=scripts/results/rediscovery-paper-core1.log

echo "== rediscovery $(date -u +%FT%TZ) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $threads threads" | tee -a "$log"
/usr/bin/time -f "search: %e s wall, %U s user, %S s system" \
  "$bin" search --space paper-core1 --strategy exhaustive --budget 0 --threads "$threads" --db "$db" --top 10 \
    --rung fmnist-cnn14:seeds=1 --rung fmnist-cnn:seeds=2,keep=0.05 --rung fmnist-cnn:seeds=5,keep=10 2>&1 | tee -a "$log"

# The paper's top functions from this space (Table 2 of Ramachandran et al. 2017) and relu, on the
# screen (1 seed) and the judge (5 seeds): stored in the same database, reused when already trained.
functions=('x*sigmoid(beta*x)' 'max(x, sigmoid(x))' 'cos(x) - x' 'min(x, sin(x))' 'atan(x)^2 - x'
           'max(x, tanh(x))' 'x*sigmoid(x)' 'relu(x)')
for f in "${functions[@]}"; do
  "$bin" eval "$f" --task fmnist-cnn14 --seeds 1 --threads "$threads" --db "$db" --format csv > /dev/null
  "$bin" eval "$f" --task fmnist-cnn --seeds 5 --threads "$threads" --db "$db" --format csv > /dev/null
done
python3 scripts/rediscovery_table.py "$db" "${functions[@]}" | tee scripts/results/rediscovery-paper-core1.md
