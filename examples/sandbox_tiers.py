"""Run one program with a host tool in every sandbox tier and compare the results.

    python examples/sandbox_tiers.py

The first wasm run on a machine builds and compiles the guest (about a minute); later runs load
it from ~/.cache/ptclisp in a fraction of a second.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ptclisp
from ptclisp import sandbox

ORDERS = [
    {"id": 1, "customer": "ada", "total": 120.0},
    {"id": 2, "customer": "bob", "total": 35.5},
    {"id": 3, "customer": "ada", "total": 80.0},
]

PROGRAM = """
(let [orders (tool/orders {:min-total data/min})]
  (println "got" (count orders) "orders")
  (->> orders
       (group-by :customer)
       (map (fn [[who os]] [who (reduce + (map :total os))]))
       (into {})))
"""


def orders(args: dict) -> list[dict]:
    """A host tool: receives plain data, returns plain data. It never runs inside the guest."""
    return [o for o in ORDERS if o["total"] >= args["min-total"]]


def main() -> None:
    for tier in sandbox.TIERS:
        started = time.perf_counter()
        result = sandbox.run(PROGRAM, tools={"orders": orders}, data={"min": 50}, tier=tier)
        elapsed = time.perf_counter() - started
        print(f"{tier:8} {result.status} {ptclisp.pr_str(result.value)} output={result.output!r} "
              f"tool_calls={len(result.tool_calls)} ({elapsed * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
