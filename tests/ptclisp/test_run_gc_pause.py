"""A run pauses the cyclic collector while its data lives (``Meter.pause_gc``): from its first
refuel (or a tool table's conversion) until its Result is built and its namespace and journal
are freed. The collector's own setting comes back on every way out of a run, and the pause ends
early once ``GC_PAUSE_CAP`` tracked objects are newer than the last collection."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import ptclisp
from ptclisp import _limits

ROWS = [{"id": i, "amount": i + 0.5} for i in range(2_000)]
MAPS = "(count (mapv (fn [i] {:i i}) (range 20000)))"


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    assert gc.isenabled(), "a run left the collector paused"
    if not was:
        gc.disable()


def _seen(states: list[bool]) -> Any:
    def probe(args: dict[str, Any]) -> int:
        states.append(gc.isenabled())
        return 1
    return probe


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """Young collections (and what they freed), with a low threshold: hundreds a run unless
    the collector is paused."""
    seen: list[int] = []
    ptclisp.run(MAPS)  # imports and first compiles: not what is counted

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            seen.append(info["collected"])

    threshold = gc.get_threshold()
    gc.set_threshold(50, 10, 10)
    gc.callbacks.append(count)
    yield seen
    gc.callbacks.remove(count)
    gc.set_threshold(*threshold)


def test_a_long_run_pauses_it(collections: list[int]) -> None:
    assert ptclisp.run(MAPS).value == 20_000
    assert len(collections) < 20  # 20,000 maps: ~400 collections at this threshold


def test_a_short_run_leaves_it_alone(collections: list[int]) -> None:
    """A chunk of steps not yet spent: nothing paused (a trivial run pays nothing)."""
    assert ptclisp.run("(count (mapv (fn [i] {:i i}) (range 200)))").value == 200
    assert len(collections) >= 3


def test_a_tool_table_pauses_it_at_once(collections: list[int]) -> None:
    source = "(def rows (tool/rows {})) (count (filter #(> (:amount %) 10) rows))"
    result = ptclisp.run(source, tools={"rows": lambda a: ROWS})
    assert result.ok and result.value == len(ROWS) - 10
    assert len(collections) < 10


def test_tools_run_with_the_collector_on() -> None:
    states: list[bool] = []
    source = ("(def rows (tool/rows {})) (tool/probe {}) "
              "(loop [i 0] (when (< i 50) (reduce + (range 100)) (tool/probe {}) (recur (inc i))))")
    result = ptclisp.run(source, tools={"rows": lambda a: ROWS, "probe": _seen(states)})
    assert result.ok and len(states) == 51 and all(states)


def test_the_pause_comes_back_after_a_tool_call(collections: list[int]) -> None:
    source = f"(tool/probe {{}}) (reduce + (range 3000)) (tool/probe {{}}) {MAPS}"
    assert ptclisp.run(source, tools={"probe": _seen([])}).value == 20_000
    assert len(collections) < 20


@pytest.mark.parametrize("source", [
    "(reduce + (range 5000)) (throw (ex-info \"boom\" {}))",     # failed run
    "(reduce + (range 5000)) (/ 1 0)",                          # error
    "(loop [i 0] (recur (inc i)))",                             # step limit
    "(reduce + (range 5000)) (await (tool/slow {}))",           # suspends: a PendingStep
])
def test_every_way_out_gives_it_back(source: str) -> None:
    tools = {"slow": ptclisp.Tool("slow", lambda **kw: None, is_async=True,
                                  signature="() -> :any")}
    ptclisp.run(source, tools=tools, limits={"max_steps": 200_000})
    assert gc.isenabled()


def test_a_timed_out_run_gives_it_back() -> None:
    result = ptclisp.run("(loop [i 0] (recur (inc i)))", tools={"t": lambda a: 1},
                         limits={"timeout_s": 0.2, "max_steps": 10**12})
    assert result.error is not None and result.error.code == "timeout"
    assert gc.isenabled()


def test_a_host_that_disabled_it_keeps_it_disabled() -> None:
    gc.disable()
    try:
        assert ptclisp.run("(reduce + (range 5000))").ok
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_pause_ends_past_the_cap(monkeypatch: pytest.MonkeyPatch,
                                     collections: list[int]) -> None:
    """A run making many tracked objects gets the usual collector back."""
    monkeypatch.setattr(_limits, "GC_PAUSE_CAP", 3_000)
    assert ptclisp.run(MAPS).value == 20_000
    assert len(collections) > 100


@pytest.mark.parametrize("cap", [2_000, 10**9])
def test_cyclic_garbage_past_the_cap_is_collected(monkeypatch: pytest.MonkeyPatch,
                                                  collections: list[int], cap: int) -> None:
    """A named fn refers to itself (capture 0): made in a loop, each is cyclic garbage. Past
    the cap they are collected during the run; under it, only after the run ends."""
    monkeypatch.setattr(_limits, "GC_PAUSE_CAP", cap)
    source = "(loop [i 0] (if (< i 20000) (do (fn g [x] (g x)) (recur (inc i))) i))"
    collected: list[int] = []
    count_call = _limits.Meter.count_tool_call

    def counted(meter: _limits.Meter) -> None:  # a paused run's call: before it lets it run
        collected.append(sum(collections))
        count_call(meter)

    monkeypatch.setattr(_limits.Meter, "count_tool_call", counted)
    def during(args: dict[str, Any]) -> int:  # a call past the pause counts inline
        collected.append(sum(collections))
        return 1

    result = ptclisp.run(f"{source} (tool/during {{}})", tools={"during": during})
    assert result.ok
    if cap == 2_000:
        assert collected[0] > 100_000  # most of the 20,000 fns' cycles, during the run
    else:
        assert collected[0] < 20_000  # those made before the first chunk ended


def test_concurrent_runs_give_it_back_when_the_last_ends() -> None:
    errors: list[BaseException] = []

    def one() -> None:
        try:
            for _ in range(5):
                assert ptclisp.run("(count (mapv inc (range 20000)))").ok
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and gc.isenabled()
