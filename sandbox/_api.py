"""``sandbox.run``: one call, three isolation tiers, the same ``Result`` from each."""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Mapping
from typing import Any, Literal

import ptclisp

from ._process import ProcessPool
from ._wasm import WasmSandbox

__all__ = ["TIERS", "Tier", "default_pool", "default_wasm", "run"]

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


def default_wasm() -> WasmSandbox:
    """The shared wasm sandbox ``run(tier="wasm")`` uses (built/loaded on first use)."""
    global _wasm
    with _lock:
        if _wasm is None:
            _wasm = WasmSandbox()
        return _wasm


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
    if tier == "process":
        return default_pool().run(source, tools=tools, data=data, limits=limits)
    if tier == "wasm":
        return default_wasm().run(source, tools=tools, data=data, limits=limits)
    raise ValueError(f"unknown sandbox tier {tier!r}: expected one of {', '.join(TIERS)}")
