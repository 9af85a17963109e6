"""Agents atop the runtime (issue 13): await+resume per tier, the supervised path's overhead per
scripted turn, and many concurrently suspended agents in one host.

Run: ``python bench/bench_agents.py`` (a minute or two; the wasm tier must be warm:
``ptclisp sandbox warm``). Prints a table and rewrites the ``## Agents on the runtime`` section of
docs/benchmarks.md. ``--quick`` (fewer repetitions, 1,000 agents) writes nothing.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _report  # noqa: E402

import ptclisp  # noqa: E402
from ptclisp import runtime, sandbox  # noqa: E402
from ptclisp.subagent import ScriptedLLM, SubAgent  # noqa: E402
from ptclisp.subagent._gate import Hooks  # noqa: E402 - the baseline bypasses the runtime
from ptclisp.subagent._telemetry import Telemetry  # noqa: E402

SECTION = "## Agents on the runtime"

PROGRAM = """
(def c (tool/lookup {:id 7}))
(def a (await (tool/phone {:number (:phone c)})))
(def b (await (tool/phone {:number "2"})))
{:name (:name c) :said [(:said a) (:said b)]}
"""


def tools() -> dict[str, Any]:
    count = iter(range(10**9))

    def phone(number: str) -> str:
        return f"call-{number}-{next(count)}"

    return {"lookup": lambda args: {"name": "Ada", "phone": "555"},
            "phone": ptclisp.Tool("phone", phone, signature="(number :string) -> :any",
                                  is_async=True)}


def native() -> dict[str, Any]:
    """The same work as plain Python calls: the baseline."""
    t = tools()
    c = t["lookup"]({"id": 7})
    t["phone"].fn(c["phone"])
    t["phone"].fn("2")
    return {"name": c["name"], "said": ["hi", "hi"]}


def await_resume(tier: str) -> Callable[[], Any]:
    def cycle() -> Any:
        t = tools()
        step = sandbox.start(PROGRAM, tools=t, tier=tier)
        while isinstance(step, ptclisp.PendingStep):
            blob = ptclisp.serialize(step)
            step = ptclisp.deserialize(blob)
            step = sandbox.resume(step, step.awaiting[0], {"said": "hi"}, tools=t, tier=tier)
        assert step.status == "ok", step.error
        return step

    return cycle


def best_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times) * 1000


# ---------------------------------------------------------------- the runtime path

TURN = "```clojure\n(return (reduce + (map :n (tool/items {}))))\n```"


def agent() -> SubAgent:
    items = ptclisp.Tool("items", lambda: [{"n": i} for i in range(50)], signature="() -> :any")
    return SubAgent(name="summer", prompt="sum", tools=[items], max_turns=1, reference="compact")


def direct_turn() -> Any:
    """The agent loop called directly, outside the runtime (what ``SubAgent.run`` did before
    runs became processes): the baseline."""
    return agent()._run_nested({}, llm=ScriptedLLM([TURN]), hooks=Hooks(),
                               telemetry=Telemetry(None, None), depth=0)


def plain_turn() -> Any:
    """``SubAgent.run``: a supervised process on the calling thread, a checkpoint per turn."""
    return agent().run(llm=ScriptedLLM([TURN]))


def threaded_turn(rt: runtime.Runtime) -> Callable[[], Any]:
    """The same run on a ``Runtime``'s loop thread (the run itself on a worker thread)."""
    def turn() -> Any:
        return runtime.supervised_run(agent(), llm=ScriptedLLM([TURN]), runtime=rt)

    return turn


def interleaved_best_ms(fns: list[Callable[[], Any]], repeat: int) -> list[float]:
    """Best time of each of ``fns``, timed in alternation (each round runs every one once):
    on a shared, loaded machine the best of many runs is the cost of the code, the median
    mostly the load."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out in zip(fns, times):
            began = time.perf_counter()
            fn()
            out.append(time.perf_counter() - began)
    return [min(t) * 1000 for t in times]


# ---------------------------------------------------------------- many suspended agents

WAITER = "```clojure\n(return (:answer (await (tool/ask {:q data/q}))))\n```"


def suspended_agents(n: int) -> dict[str, float]:
    ask = ptclisp.Tool("ask", lambda q: f"ask-{q}", signature="(q :int) -> :any", is_async=True,
                       result="{answer :int}")
    waiter = SubAgent(name="waiter", prompt="wait", tools=[ask], signature="(q :int) -> :int",
                      max_turns=1, reference="compact")
    waiter.run(llm=ScriptedLLM([WAITER]), context={"q": -1})
    gc.collect()
    before = _rss()
    began = time.perf_counter()
    pending = [waiter.run(llm=ScriptedLLM([WAITER]), context={"q": i}) for i in range(n)]
    started_s = time.perf_counter() - began
    gc.collect()
    held = _rss() - before
    blob_bytes = statistics.mean(len(ptclisp.serialize(p)) for p in pending[:200])
    began = time.perf_counter()
    done = [waiter.resume(p, f"ask-{i}", {"answer": i}, llm=ScriptedLLM([]))
            for i, p in enumerate(pending)]
    resumed_s = time.perf_counter() - began
    assert all(s.return_value == i for i, s in enumerate(done))
    return {"n": n, "ram_per_run": held / n, "blob_bytes": blob_bytes,
            "starts_per_s": n / started_s, "resumes_per_s": n / resumed_s}


def _rss() -> int:
    """Resident set size in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat = 5 if args.quick else 20
    sandbox.warm(("process", "wasm"))
    rows = []
    base = best_ms(native, repeat)
    rows.append(("native Python (3 calls)", base, 1.0))
    tier_ms = {}
    for tier in sandbox.TIERS:
        tier_ms[tier] = best_ms(await_resume(tier), repeat if tier != "wasm" else max(3, repeat // 4))
        rows.append((f"start + 2 x (serialize, resume), {tier}", tier_ms[tier],
                     tier_ms[tier] / base))
    with runtime.Runtime() as rt:
        rounds = [interleaved_best_ms([direct_turn, plain_turn, threaded_turn(rt)],
                                      repeat * 50) for _ in range(2)]
    direct, plain, threaded = (min(r[i] for r in rounds) for i in range(3))
    many = suspended_agents(1000 if args.quick else 10_000)
    lines = [
        SECTION, "",
        f"`python bench/bench_agents.py` — {_report.machine()}.", "",
        "Best of N runs (the machine is shared; medians mostly measure its load).", "",
        "| what | ms | ratio |", "|---|---|---|",
        *[f"| {name} | {ms:.3f} | {ratio:.0f}x |" for name, ms, ratio in rows],
        f"| one scripted agent turn, the loop called directly (no runtime) | {direct:.3f} | 1x |",
        (f"| the same turn with `SubAgent.run`: a supervised process on the calling thread, "
         f"checkpoint per turn | {plain:.3f} | {plain / direct:.3f}x |"),
        (f"| the same turn on a `Runtime`'s loop thread (`supervised_run(runtime=rt)`) "
         f"| {threaded:.3f} | {threaded / direct:.2f}x |"),
        "",
        (f"Runtime-path overhead per scripted turn (`SubAgent.run` vs the direct loop): "
         f"{(plain - direct) * 1000:.0f} us ({(plain / direct - 1) * 100:.1f}%; the issue's "
         "target is 5%). Two rounds, each the best of "
         f"{repeat * 50} alternating runs: "
         + ", ".join(f"{(r[1] - r[0]) * 1000:.0f} us ({(r[1] / r[0] - 1) * 100:.1f}%)"
                     for r in rounds) + "."),
        "",
        (f"{many['n']:,} agents suspended at once in one host (each a 1-turn scripted agent "
        f"awaiting an op): {many['ram_per_run'] / 1024:.1f} KiB of resident memory per "
        f"suspended run (RSS growth), {many['blob_bytes'] / 1024:.1f} KiB per serialized step; "
        f"{many['starts_per_s']:.0f} runs started/s, {many['resumes_per_s']:.0f} resumes/s "
        "(resume to the final Step; one pass each, not best-of-N: these rates move by a third "
        "with the machine's load)."),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.quick:
        _report.write_section(text)


if __name__ == "__main__":
    main()
