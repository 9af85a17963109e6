"""Sandbox tier benchmark: per-run overhead, tool round trips, a data pipeline, wasm startup.

    python bench/bench_sandbox.py            # print the table
    python bench/bench_sandbox.py --write    # also replace the "## Sandbox" section of
                                             # docs/benchmarks.md

Every figure is the median of repeated runs on this machine (wall clock). "per-run overhead" is
the cost of a trivial program (``(+ 1 2)``) in each tier; "pipeline" is a filter/group/aggregate
over 5,000 order records passed as ``data``; "tool round trip" is 200 tool calls in one program.
Wasm startup: "cold" compiles the component to native code (a fresh cache), "cached" deserializes
the ``.cwasm`` from the cache; both include building the engine and linker, not the
componentize-py build (reported separately when this run had to build).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _report  # noqa: E402

import ptclisp  # noqa: E402
from ptclisp import sandbox  # noqa: E402
from ptclisp.sandbox import _wasm_build  # noqa: E402

PIPELINE = """
(let [orders (filter #(> (:total %) 50) data/orders)
      by-region (group-by :region orders)]
  (into {} (map (fn [[region os]]
                  [region {:count (count os)
                           :revenue (reduce + (map :total os))
                           :top (:id (last (sort-by :total os)))}])
                by-region)))
"""
TOOLS_PROGRAM = "(reduce + (map (fn [i] (tool/add {:a i :b 1})) (range 200)))"
TOOLS = {"add": lambda args: args["a"] + args["b"]}


def _orders(n: int) -> list[dict]:
    regions = ["north", "south", "east", "west"]
    return [
        {"id": i, "region": regions[i % 4], "total": float((i * 37) % 200), "items": i % 7}
        for i in range(n)
    ]


def _median(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _startup_rows() -> list[tuple[str, str]]:
    rows = []
    started = time.perf_counter()
    built = not _wasm_build.component_path().exists()
    wasm_path = _wasm_build.build_component()
    if built:
        rows.append(("wasm build (componentize-py, once per source change)",
                     f"{time.perf_counter() - started:.1f} s"))  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / wasm_path.name
        shutil.copy(wasm_path, copy)
        started = time.perf_counter()
        cold = sandbox.WasmSandbox(wasm_path=copy)
        cold_s = time.perf_counter() - started
        cold.run("(+ 1 2)")
        first_run_cold = time.perf_counter() - started
        cold.close()
        started = time.perf_counter()
        cached = sandbox.WasmSandbox(wasm_path=copy)
        cached_s = time.perf_counter() - started
        cached.run("(+ 1 2)")
        first_run_cached = time.perf_counter() - started
        cached.close()
    rows.append(("wasm start, cold (compile to native + cache)", f"{cold_s:.2f} s"))
    rows.append(("wasm start, cached (deserialize .cwasm)", f"{cached_s * 1000:.0f} ms"))
    rows.append(("wasm start + first run, cold / cached",
                 f"{first_run_cold:.2f} s / {first_run_cached * 1000:.0f} ms"))  # fmt: skip
    started = time.perf_counter()
    with sandbox.ProcessPool(size=1) as pool:
        pool.run("(+ 1 2)")
        rows.append(("process pool start + first run (1 worker)",
                     f"{(time.perf_counter() - started) * 1000:.0f} ms"))  # fmt: skip
    return rows


def _tier_rows() -> list[tuple[str, str, str, str]]:
    orders = _orders(5000)
    pool = sandbox.ProcessPool(size=1)
    box = sandbox.WasmSandbox()
    runners = {
        "inproc": ptclisp.run,
        "process": pool.run,
        "wasm": box.run,
    }
    expected = ptclisp.run(PIPELINE, data={"orders": orders})
    assert expected.ok, expected.error
    table: dict[str, list[float]] = {}
    for tier, run in runners.items():
        got = run(PIPELINE, data={"orders": orders})
        assert got.value == expected.value, (tier, got.error)
        table[tier] = [
            # the lambdas are called (and dropped) within this iteration
            _median(lambda: run("(+ 1 2)"), 200),  # noqa: B023
            _median(lambda: run(TOOLS_PROGRAM, tools=TOOLS), 10) / 200,  # noqa: B023
            _median(lambda: run(PIPELINE, data={"orders": orders}), 10),  # noqa: B023
        ]
    pool.close()
    box.close()
    names = ["per-run overhead: (+ 1 2)", "tool round trip (per call, 200 calls/run)",
             "data pipeline: 5,000 orders filter/group/aggregate"]  # fmt: skip
    return [
        (name, *(f"{table[tier][i] * 1000:.2f} ms" for tier in runners))
        for i, name in enumerate(names)
    ]


def _render(tier_rows, startup_rows) -> str:
    lines = [
        "| measure | inproc | process | wasm |",
        "|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in tier_rows),
        "",
        "| startup | time |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in startup_rows),
    ]
    return "\n".join(lines)


def _write_section(table: str) -> None:
    _report.write_section(
        "## Sandbox\n\n"
        "`python bench/bench_sandbox.py --write` (medians, wall clock, "
        f"{_report.machine()}, ±30%; {time.strftime('%Y-%m-%d')}).\n\n{table}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    startup = _startup_rows()
    table = _render(_tier_rows(), startup)
    print(table)
    if args.write:
        _write_section(table)


if __name__ == "__main__":
    main()
