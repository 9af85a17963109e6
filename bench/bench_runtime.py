"""Runtime benchmarks: spawn rate, idle-process memory, ping-pong, fan-out, restart latency.

Run: ``python bench/bench_runtime.py`` (about 30 s). Prints a table and rewrites the
``## Runtime`` section of docs/benchmarks.md. ``--quick`` uses smaller sizes and writes nothing.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _report  # noqa: E402

from ptclisp import runtime as rt  # noqa: E402
from ptclisp.runtime import ChildSpec, Supervisor  # noqa: E402


class Stopwatch:
    """Wall time and this thread's CPU time. The machine is shared, so throughput is reported
    per CPU-second of the scheduler thread (what one core can do), with the wall rate beside it."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.thread_time()

    def rates(self, count: int) -> tuple[float, float]:
        wall = time.perf_counter() - self.wall
        cpu = time.thread_time() - self.cpu
        return count / cpu, count / wall


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------------- the measurements


async def idle() -> None:
    await rt.receive()


def bench_spawn(n: int) -> dict:
    async def main():
        watch = Stopwatch()
        for _ in range(n):
            rt.spawn(idle)
        await rt.yield_()  # include each process's first step (up to its receive)
        return watch.rates(n)

    cpu, wall = rt.run(main)
    return {"name": f"spawn rate ({n:,} processes, each run to its first receive)", "value": cpu,
            "unit": f"processes per CPU-s (wall: {wall:,.0f}/s)", "target": None}


def bench_memory_child(n: int) -> None:
    """Runs in a fresh interpreter so the RSS delta is only the processes."""

    async def main():
        gc.collect()
        before = rss_bytes()
        for _ in range(n):
            rt.spawn(idle)
        await rt.yield_()  # every process has run to its receive and is parked
        after = rss_bytes()
        print(json.dumps({"per_process": (after - before) / n, "total": after}))
        os._exit(0)  # skip tearing down a million coroutines

    rt.run(main)


def bench_memory(n: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(n)],
        capture_output=True, text=True, check=True,
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return {"name": f"memory per idle process ({n:,} parked in receive)",
            "value": data["per_process"], "unit": f"bytes (process RSS {data['total'] / 2**30:.2f} GiB)",
            "target": "< 2 GiB for 1M (< 2147 B each)"}


def bench_ping_pong(n: int) -> dict:
    async def pong():
        while True:
            sender = await rt.receive()
            rt.send(sender, 1)

    async def main():
        peer = rt.spawn(pong)
        me = rt.self_pid()
        watch = Stopwatch()
        for _ in range(n):
            rt.send(peer, me)
            await rt.receive()
        return watch.rates(2 * n)

    cpu, wall = rt.run(main)
    return {"name": f"ping-pong between two processes ({2 * n:,} messages)", "value": cpu,
            "unit": f"messages per CPU-s (wall: {wall:,.0f}/s)", "target": ">= 500,000 messages/s"}


def bench_fanout(n: int, workers: int) -> dict:
    async def worker(collector, expected):
        for _ in range(expected):
            await rt.receive()
        rt.send(collector, "done")

    async def main():
        me = rt.self_pid()
        pids = [rt.spawn(worker, me, n // workers) for _ in range(workers)]
        watch = Stopwatch()
        for i in range(n):
            rt.send(pids[i % workers], i)
        for _ in range(workers):
            await rt.receive()
        return watch.rates(n)

    cpu, wall = rt.run(main)
    return {"name": f"fan-out of {n:,} messages to {workers:,} processes (all received)",
            "value": cpu, "unit": f"messages per CPU-s (wall: {wall:,.0f}/s)", "target": None}


def bench_restart(rounds: int) -> dict:
    async def child(observer):
        rt.send(observer, rt.self_pid())
        await rt.receive()
        raise RuntimeError("crash")

    async def main():
        me = rt.self_pid()
        rt.spawn(Supervisor([ChildSpec("c", child, (me,))], max_restarts=rounds + 1, period=60).run)
        pid = await rt.receive()
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            rt.send(pid, "crash")
            pid = await rt.receive()
            samples.append(time.perf_counter() - started)
        return samples

    samples = sorted(rt.run(main))
    median = statistics.median(samples) * 1e6
    p99 = samples[int(len(samples) * 0.99) - 1] * 1e6
    return {"name": f"supervisor restart latency (crash -> new child running, {rounds} rounds)",
            "value": median, "unit": f"us median (p99 {p99:.0f} us)", "target": "<= 1,000 us"}


# ---------------------------------------------------------------------- reporting


def render(rows: list[dict]) -> str:
    lines = ["| benchmark | result | unit | target |", "|---|---:|---|---|"]
    for row in rows:
        lines.append(f"| {row['name']} | {row['value']:,.0f} | {row['unit']} | {row['target'] or ''} |")
    return "\n".join(lines)


def write_section(table: str) -> None:
    _report.write_section(
        "## Runtime\n\n"
        f"`python bench/bench_runtime.py` on {time.strftime('%Y-%m-%d')} ({_report.machine()} at "
        "the end); everything runs on one scheduler thread (one core).\n\n" + table + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, do not write docs")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        bench_memory_child(args.memory_child)
        return
    scale = 10 if args.quick else 1
    rows = [
        bench_spawn(200_000 // scale),
        bench_memory(1_000_000 // scale),
        bench_ping_pong(500_000 // scale),
        bench_fanout(100_000, 1_000),
        bench_restart(2_000 // scale),
    ]
    table = render(rows)
    print(table)
    if not args.quick:
        write_section(table)
        print(f"\nwrote the '## Runtime' section of {_report.DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
