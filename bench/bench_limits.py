"""Limits benchmark: the memory estimate against measured memory, and how far past each limit
a hostile program gets in each tier.

    python bench/bench_limits.py            # print the tables
    python bench/bench_limits.py --write    # also replace "## Limits" in docs/benchmarks.md

Memory: each program runs in a fresh interpreter (``python -c``) so that its resident set starts
from the same baseline; *RSS growth* is the peak resident set during the run (``ru_maxrss``)
minus the resident set just before it, *estimate* is ``Result.memory``, the meter's count.

Overshoot: hostile programs from ``tests/hostile`` under ``timeout_s=1``: the wall time of the
run over its ``timeout_s`` (1.0 = on time), per tier.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "hostile"))
sys.path.insert(0, str(ROOT / "tests"))  # hostile_corpus imports support

import _report  # noqa: E402

PROGRAMS = [
    ("vector of 1M integers", "(vec (range 1000000))"),
    ("1M integers, each computed", "(mapv inc (range 1000000))"),
    ("100k records (maps of 4 fields)",
     '(mapv (fn [i] {:id i :name (str "n" i) :score (* i 1.5) :tags [:a :b]}) (range 100000))'),
    ("map of 200k string values", '(into {} (map (fn [i] [i (str "v" i)]) (range 200000)))'),
    ("10 MB string", '(apply str (repeat 10000000 "x"))'),
    ("split into 1M strings", '(clojure.string/split (apply str (repeat 1000000 "ab,")) #",")'),
    ("set of 500k integers", "(set (range 500000))"),
    ("group-by over 1M integers", "(group-by #(mod % 100) (range 1000000))"),
    ("lazy: take 300k of an endless map", "(doall (take 300000 (map inc (range))))"),
    ("sort-by over 500k", "(vec (sort-by - (range 500000)))"),
    ("frequencies (garbage, small result)", "(frequencies (map #(mod % 1000) (range 1000000)))"),
]

_MEASURE = r"""
import gc, json, resource, sys
import ptclisp
ptclisp.run("(count (mapv inc (range 1000)))")
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096
gc.collect()
base = rss()
limits = ptclisp.Limits(max_steps=10**8, timeout_s=120, max_memory=2**34)
result = ptclisp.run(sys.argv[1], limits=limits)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"status": result.status, "memory": result.memory, "growth": peak - base,
                  "error": result.error.message if result.error else None}))
"""


def measure(source: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _MEASURE, source], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def memory_rows() -> list[tuple[str, int, int, float]]:
    rows = []
    for name, source in PROGRAMS:
        m = measure(source)
        assert m["status"] == "ok", (name, m)
        estimate, growth = int(m["memory"]), int(m["growth"])  # type: ignore[call-overload]
        rows.append((name, estimate, growth, estimate / max(growth, 1)))
    return rows


def overshoot_rows() -> list[tuple[str, str, float, float, str, int]]:
    from hostile_corpus import CORPUS, LIMITS, TOOLS

    import ptclisp
    from ptclisp import sandbox

    pool = sandbox.ProcessPool(size=1, address_space=768 << 20, grace_s=0.5)
    try:
        wasm: object | None = sandbox.WasmSandbox(memory_limit=256 << 20, grace_s=0.5)
    except Exception:
        wasm = None
    runners = {"in-process": ptclisp.run, "process": pool.run}
    if wasm is not None:
        runners["wasm"] = wasm.run  # type: ignore[attr-defined]
    rows = []
    for tier, run in runners.items():
        ratios: list[tuple[float, str]] = []
        for case in CORPUS:
            tools = TOOLS if case.tools else None
            started = time.monotonic()
            result = run(case.source, tools=tools, limits=LIMITS)
            elapsed = time.monotonic() - started
            if result.error is not None and result.error.code == "timeout":
                ratios.append((elapsed / LIMITS.timeout_s, case.name))
        worst, worst_case = max(ratios)
        median = statistics.median(r for r, _ in ratios)
        rows.append((tier, "timeout", median, worst, worst_case, len(ratios)))
    pool.close()
    return rows


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def main() -> None:
    memory = memory_rows()
    overshoot = overshoot_rows()
    lines = [
        "## Limits",
        "",
        f"`python bench/bench_limits.py` — {_report.machine()}.",
        "",
        ("Memory estimate (`Result.memory`) against the measured growth of the resident set "
         "(peak during the run minus before it; a fresh interpreter per program). Target: "
         "estimate / RSS between 0.67 and 1.5."),
        "",
        "| program | estimate | RSS growth | estimate / RSS |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {n} | {_mb(e)} | {_mb(g)} | {r:.2f} |" for n, e, g, r in memory]
    lines += [
        "",
        ("Limit overshoot: hostile programs of `tests/hostile` ending with `timeout` under "
         "`timeout_s=1`, wall time of the run / `timeout_s` (process and wasm include the round "
         "trip to the worker)."),
        "",
        "| tier | limit | median | worst | worst case | runs |",
        "|---|---|---:|---:|---|---:|",
    ]
    lines += [f"| {t} | {k} | {m:.2f}x | {w:.2f}x | {c} | {n} |"
              for t, k, m, w, c, n in overshoot]
    text = "\n".join(lines) + "\n"
    print(text)
    if "--write" in sys.argv:
        _report.write_section(text)


if __name__ == "__main__":
    main()
