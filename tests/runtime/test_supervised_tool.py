"""Tools as supervised processes: crashes restart the tool and surface as clear errors."""

import threading
import time

import pytest

from ptclisp import runtime as rt
from ptclisp._errors import ToolError


@pytest.fixture(scope="module")
def runtime():
    with rt.Runtime(max_threads=4) as r:
        yield r


def test_a_tool_answers_through_its_process(runtime):
    tool = rt.supervised_tool(lambda args: args["x"] + 1, runtime=runtime, name="inc")
    assert [tool({"x": i}) for i in range(5)] == [1, 2, 3, 4, 5]
    worker = runtime.whereis(tool._workers[0])
    tool.close()
    assert runtime.wait(tool.supervisor, timeout=5)[0] == "shutdown"
    assert worker.exit_reason == "shutdown"


def test_a_crash_gives_tool_crashed_and_the_tool_is_restarted(runtime):
    def fragile(args):
        if args.get("crash"):
            raise ZeroDivisionError("bad input")
        return "fine"

    tool = rt.supervised_tool(fragile, runtime=runtime, name="fragile", timeout=5)
    first = runtime.whereis(tool._workers[0])
    with pytest.raises(rt.ToolCrashed) as info:
        tool({"crash": True})
    err = info.value
    assert err.code == "tool_crashed" and isinstance(err, ToolError)
    assert "ZeroDivisionError" in err.message and isinstance(err.__cause__, ZeroDivisionError)
    assert tool({}) == "fine"  # restarted
    assert runtime.whereis(tool._workers[0]) is not first
    tool.close()


def test_ptclisp_errors_from_the_tool_pass_through_unchanged(runtime):
    def strict(args):
        raise ToolError("missing :q", code="tool_error", hint="pass {:q ...}")

    tool = rt.supervised_tool(strict, runtime=runtime)
    pid = runtime.whereis(tool._workers[0])
    with pytest.raises(ToolError) as info:
        tool({})
    assert info.value.code == "tool_error" and info.value.hint == "pass {:q ...}"
    assert runtime.whereis(tool._workers[0]) is pid  # not a crash: no restart
    tool.close()


def test_a_hung_tool_times_out_and_is_restarted(runtime):
    release = threading.Event()

    def hangs(args):
        if args.get("hang"):
            release.wait(5)
        return "answered"

    tool = rt.supervised_tool(hangs, runtime=runtime, timeout=0.1)
    started = time.monotonic()
    with pytest.raises(rt.ToolTimeout) as info:
        tool({"hang": True})
    assert time.monotonic() - started < 3 and info.value.code == "tool_timeout"
    assert tool({}) == "answered"  # a fresh worker serves the next call
    release.set()
    tool.close()


def test_callers_waiting_behind_a_crash_are_not_left_hanging(runtime):
    def slow_crash(args):
        time.sleep(0.05)
        if args["n"] == 0:
            raise RuntimeError("first call crashes")
        return args["n"]

    tool = rt.supervised_tool(slow_crash, runtime=runtime, timeout=5, max_restarts=10)
    outcomes = {}

    def caller(n):
        try:
            outcomes[n] = tool({"n": n})
        except rt.ToolCrashed:
            outcomes[n] = "crashed"

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
        time.sleep(0.01)
    for t in threads:
        t.join(10)
    assert outcomes[0] == "crashed"
    assert set(outcomes) == {0, 1, 2}  # every caller got an answer or a clear error
    tool.close()


def test_a_tool_that_keeps_crashing_becomes_unavailable(runtime):
    def always_crashes(args):
        raise RuntimeError("nope")

    tool = rt.supervised_tool(always_crashes, runtime=runtime, max_restarts=2, timeout=2)
    for _ in range(3):
        with pytest.raises(rt.ToolCrashed):
            tool({})
    time.sleep(0.05)
    assert not tool.supervisor.alive
    with pytest.raises(rt.ToolCrashed, match="unavailable"):
        tool({})


def test_several_workers_serve_calls_concurrently(runtime):
    def slow(args):
        time.sleep(0.2)
        return args

    tool = rt.supervised_tool(slow, runtime=runtime, workers=4, timeout=5)
    started = time.monotonic()
    assert rt.parallel_map(tool, list(range(4)), 4) == [0, 1, 2, 3]
    assert time.monotonic() - started < 0.6  # one at a time would take 0.8 s
    tool.close()


def test_an_async_tool_runs_on_the_loop_and_crashes_are_supervised_too(runtime):
    import asyncio

    async def agent_like(args):
        await asyncio.sleep(0.01)
        if args.get("crash"):
            raise ConnectionError("LLM endpoint went away")
        return {"answer": args["q"] * 2}

    tool = rt.supervised_tool(agent_like, runtime=runtime, timeout=5)
    assert tool({"q": 21}) == {"answer": 42}
    with pytest.raises(rt.ToolCrashed, match="ConnectionError"):
        tool({"crash": True})
    assert tool({"q": 1}) == {"answer": 2}
    tool.close()
