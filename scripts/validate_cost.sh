#!/usr/bin/env bash
# Validates the cost model against the exported C++ (see validate_cost.py); writes
# scripts/results/cost-validation.md. Usage: scripts/validate_cost.sh [options of validate_cost.py]
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/validate_cost.py "$@"
