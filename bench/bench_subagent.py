"""Agent-loop benchmarks: what the loop itself costs per turn, without the LLM's latency.

Run: ``python bench/bench_subagent.py`` (about 15 s). Prints a table (nothing is written).

- turn overhead: a scripted LLM answers instantly, so the time per turn is the loop's own work
  (prompt bookkeeping, program extraction, prelude replay, interpreter, validation);
- the same over HTTP: the OpenAI wire format against a local server on 127.0.0.1;
- prelude growth: a turn after N turns of definitions (each re-established by replay);
- system prompt size, full and compact reference;
- a suspended parent→child run: PendingStep bytes, and deserialize + resume to the end.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "subagent"))

from approval_agents import CHILD_TURN, PARENT_TURN_1, PARENT_TURN_2, build  # noqa: E402
from wire_servers import WireServer  # noqa: E402

from ptclisp import Tool, deserialize, serialize  # noqa: E402
from ptclisp.runtime import Retry  # noqa: E402
from ptclisp.subagent import OpenAIClient, ScriptedLLM, SubAgent, pending_ops  # noqa: E402
from ptclisp.subagent._prompt import language_reference  # noqa: E402

ROWS = [{"id": i, "amount": float(i % 97), "region": ["n", "s", "e", "w"][i % 4]}
        for i in range(500)]


def fence(program: str) -> str:
    return f"```clojure\n{program}\n```"


def rows_tool() -> Tool:
    def rows(region: str) -> list[dict[str, Any]]:
        """Rows of a region."""
        return [r for r in ROWS if r["region"] == region]

    return Tool("rows", rows)


SCRIPT = [
    fence("(def n (tool/rows {:region \"n\"}))\n(count n)"),
    fence("(def s (tool/rows {:region \"s\"}))\n(count s)"),
    fence("(defn total [rows] (sum-by :amount rows))\n[(total n) (total s)]"),
    fence("(def big (filter #(> (:amount %) 50) (concat n s)))\n(count big)"),
    fence("(return {:n (total n) :s (total s) :big (count big)})"),
]


def agent() -> SubAgent:
    return SubAgent(name="bench", prompt="p", tools=[rows_tool()], max_turns=5,
                    signature="-> {n :float, s :float, big :int}")


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bench_scripted(repeats: int = 30) -> tuple[float, float]:
    per_turn, interp = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        step = agent().run(llm=ScriptedLLM(SCRIPT))
        assert step.ok, step.error
        per_turn.append((time.perf_counter() - started) / len(step.turns))
        interp.append(step.run_duration_s / len(step.turns))
    return median_ms(per_turn), median_ms(interp)


def bench_http(repeats: int = 10) -> float:
    samples = []
    with WireServer("openai") as server:
        llm = OpenAIClient("m", base_url=server.base_url, retry=Retry(attempts=1))
        for _ in range(repeats):
            server.add(*SCRIPT)
            started = time.perf_counter()
            step = agent().run(llm=llm)
            assert step.ok, step.error
            samples.append((time.perf_counter() - started) / len(step.turns))
    return median_ms(samples)


def bench_prelude(depth: int, repeats: int = 10) -> float:
    defs = [fence(f"(def v{i} (+ {i} (count (tool/rows {{:region \"n\"}}))))\nv{i}")
            for i in range(depth)]
    samples = []
    for _ in range(repeats):
        turns: list[float] = []
        last = [0.0]

        def on_turn(turn: Any) -> None:
            now = time.perf_counter()
            turns.append(now - last[0])  # noqa: B023 - called within the loop
            last[0] = now  # noqa: B023 - called within the loop

        last[0] = time.perf_counter()
        a = SubAgent(name="p", prompt="p", tools=[rows_tool()], max_turns=depth + 1)
        step = a.run(llm=ScriptedLLM([*defs, fence(f"(return v{depth - 1})")]), on_turn=on_turn)
        assert step.ok, step.error
        samples.append(turns[-1])
    return median_ms(samples)


def bench_pending(repeats: int = 10) -> tuple[int, float]:
    sizes, resumes = [], []
    for _ in range(repeats):
        llm = ScriptedLLM([PARENT_TURN_1, CHILD_TURN, PARENT_TURN_2])
        pending = build().run(llm=llm)
        blob = serialize(pending)
        sizes.append(len(blob))
        started = time.perf_counter()
        restored = deserialize(blob)
        [op_id] = pending_ops(restored)
        step = build().resume(restored, op_id, {"yes": True}, llm=llm)
        resumes.append(time.perf_counter() - started)
        assert step.ok, step.error
    return int(statistics.median(sizes)), median_ms(resumes)


def main() -> None:
    bench_scripted(3)  # warm the caches (analysis, pydantic models)
    scripted, interp = bench_scripted()
    http = bench_http()
    prelude = {n: bench_prelude(n) for n in (1, 5, 20)}
    full, compact = len(language_reference("full")), len(language_reference("compact"))
    size, resume_ms = bench_pending()
    rows = [
        ("turn, scripted LLM (loop overhead)", f"{scripted:.2f} ms/turn"),
        ("  of which interpreter (prelude + program)", f"{interp:.2f} ms/turn"),
        ("turn, OpenAI wire format over local HTTP", f"{http:.2f} ms/turn"),
        *[(f"last turn after {n} turns of defs", f"{ms:.2f} ms") for n, ms in prelude.items()],
        ("language reference, full", f"{full} chars (~{full // 4} tokens)"),
        ("language reference, compact", f"{compact} chars (~{compact // 4} tokens)"),
        ("parent+child PendingStep, serialized", f"{size} bytes"),
        ("deserialize + resume child and parent to the end", f"{resume_ms:.2f} ms"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 24}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
