"""Async/PendingStep benchmarks: what suspending and resuming costs, and how big a step is.

Run: ``python bench/bench_pending.py`` (about 10 s). Prints a table and rewrites the
``## Async and PendingStep`` section of docs/benchmarks.md. ``--quick`` writes nothing.

The program is 20 lines with 3 awaits (plus 4 sync tool calls and some data work). Tools return
at once, so "tool time" is ~0. Overhead per cycle = (start + 3 x (serialize + deserialize +
resume) - one all-sync run of the same program) / 3: everything suspension adds, replay included.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _report  # noqa: E402

from ptclisp import SQLiteStore, Tool, deserialize, resume, run, serialize, start  # noqa: E402
from ptclisp._async.store import resume_stored  # noqa: E402

SECTION = "## Async and PendingStep"

PROGRAM = """
(def customer (tool/lookup {:id 7}))
(def orders (tool/orders {:customer (:id customer)}))
(def total (reduce + (map :amount orders)))
(def call (tool/phone {:number (:phone customer)}))
(println "calling" (:name customer))
(def answer (await call))
(def big (filter #(> (:amount %) 20) orders))
(def email (tool/email {:to (:email customer) :about (count big)}))
(def approval (tool/approve {:amount total}))
(def decision (await approval))
(def note (str (:name customer) " said " (:said answer)))
(def log-entry (tool/log {:note note}))
(def survey (tool/survey {:customer (:id customer)}))
(def score (:score (await survey)))
(println "score" score)
{:customer (:name customer)
 :total total
 :approved (:approved decision)
 :score score
 :note note}
"""


def sync_tools() -> dict:
    return {
        "lookup": lambda a: {"id": 7, "name": "Ada", "phone": "555", "email": "a@x"},
        "orders": lambda a: [{"id": i, "amount": i * 3} for i in range(12)],
        "email": lambda a: {"sent": True},
        "log": lambda a: None,
        "phone": lambda a: RESULTS["phone"],
        "approve": lambda a: RESULTS["approve"],
        "survey": lambda a: RESULTS["survey"],
    }


RESULTS = {"phone": {"said": "yes"}, "approve": {"approved": True}, "survey": {"score": 9}}


def async_tools() -> dict:
    tools = sync_tools()
    for name in RESULTS:
        tools[name] = Tool(name, lambda **kw: None, is_async=True)
    return tools


def median_us(fn, repeat: int, clock=time.thread_time) -> float:
    """Median microseconds of ``fn``: CPU time of this thread by default, because the machine
    is shared and wall time on a loaded core measures the neighbours (the SQLite row, which
    waits on fsync, uses wall time)."""
    for _ in range(max(3, repeat // 10)):  # warm up (program cache, imports)
        fn()
    samples = []
    for _ in range(repeat):
        t0 = clock()
        fn()
        samples.append(clock() - t0)
    return statistics.median(samples) * 1e6


def full_cycle(tools: dict, blobs: list[int] | None = None):
    step = start(PROGRAM, tools=tools)
    while step.status == "pending":
        blob = serialize(step)
        if blobs is not None:
            blobs.append(len(blob))
        step = deserialize(blob)
        (op_id,) = step.pending_ops
        step = resume(step, op_id, RESULTS[step.pending_ops[op_id]["tool"]], tools=tools)
    assert step.ok, step.error
    return step


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, write nothing")
    args = parser.parse_args()
    repeat = 50 if args.quick else 400
    stools, atools = sync_tools(), async_tools()
    expected = run(PROGRAM, tools=stools)
    assert expected.ok, expected.error
    blobs: list[int] = []
    final = full_cycle(atools, blobs)
    assert final.value == expected.value

    sync_us = median_us(lambda: run(PROGRAM, tools=stools), repeat)
    cycle_us = median_us(lambda: full_cycle(atools), repeat)
    overhead = (cycle_us - sync_us) / 3
    last = start(PROGRAM, tools=atools)
    for name in ("phone", "approve"):
        (op_id,) = last.pending_ops
        last = resume(last, op_id, RESULTS[name], tools=atools)
    blob = serialize(last)
    ser_us = median_us(lambda: serialize(last), repeat)
    de_us = median_us(lambda: deserialize(blob), repeat)
    signed = serialize(last, key=b"k" * 32)
    de_signed_us = median_us(lambda: deserialize(signed, key=b"k" * 32), repeat)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "b.db")

        def stored_cycle() -> None:
            step = start(PROGRAM, tools=atools)
            store.save(step)
            while step.status == "pending":
                (op_id,) = step.pending_ops
                step = resume_stored(store, op_id, RESULTS[step.pending_ops[op_id]["tool"]],
                                     tools=atools)

        store_us = median_us(stored_cycle, max(20, repeat // 8), clock=time.perf_counter)

    rows = [
        ("all-sync run of the 20-line program (reference)", sync_us, "us", ""),
        ("start + 3 x (serialize + deserialize + resume), tools instant", cycle_us, "us", ""),
        ("overhead per suspend/resume cycle (incl. replay)", overhead, "us", "<= 1,000 us"),
        ("  the same, per 100 us of the program's own all-sync run time (load-independent)",
         overhead / sync_us * 100, "us", ""),
        ("serialize the step after 2 awaits", ser_us, "us", ""),
        ("deserialize it (SHA-256 checked)", de_us, "us", ""),
        ("deserialize it signed (HMAC-SHA256)", de_signed_us, "us", ""),
        ("blob size after await 1 / 2 / 3", None, " / ".join(map(str, blobs)) + " bytes", ""),
        ("same 3 cycles through SQLiteStore (save, claim, resume, complete), wall", store_us,
         "us", ""),
    ]
    table = render(rows)
    print(table)
    if not args.quick:
        write_section(table)
        print(f"\nwrote the '{SECTION}' section of {_report.DOC.relative_to(ROOT)}")


def render(rows: list[tuple]) -> str:
    lines = ["| benchmark | result | unit | target |", "|---|---:|---|---|"]
    for name, value, unit, target in rows:
        shown = "" if value is None else f"{value:,.0f}"
        lines.append(f"| {name} | {shown} | {unit} | {target} |")
    return "\n".join(lines)


def write_section(table: str) -> None:
    _report.write_section(
        f"{SECTION}\n\n"
        f"`python bench/bench_pending.py` on {time.strftime('%Y-%m-%d')} ({_report.machine()} at "
        "the end); medians of CPU time of the running thread (the SQLite row: wall time, it waits "
        "on fsync). A resume replays the program from the top, answering journaled calls from the "
        "journal; the overhead row includes that replay.\n\n" + table + "\n"
    )


if __name__ == "__main__":
    main()
