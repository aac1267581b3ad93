#!/usr/bin/env bash
# bf16 convolutions against fp32 on the judge recipe (fmnist-cnn, cnn-cos-recal): the 16 reference
# functions with the same seeds in both precisions (`actsearch fidelity`, evaluations stored in
# scripts/results/fidelity.db, so re-running reuses them), then the CPU time of one seed in each
# precision, interleaved, one thread. Summarised by scripts/bf16_fidelity.py into
# scripts/results/bf16/summary.md.
# Usage: bash scripts/bf16_fidelity.sh [--seeds 5] [--threads 2] [--rounds 2]
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=5 threads=2 rounds=2
while (($#)); do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "bf16_fidelity: unknown option $1" >&2; exit 2 ;;
  esac
done
bin=${ACTSEARCH:-build/actsearch}
out=scripts/results/bf16
mkdir -p "$out"
judge=(--task fmnist-cnn --steps 200 --lr 0.1 --schedule cosine --warmup 20 --wd 0 --clip 5 --recal 20)
for p in fp32 bf16; do
  echo "== fidelity, $p, seeds $seeds, threads $threads $(date -u +%FT%TZ)" >&2
  "$bin" fidelity "${judge[@]}" --precision "$p" --seeds "$seeds" --threads "$threads" \
    --db scripts/results/fidelity.db --format json > "$out/$p.json.tmp"
  mv "$out/$p.json.tmp" "$out/$p.json"
done
# CPU seconds of one seed (training and validation, data loading included: the same in both), interleaved.
echo "== timing, $rounds rounds $(date -u +%FT%TZ)" >&2
: > "$out/timing.csv.tmp"
for r in $(seq 1 "$rounds"); do
  for e in 'relu(x)' 'x*sigmoid(beta*x)' 'cos(x) - x' 'hard_swish(x)'; do
    for p in fp32 bf16; do
      t=$( { /usr/bin/time -f '%U %S' "$bin" eval "${judge[@]}" --precision "$p" --seeds 1 --threads 1 --no-db \
               --format csv -- "$e" > /dev/null; } 2>&1 | tail -1 )
      echo "$r,$e,$p,$t" >> "$out/timing.csv.tmp"
    done
  done
done
mv "$out/timing.csv.tmp" "$out/timing.csv"
python3 scripts/bf16_fidelity.py "$out" | tee "$out/summary.md"
