#!/usr/bin/env bash
# Measures proxy recipes with `actsearch fidelity`: for each recipe, the Spearman correlation of its
# ranking of the 16 reference functions with the Swish paper's CIFAR-10 results (bootstrap 95%
# interval), the median per-seed standard deviation, the diverged share and the CPU time per
# candidate-seed. Results go to scripts/results/fidelity/<name>.json and the evaluations to
# scripts/results/fidelity.db (re-running reuses them). Summarise with scripts/fidelity_table.py.
# Usage: bash scripts/fidelity_sweep.sh [--threads N] [--seeds K] NAME... (names: see the recipes below)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2
seeds=3
bin=${ACTSEARCH:-build/actsearch}
names=()
while (($#)); do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    *) names+=("$1"); shift ;;
  esac
done

declare -A recipe=(
  # The original recipes (v0.1 defaults).
  [mlp-v01]="--task fmnist-mlp --steps 400 --lr 0.05 --schedule constant --warmup 0 --wd 0 --clip 0 --recal 0"
  [cnn-v01]="--task fmnist-cnn --steps 200 --lr 0.05 --schedule constant --warmup 0 --wd 0 --clip 0 --recal 0"
  # The CNN with batch-norm statistics recalibrated over 20 training batches after training.
  [cnn-recal]="--task fmnist-cnn --steps 200 --lr 0.05 --schedule constant --warmup 0 --wd 0 --clip 0 --recal 20"
  [cnn-cos-recal]="--task fmnist-cnn --steps 200 --lr 0.1 --schedule cosine --warmup 20 --wd 0 --clip 5 --recal 20"
  [cnn-cos-recal-400]="--task fmnist-cnn --steps 400 --lr 0.1 --schedule cosine --warmup 20 --wd 0 --clip 5 --recal 20"
  [cnn-w8-recal]="--task fmnist-cnn --steps 100 --width 8 --batch 64 --lr 0.1 --schedule cosine --warmup 10 --wd 0 --clip 5 --recal 10"
  # Screen candidates: a small CNN on 14x14 images (average-pooled 2x2), batch norm recalibrated.
  [cnn14-w8]="--task fmnist-cnn --downsample 2 --width 8 --steps 100 --batch 64 --lr 0.1 --schedule cosine --warmup 10 --wd 0 --clip 5 --recal 10"
  [cnn14-w8-s60]="--task fmnist-cnn --downsample 2 --width 8 --steps 60 --batch 64 --lr 0.1 --schedule cosine --warmup 6 --wd 0 --clip 5 --recal 10"
  [mlp-cos-clip]="--task fmnist-mlp --steps 400 --lr 0.05 --schedule cosine --warmup 20 --wd 0 --clip 5 --recal 0"
  [mlp-cos-clip-lr02]="--task fmnist-mlp --steps 400 --lr 0.02 --schedule cosine --warmup 20 --wd 0 --clip 5 --recal 0"
)

for name in "${names[@]}"; do
  args=${recipe[$name]:-}
  if [ -z "$args" ]; then echo "fidelity_sweep: unknown recipe $name (known: ${!recipe[*]})" >&2; exit 2; fi
  echo "== $name: $args (seeds $seeds, threads $threads) $(date -u +%FT%TZ)"
  # shellcheck disable=SC2086
  "$bin" fidelity $args --seeds "$seeds" --threads "$threads" --db scripts/results/fidelity.db --format json \
    > "scripts/results/fidelity/$name.json.tmp"
  mv "scripts/results/fidelity/$name.json.tmp" "scripts/results/fidelity/$name.json"
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sys.argv[2], 'rho', d['spearman'], d['spearman_ci95'], 'std', d['median_seed_std'], 'div', d['diverged_share'], 'cpu', d['cpu_seconds_per_eval'])" \
    "scripts/results/fidelity/$name.json" "$name"
done
