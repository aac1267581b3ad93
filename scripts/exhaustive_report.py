#!/usr/bin/env python3
"""Top 10 of an exhaustive run and where the well-known functions rank (README table)."""
import json
import sqlite3
import subprocess
import sys

db, task = sys.argv[1], sys.argv[2]
binary = sys.argv[3] if len(sys.argv) > 3 else "build/actsearch"
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
run = con.execute("SELECT id, created, finished, status FROM runs WHERE strategy='exhaustive' ORDER BY id DESC LIMIT 1").fetchone()
rows = con.execute(
    """SELECT c.id, c.expr, AVG(e.val_acc) AS mean, COUNT(*)
       FROM evaluations e JOIN candidates c ON c.id = e.candidate
       WHERE e.task = ? AND e.status = 'ok' GROUP BY c.id ORDER BY mean DESC""", (task,)).fetchall()
stats = con.execute(
    """SELECT COUNT(DISTINCT candidate), SUM(seconds), SUM(status='ok'), SUM(status='diverged'), SUM(status='invalid')
       FROM evaluations WHERE run = ?""", (run[0],)).fetchone()
ncand = con.execute("SELECT COUNT(*) FROM candidates").fetchone()[0]
print(f"\nrun {run[0]} ({run[3]}), created {run[1]}, finished {run[2]}")
print(f"{ncand} candidates stored, {stats[0]} trained or marked invalid: {stats[2]} ok, {stats[3]} diverged, "
      f"{stats[4]} invalid; {stats[1]:.0f} s of training in total\n")
print("| rank | val_acc | expression |")
print("|---|---|---|")
for i, (cid, expr, mean, n) in enumerate(rows[:10], 1):
    print(f"| {i} | {mean:.4f} | `{expr}` |")
print()
# Where the well-known functions rank. Their evaluations are stored under the canonical form, or under
# a functionally equivalent candidate trained earlier (the same function: the database keeps one copy).
by_candidate = {cid: (i, mean) for i, (cid, expr, mean, n) in enumerate(rows, 1)}
for name in ["relu(x)", "x*sigmoid(x)", "x*sigmoid(beta*x)", "hard_swish(x)"]:
    canonical = json.loads(subprocess.run([binary, "parse", name, "--json"], check=True, capture_output=True,
                                          text=True).stdout)["canonical"]
    row = con.execute("SELECT COALESCE(representative, id), expr FROM candidates WHERE expr = ?", (canonical,)).fetchone()
    if row is None or row[0] not in by_candidate:
        print(f"- `{name}`: not evaluated")
        continue
    rank, mean = by_candidate[row[0]]
    shared = "" if row[0] == con.execute("SELECT id FROM candidates WHERE expr = ?", (canonical,)).fetchone()[0] else \
        f", the same function as `{rows[rank - 1][1]}`"
    print(f"- `{name}`: rank {rank} of the {len(rows)} that trained without diverging (val_acc {mean:.4f}{shared})")
