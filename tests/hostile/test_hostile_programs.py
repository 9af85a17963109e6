"""Every hostile program, in every tier: the expected code, on time, within memory.

For each run: the outcome is one of the case's codes (the same set in every tier), the wall time
is at most 1.5x ``timeout_s`` (+0.5 s for the process and wasm tiers to start and answer; on a
loaded machine, times the load factor, +1 s), and the host's resident memory grows by at most 2x
``max_memory`` while the run lasts (sampled every few milliseconds).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hostile_corpus import BIG, CORPUS, HOST_DATA, LIMITS, TOOLS, Case, D

import ptclisp
from ptclisp import pr_str, sandbox

TIERS = ("ptclisp.run", "inproc", "process", "wasm")


@pytest.fixture(scope="module")
def hostile_pool() -> Iterator[sandbox.ProcessPool]:
    with sandbox.ProcessPool(size=2, address_space=768 << 20) as pool:  # default backstops
        yield pool


@pytest.fixture(scope="module")
def hostile_wasm() -> Iterator[Any]:
    pytest.importorskip("wasmtime")
    with sandbox.WasmSandbox(memory_limit=256 << 20) as box:  # default backstops
        yield box

_PAGE = 4096
LOAD_MARGIN_S = 0.25
"""Scheduling noise beyond the load factor (seconds)."""


def _load_factor() -> float:
    """How oversubscribed the machine is (1.0 = no more runnable processes than cores): wall
    times on a shared CI machine stretch by about this much."""
    return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE


class _PeakRss:
    """The highest resident set size seen while the block runs."""

    def __enter__(self) -> _PeakRss:
        self.base = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth(self) -> int:
        return self.peak - self.base


def _runner(tier: str, request: pytest.FixtureRequest) -> Callable[..., ptclisp.Result]:
    if tier == "ptclisp.run":
        return ptclisp.run
    if tier == "inproc":
        return lambda source, **kw: sandbox.run(source, tier="inproc", **kw)
    box = request.getfixturevalue("hostile_pool" if tier == "process" else "hostile_wasm")
    return box.run  # type: ignore[no-any-return]


def _code(result: ptclisp.Result) -> str:
    if result.status == "ok":
        return "ok"
    return result.error.code if result.error is not None else result.status


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_hostile_program(case: Case, tier: str, request: pytest.FixtureRequest) -> None:
    run = _runner(tier, request)
    tools: dict[str, Any] | None = TOOLS if case.tools else None
    data = {"x": HOST_DATA[case.data]} if case.data is not None else None
    started = time.monotonic()
    with _PeakRss() as rss:
        result = run(case.source, tools=tools, data=data, limits=LIMITS)
    elapsed = time.monotonic() - started
    code = _code(result)
    detail = result.error.message if result.error is not None else ""
    assert code in case.codes, f"{case.name} [{tier}]: {code} {detail}"
    grace = 0.5 if tier in ("process", "wasm") else 0.0
    allowed = (1.5 * LIMITS.timeout_s + grace) * _load_factor() + LOAD_MARGIN_S
    assert elapsed <= allowed, (case.name, tier, elapsed, allowed)
    assert rss.growth <= 2 * LIMITS.max_memory, (case.name, tier, rss.growth)


@pytest.mark.parametrize("tier", TIERS)
def test_shared_result_renders_under_a_budget(tier: str, request: pytest.FixtureRequest) -> None:
    """A result with 2**40 leaves by sharing: the run is ok, crossing tiers keeps it shared
    (small ``to_dict``), and printing it on the host ends with output_limit, not a hang."""
    result = _runner(tier, request)(D, limits=LIMITS)
    assert result.status == "ok"
    assert result.value[0][0] is result.value[0][1]
    assert len(repr(result.to_dict())) < 10_000
    started = time.monotonic()
    with pytest.raises(ptclisp.PtclispError) as info:
        pr_str(result.value)
    assert info.value.code == "output_limit"
    assert time.monotonic() - started < 10 + LOAD_MARGIN_S


@pytest.mark.parametrize("tier", TIERS)
def test_a_deep_max_depth_runs_in_every_tier(tier: str, request: pytest.FixtureRequest) -> None:
    """max_depth above 500 moves a native run to a big-stack thread; where threads cannot start
    (the wasm guest) it runs in place — never "can't start new thread"."""
    limits = ptclisp.Limits(max_depth=600, timeout_s=5)
    source = "(defn f [n] (if (= n 0) 0 (inc (f (dec n))))) (f 200)"
    result = _runner(tier, request)(source, limits=limits)
    assert result.status == "ok", result.error
    assert result.value == 200


@pytest.mark.parametrize("tier", TIERS)
def test_a_result_too_deep_to_encode_is_output_limit(tier: str,
                                                     request: pytest.FixtureRequest) -> None:
    source = "(loop [x () i 0] (if (< i 501) (recur (list x) (inc i)) x))"
    result = _runner(tier, request)(source, limits=LIMITS)
    if tier in ("ptclisp.run", "inproc"):  # handed over as is; encoding it is what fails
        assert result.status == "ok"
        with pytest.raises(ptclisp.PtclispError) as info:
            result.to_dict()
        assert info.value.code == "output_limit"
    else:
        assert result.error is not None and result.error.code == "output_limit"


@pytest.mark.parametrize("tier", ("inproc", "process", "wasm"))
@pytest.mark.parametrize("name", ["shared", "shared_map", "long"])
def test_an_op_result_too_large_to_deliver_ends_the_run_at_a_limit(
        name: str, tier: str, request: pytest.FixtureRequest) -> None:
    """``resume`` converts the delivered result under the run's budget: heavy sharing or sheer
    size ends the run with a limit, on time, in every tier (the op is not left pending)."""
    if tier == "wasm":
        request.getfixturevalue("hostile_wasm")  # skips without wasmtime
    phone = ptclisp.Tool("phone", lambda number: None, is_async=True,
                         signature="(number :string)")
    step = sandbox.start('(count (await (tool/phone {:number "1"})))', tools={"phone": phone},
                         limits=LIMITS, tier=tier)
    assert isinstance(step, ptclisp.PendingStep)
    (op_id,) = step.pending_ops
    started = time.monotonic()
    with _PeakRss() as rss:
        result = sandbox.resume(step, op_id, HOST_DATA[name], tools={"phone": phone}, tier=tier)
    elapsed = time.monotonic() - started
    assert isinstance(result, ptclisp.Result) and result.error is not None
    assert result.error.code in BIG, result.error
    assert elapsed <= (1.5 * LIMITS.timeout_s) * _load_factor() + LOAD_MARGIN_S
    assert rss.growth <= 2 * LIMITS.max_memory
    with pytest.raises(ptclisp.PtclispError):  # the step was used up
        sandbox.resume(step, op_id, 1, tools={"phone": phone}, tier=tier)


def test_the_limits_example_runs() -> None:
    import subprocess
    import sys
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "sandbox_limits.py"
    done = subprocess.run([sys.executable, str(example)], capture_output=True, text=True,
                          timeout=120, check=True)
    lines = dict(line.split(" -> ", 1) for line in done.stdout.splitlines() if " -> " in line)
    assert lines["shared structure".ljust(18)].startswith("step_limit")
    assert lines["slow tool".ljust(18)].startswith("timeout")
    assert "after all that: 3" in done.stdout
