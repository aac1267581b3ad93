#!/usr/bin/env bash
# The cost side of a search's results (issue 11): the score/cost Pareto front of the exhaustive
# paper-core1 table on the screen fmnist-cnn14 (3 seeds per candidate, scripts/strategy_table.sh), with
# the judge's scores where the rediscovery run trained them, and the hardened twins of the table's best
# functions and of Swish, each trained on the screen with the same 3 seeds, with its error and cost.
# Works on a copy of the table (the twins are not candidates of the space and must not enter the
# strategy benchmark's table).
# Usage: bash scripts/pareto_twins.sh [--top 5] [--threads 2]
# Output: scripts/results/pareto-twins.{db,md,svg}
set -euo pipefail
cd "$(dirname "$0")/.."
top=5 threads=2
while (($#)); do
  case "$1" in
    --top) top=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "pareto_twins: unknown option $1" >&2; exit 2 ;;
  esac
done
bin=${ACTSEARCH:-build/actsearch}
table=scripts/results/paper-core1-fmnist-cnn14-3seeds.db
db=scripts/results/pareto-twins.db
md=scripts/results/pareto-twins.md
[ -e "$table" ] || { echo "pareto_twins: run scripts/strategy_table.sh first ($table is missing)" >&2; exit 1; }
[ -e "$db" ] || sqlite3 "$table" ".backup '$db'"

# The best `top` of the screen by their mean over the 3 seeds (in the table: no twin of an earlier run of
# this script among them), and Swish.
mapfile -t origins < <("$bin" leaderboard --db "$table" --task fmnist-cnn14 --min-seeds 3 --top "$top" --format csv |
                        python3 -c 'import csv, sys; [print(r["expression"]) for r in csv.DictReader(sys.stdin)]')
origins+=('x*sigmoid(x)')
twins=$md.twins.tmp
{
  echo "| origin | origin score | origin cost | twin | method | max error | twin score | twin cost |"
  echo "|---|---|---:|---|---|---:|---|---:|"
} > "$twins"
score() {   # mean +- sample std over seeds 0-2 (a diverged seed counts 0, as a search's reward does)
  "$bin" eval --task fmnist-cnn14 --seeds 3 --threads "$threads" --db "$db" --format csv -- "$1" | python3 -c '
import csv, statistics, sys
rows = list(csv.DictReader(sys.stdin))
v = [float(r["val_acc"]) if r["status"] == "ok" else 0.0 for r in rows]
d = sum(r["status"] == "diverged" for r in rows)
print(f"{statistics.mean(v):.4f} +- {statistics.stdev(v):.4f}" + (f" ({d} diverged)" if d else ""))'
}
for o in "${origins[@]}"; do
  origin_score=$(score "$o")
  "$bin" harden --db "$db" --format json -- "$o" > /tmp/pareto_twins.$$.json
  python3 - "$o" "$origin_score" /tmp/pareto_twins.$$.json <<'PY' > /tmp/pareto_twins.$$.rows
import json, sys
origin, origin_score, path = sys.argv[1:4]
h = json.load(open(path))
# What search --harden-top trains (harden marks them).
for t in h["twins"]:
    if t["harden_top"]:
        print(f'{h["cost"]:.2f}\t{t["expr"]}\t{t["method"]}\t{t["max_error"]:.3f}\t{t["cost"]:.2f}')
if not any(t["harden_top"] for t in h["twins"]):
    fits = [t for t in h["twins"] if t["cost"] < h["cost"]]
    best = min(fits, key=lambda t: t["max_error"]) if fits else None
    print(f'{h["cost"]:.2f}\t-\tnone: no substitution; the best cheaper fit, {best["method"]}, is {best["max_error"]:.3f} away'
          if best else f'{h["cost"]:.2f}\t-\tnone: nothing cheaper')
PY
  while IFS=$'\t' read -r ocost twin method err tcost; do
    if [ "$twin" = "-" ]; then
      echo "| \`$o\` | $origin_score | $ocost | - | $method | | | |" >> "$twins"
    else
      echo "| \`$o\` | $origin_score | $ocost | \`$twin\` | $method | $err | $(score "$twin") | $tcost |" >> "$twins"
    fi
  done < /tmp/pareto_twins.$$.rows
done
rm -f /tmp/pareto_twins.$$.*
# The fronts once the twins are trained: they compete on the front like any candidate.
{
  echo "# Pareto front and hardened twins"
  echo
  echo "\`bash scripts/pareto_twins.sh --top $top\` ($(date -u +%F), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores). Costs: the built-in table, relative to relu = 1."
  echo
  echo "## The front on the screen fmnist-cnn14 (mean over 3 seeds; the twins below included)"
  echo
  echo '```'
  "$bin" leaderboard --pareto --db "$db" --task fmnist-cnn14
  echo '```'
  echo
  echo "## The front on the judge fmnist-cnn (the candidates the rediscovery ladder promoted)"
  echo
  echo '```'
  "$bin" leaderboard --pareto --db "$db" --task fmnist-cnn
  echo '```'
  echo
  echo "## Hardened twins of the table's best $top and of Swish (each trained on fmnist-cnn14 with seeds 0-2)"
  echo
  echo "What \`search --harden-top\` would train: twins cheaper than their origin, the substitution and the"
  echo "cheapest piecewise-linear fit within 0.1 max error on [-6, 6]."
  echo
  cat "$twins"
} > "$md"
rm -f "$twins"
"$bin" plot --pareto --db "$db" --task fmnist-cnn14 -o scripts/results/pareto-twins.svg > /dev/null
cat "$md"
