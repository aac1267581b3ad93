#!/usr/bin/env python3
"""Top 10 of an exhaustive run and where the well-known functions rank (README table)."""
import sqlite3
import sys

db, task = sys.argv[1], sys.argv[2]
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
ref = {}
for name in ["relu(x)", "x*sigmoid(x)", "x*sigmoid(beta*x)", "hard_swish(x)"]:
    for i, (cid, expr, mean, n) in enumerate(rows, 1):
        if expr.replace(" ", "") == name.replace(" ", "") or expr == name:
            ref[name] = (i, mean)
for name in ["relu(x)", "x*sigmoid(x)", "x*sigmoid(beta*x)", "hard_swish(x)"]:
    if name in ref:
        print(f"- `{name}`: rank {ref[name][0]} of {len(rows)} (val_acc {ref[name][1]:.4f})")
    else:
        # Stored under a canonical spelling: find it through the eval runs.
        r = con.execute(
            """SELECT c.expr, AVG(e.val_acc) FROM runs r JOIN evaluations e ON e.run = r.id
               JOIN candidates c ON c.id = e.candidate
               WHERE r.strategy='eval' AND r.config LIKE ? AND e.status='ok' GROUP BY c.id""",
            (f'%"expr": "{name}"%',)).fetchone()
        if r:
            rank = 1 + sum(1 for row in rows if row[2] > r[1])
            print(f"- `{name}` (stored as `{r[0]}`): rank {rank} of {len(rows)} (val_acc {r[1]:.4f})")
        else:
            print(f"- `{name}`: not evaluated")
