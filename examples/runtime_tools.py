"""Host-side parallel tool calls: parallel_map, fanout, guards and supervised tools.

Run: python examples/runtime_tools.py
"""

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ptclisp import runtime as rt


def search(args):
    """A blocking tool (sleeps like a network call)."""
    time.sleep(0.05)
    if args.get("q") == "explode":
        raise ZeroDivisionError("tool bug")
    return f"results for {args['q']}"


def pmap_demo():
    started = time.monotonic()
    out = rt.parallel_map(search, [{"q": f"q{i}"} for i in range(8)], 4)
    print(f"parallel_map: {len(out)} results in {time.monotonic() - started:.2f} s (bound 4)")


async def fanout_demo():
    async def model(name, delay, quality):
        await asyncio.sleep(delay)
        return {"model": name, "quality": quality}

    calls = [lambda: model("fast", 0.01, 0.6), lambda: model("slow", 0.5, 0.9)]
    first = await rt.fanout(calls, rt.Policy.FIRST_COMPLETED, deadline=2)
    print("first completed:", first["model"], "(the slow one was cancelled)")
    calls.append(lambda: model("medium", 0.05, 0.8))
    best = await rt.fanout(calls, rt.Policy.N_BEST, n=1, scorer=lambda r: r["quality"],
                           deadline=0.2)
    print("best within 0.2 s:", best[0]["model"])


def guards_demo():
    flaky_calls = {"n": 0}

    def flaky(args):
        flaky_calls["n"] += 1
        if flaky_calls["n"] < 3:
            raise ConnectionError("try again")
        return "ok"

    tool = rt.guarded(
        flaky,
        retry=rt.Retry(attempts=3, base_delay=0.01),
        limiter=rt.RateLimiter(rate=50, burst=5),
        breaker=rt.CircuitBreaker(failure_threshold=5, reset_timeout=10),
    )
    print("guarded tool:", tool({}), "after", flaky_calls["n"], "attempts")


def supervised_demo():
    with rt.Runtime() as runtime:
        tool = rt.supervised_tool(search, runtime=runtime, timeout=2)
        print("supervised:", tool({"q": "actors"}))
        try:
            tool({"q": "explode"})
        except rt.ToolCrashed as err:
            print("crash surfaced as:", err.code, "-", err.message)
        print("restarted and serving:", tool({"q": "again"}))


if __name__ == "__main__":
    pmap_demo()
    asyncio.run(fanout_demo())
    guards_demo()
    supervised_demo()
