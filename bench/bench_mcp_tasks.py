"""MCP Tasks benchmark: what a task round trip costs next to a synchronous MCP call, over stdio.

Run: ``python bench/bench_mcp_tasks.py`` (about 20 s); writes the "MCP Tasks" section of
docs/benchmarks.md. The server is the tests' SDK task server (tests/mcp/sdk_task_server.py,
``pollIntervalMilliseconds`` 20) as a subprocess. The baseline ("native") is the SDK's own
``Client.call_tool`` of the same tool, without ptclisp. A task round trip is: the program calls
the async tool (``tools/call`` answered with a task), suspends into a ``PendingStep``,
``TaskWatcher.resume`` polls ``tasks/get`` and resumes the program with the result.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _report import machine, write_section  # noqa: E402

import ptclisp  # noqa: E402
from ptclisp.mcp import MCPTools, TaskWatcher, stdio  # noqa: E402

SERVER = ROOT / "tests" / "mcp" / "sdk_task_server.py"
CALLS = 40


def best(run: Any, repeats: int = 3) -> float:
    return min(run() for _ in range(repeats))


def sdk_native() -> float:
    from mcp import Client

    async def calls() -> float:
        async with Client(stdio(sys.executable, [str(SERVER)])) as client:
            await client.call_tool("slow", {"seconds": 0, "value": 1})
            started = time.perf_counter()
            for _ in range(CALLS):
                await client.call_tool("slow", {"seconds": 0, "value": 1})
            return (time.perf_counter() - started) / CALLS

    return asyncio.run(calls())


def synchronous(mcp: MCPTools) -> float:
    registry = mcp.registry()
    started = time.perf_counter()
    for _ in range(CALLS):
        assert ptclisp.run("(tool/slow {:seconds 0 :value 1})", tools=registry).value == 2
    return (time.perf_counter() - started) / CALLS


def round_trip(mcp: MCPTools) -> float:
    registry, watcher = mcp.registry(), TaskWatcher(mcp)
    started = time.perf_counter()
    for _ in range(CALLS):
        step = ptclisp.start("(await (tool/slow {:seconds 0 :value 1}))", tools=registry)
        assert watcher.resume(step, tools=registry, timeout_s=30).value == 2
    return (time.perf_counter() - started) / CALLS


def main() -> None:
    native = best(sdk_native)
    with MCPTools(stdio(sys.executable, [str(SERVER)]), async_tools=[]) as plain:
        sync = best(lambda: synchronous(plain))
    with MCPTools(stdio(sys.executable, [str(SERVER)])) as tasks:
        trip = best(lambda: round_trip(tasks))
    rows = [("SDK Client.call_tool (native)", native),
            ("ptclisp program, synchronous MCP tool call", sync),
            ("ptclisp program, task round trip (start, suspend, poll, resume)", trip)]
    lines = [
        "## MCP Tasks", "",
        (f"`python bench/bench_mcp_tasks.py` ({machine()}); per call over stdio against "
        f"tests/mcp/sdk_task_server.py (task poll interval 20 ms), best of 3 x {CALLS} calls, "
        "wall time. The ratio is to the SDK's own `Client.call_tool` of the same tool. The "
        "task ends at once, so the first `tasks/get` finds it completed: a longer task adds "
        "at most one poll interval after it ends."), "",
        "| benchmark | per call | ratio |", "|---|---:|---:|",
        *[f"| {name} | {seconds * 1e6:,.0f} us | {seconds / native:.1f}x |"
          for name, seconds in rows],
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    write_section(section)


if __name__ == "__main__":
    main()
