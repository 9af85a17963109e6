"""``sandbox.run``: one call, three isolation tiers, the same ``Result`` from each."""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Mapping
from typing import Any, Literal

import ptclisp
from ptclisp.host import ParallelMap, Runner, resume_on, start_on

from ._process import ProcessPool
from ._wasm import WasmSandbox

__all__ = ["TIERS", "Tier", "default_pool", "default_wasm", "resume", "run", "runner", "start",
           "warm"]

Tier = Literal["inproc", "process", "wasm"]
TIERS: tuple[Tier, ...] = ("inproc", "process", "wasm")

_lock = threading.Lock()
_pool: ProcessPool | None = None
_wasm: WasmSandbox | None = None


def default_pool() -> ProcessPool:
    """The shared process pool ``run(tier="process")`` uses (started on first use)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPool()
        return _pool


def default_wasm(progress: Callable[[str], None] | None = None) -> WasmSandbox:
    """The shared wasm sandbox ``run(tier="wasm")`` uses (built/loaded on first use, reporting
    progress to ``progress`` or, by default, the ``ptclisp.sandbox`` logger)."""
    global _wasm
    with _lock:
        if _wasm is None:
            _wasm = WasmSandbox(progress=progress)
        return _wasm


def warm(
    tiers: tuple[Tier, ...] = ("process", "wasm"),
    progress: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Do each tier's first-use work now (a host calls it at start-up; ``ptclisp sandbox warm``
    on the command line): start the worker pool, build and compile the wasm guest, run one
    program. Returns seconds per tier."""
    import time

    say = progress or (lambda message: None)
    timings: dict[str, float] = {}
    for tier in tiers:
        started = time.perf_counter()
        say(f"warming the {tier} tier")
        if tier == "wasm":
            default_wasm(progress)
        outcome = run("(+ 1 2)", tier=tier)
        value = getattr(outcome, "value", None)
        if value != 3:
            raise RuntimeError(f"the {tier} tier answered {value!r} to (+ 1 2)")
        timings[tier] = time.perf_counter() - started
        say(f"{tier} ready in {timings[tier]:.1f} s")
    return timings


@atexit.register
def _shutdown() -> None:
    with _lock:
        if _pool is not None:
            _pool.close()
        if _wasm is not None:
            _wasm.close()


def run(
    source: str,
    *,
    tools: Mapping[str, Callable[[dict], Any]] | None = None,
    data: Mapping[str, Any] | None = None,
    limits: ptclisp.Limits | None = None,
    tier: Tier = "inproc",
) -> ptclisp.Result | ptclisp.PendingStep:
    """Run a ptclisp program in the chosen isolation tier.

    ``"inproc"`` is ``ptclisp.run`` itself (metered, no isolation from interpreter bugs);
    ``"process"`` runs it in a warm worker process under OS limits; ``"wasm"`` runs it inside
    wasmtime. Tools always execute on the host; results, error codes and tool-call records are the
    same in every tier. Resource breaches caught by an outer tier surface as ``memory_limit`` or
    ``timeout``; a guest that dies surfaces as ``sandbox_crash``.
    """
    if tier == "inproc":
        return ptclisp.run(source, tools=tools, data=data, limits=limits)
    if tier in TIERS and any(isinstance(t, ptclisp.Tool) and t.is_async
                             for t in (tools or {}).values()):
        return start(source, tools=tools, data=data, limits=limits, tier=tier)
    if tier == "process":
        return default_pool().run(source, tools=tools, data=data, limits=limits)
    if tier == "wasm":
        return default_wasm().run(source, tools=tools, data=data, limits=limits)
    raise ValueError(f"unknown sandbox tier {tier!r}: expected one of {', '.join(TIERS)}")


def runner(tier: Tier) -> Runner | None:
    """Where ``start``/``resume`` execute a program of ``tier`` (``None``: in this process)."""
    if tier == "inproc":
        return None
    if tier == "process":
        return default_pool().execute
    if tier == "wasm":
        return default_wasm().execute
    raise ValueError(f"unknown sandbox tier {tier!r}: expected one of {', '.join(TIERS)}")


def start(
    source: str,
    *,
    tools: Mapping[str, Callable[..., Any] | ptclisp.Tool] | None = None,
    data: Mapping[str, Any] | None = None,
    limits: ptclisp.Limits | None = None,
    host_state: dict[str, Any] | None = None,
    cancel: ptclisp.CancelToken | None = None,
    tier: Tier = "inproc",
    parallel_map: ParallelMap | None = None,
) -> ptclisp.Result | ptclisp.PendingStep:
    """``ptclisp.start`` in any tier: the same arguments, the same ``Result`` or ``PendingStep``.

    The program runs in the tier's guest; the journal, the tools and the op results stay on the
    host, so a step started in one tier can be resumed in any other (or in process).
    """
    return start_on(runner(tier), source, tools=tools, data=data, limits=limits,
                    host_state=host_state, cancel=cancel, parallel_map=parallel_map)


def resume(
    pending: ptclisp.PendingStep,
    op_id: str,
    result: Any = None,
    *,
    tools: Mapping[str, Callable[..., Any] | ptclisp.Tool] | None = None,
    error: str | BaseException | Mapping[str, Any] | None = None,
    cancel: ptclisp.CancelToken | None = None,
    tier: Tier = "inproc",
    parallel_map: ParallelMap | None = None,
) -> ptclisp.Result | ptclisp.PendingStep:
    """``ptclisp.resume`` in any tier: deliver op ``op_id``'s result and continue the run."""
    return resume_on(runner(tier), pending, op_id, result, tools=tools, error=error,
                     cancel=cancel, parallel_map=parallel_map)
