"""Runs with tools execute on one pooled worker thread, tools inline (issue 11): one hand-off
per run, the caller waits until the deadline, an abandoned run is halted through its meter."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from typing import Any

import pytest

import ptclisp
from ptclisp import CancelToken, Limits, Tool
from ptclisp._limits import Meter
from ptclisp._tools import threads


@pytest.fixture
def handoffs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The stack sizes of the workers taken (one entry per hand-off to the pool)."""
    taken: list[int] = []
    real = threads._take

    def take(deadline: Any, stack: int) -> Any:
        taken.append(stack)
        return real(deadline, stack)

    monkeypatch.setattr(threads, "_take", take)
    return taken


def test_a_run_without_tools_stays_on_the_callers_thread(handoffs: list[int]) -> None:
    assert ptclisp.run("(+ 1 2)").value == 3
    assert ptclisp.run("(+ 1 2)", tools={}).value == 3
    assert handoffs == []


def test_a_run_with_tools_is_one_hand_off_and_its_calls_are_inline(
        handoffs: list[int]) -> None:
    seen: set[int] = set()

    def lookup(args: dict[str, Any]) -> int:
        seen.add(threading.get_ident())
        return int(args["i"])

    result = ptclisp.run("(reduce + (map #(tool/lookup {:i %}) (range 200)))",
                         tools={"lookup": lookup})
    assert result.value == sum(range(200)) and len(result.tool_calls) == 200
    assert handoffs == [threads.RUN_STACK]
    assert len(seen) == 1 and threading.get_ident() not in seen


def test_the_callers_context_is_visible_to_tools() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("caller")
    assert ptclisp.run("(tool/read {})", tools={"read": lambda args: var.get()}).value == \
        "caller"


def test_at_the_deadline_the_run_stops_the_call_in_flight_is_dropped_and_no_call_starts(
) -> None:
    slow_done = threading.Event()
    after: list[str] = []

    def slow(args: dict[str, Any]) -> int:
        time.sleep(0.8)
        slow_done.set()
        return 1

    def mark(args: dict[str, Any]) -> int:
        after.append("called")
        return 2

    source = "(def a (tool/slow {})) (println \"after\") (tool/mark {}) a"
    started = time.monotonic()
    result = ptclisp.run(source, tools={"slow": slow, "mark": mark},
                         limits=Limits(timeout_s=0.3))
    elapsed = time.monotonic() - started
    assert result.error is not None and result.error.code == "timeout"
    assert elapsed < 0.75, elapsed  # on time, while the call is still running
    assert not slow_done.is_set()
    assert slow_done.wait(5)
    time.sleep(0.2)  # the abandoned run reaches its next check, and stops there
    assert after == []
    assert result.output == "" and result.tool_calls == []


def test_a_cancelled_run_stuck_in_a_tool_returns_promptly() -> None:
    token = CancelToken()
    threading.Timer(0.2, token.cancel).start()
    started = time.monotonic()
    result = ptclisp.run("(tool/slow {})", tools={"slow": lambda args: time.sleep(1.5)},
                         limits=Limits(timeout_s=5), cancel=token)
    assert result.error is not None and result.error.code == "cancelled"
    assert time.monotonic() - started < 1.2


def test_abandoned_workers_rejoin_the_pool_when_their_call_returns() -> None:
    def slow(args: dict[str, Any]) -> int:
        time.sleep(0.4)
        return 1

    for _ in range(3):
        result = ptclisp.run("(tool/slow {})", tools={"slow": slow},
                             limits=Limits(timeout_s=0.1))
        assert result.error is not None and result.error.code == "timeout"
    assert threads._busy <= threads.MAX_WORKERS
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(threads._idle.get(threads.RUN_STACK, [])) < 3:
        time.sleep(0.05)
    assert len(threads._idle.get(threads.RUN_STACK, [])) >= 3
    assert ptclisp.run("(tool/ok {})", tools={"ok": lambda args: 7}).value == 7


def test_the_pool_is_capped_and_a_run_waits_for_a_worker_until_its_deadline(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "MAX_WORKERS", 0)  # every slot taken, none idle (workers
    monkeypatch.setattr(threads, "_idle", {})  # abandoned by earlier tests end, not rejoin)
    monkeypatch.setattr(threads, "_park", lambda worker: False)
    started = time.monotonic()
    result = ptclisp.run("(tool/ok {})", tools={"ok": lambda args: 1},
                         limits=Limits(timeout_s=0.3))
    assert result.error is not None and result.error.code == "timeout"
    assert "busy" in result.error.message
    assert 0.25 < time.monotonic() - started < 1.5


def test_a_deep_run_with_tools_gets_a_sized_stack_and_calls_inline(
        handoffs: list[int]) -> None:
    seen: set[int] = set()

    def where(args: dict[str, Any]) -> int:
        seen.add(threading.get_ident())
        return 0

    source = ("(defn f [n] (if (= n 0) (tool/where {}) (inc (f (dec n))))) "
              "[(f 1500) (tool/where {})]")
    result = ptclisp.run(source, tools={"where": where}, limits=Limits(max_depth=2_000))
    assert result.ok, result.error
    assert list(result.value) == [1500, 0]
    assert len(handoffs) == 1 and handoffs[0] > threads.RUN_STACK
    assert len(seen) == 1


def test_an_async_tool_on_the_callers_running_loop_is_a_clear_error() -> None:
    async def doubled(x: int) -> int:
        return 2 * x

    async def main() -> ptclisp.Result:
        loop = asyncio.get_running_loop()
        tool = Tool("d", doubled, loop=loop)
        return ptclisp.run("(tool/d {:x 1})", tools={"d": tool},  # type: ignore[return-value]
                           limits=Limits(timeout_s=2))

    result = asyncio.run(main())
    assert result.error is not None and result.error.code == "tool_error"
    assert "worker thread" in (result.error.hint or "")


def test_a_compiled_program_abandoned_mid_run_does_not_share_its_namespace() -> None:
    program = ptclisp.compile("(def before (tool/count {})) (tool/slow {}) before")
    counter = iter(range(100))
    tools = {"count": lambda args: next(counter),
             "slow": lambda args: time.sleep(0.4)}
    first = program.run(tools=tools, limits=Limits(timeout_s=0.1))
    assert first.error is not None and first.error.code == "timeout"
    second = program.run(tools={**tools, "slow": lambda args: None})
    assert second.ok and second.value == 1


def test_the_meter_halt_is_terminal_with_its_code() -> None:
    meter = Meter(Limits())
    meter.halt("timeout", "stopped")
    with pytest.raises(ptclisp.LimitExceeded) as info:
        meter.check_clock()
    assert info.value.code == "timeout"
    meter.halt("step_limit", "ignored: the first halt stands")
    with pytest.raises(ptclisp.LimitExceeded) as info:
        meter.tick(10_000)
    assert info.value.code == "timeout"
