"""The wasm tier: ptclisp inside CPython-for-WASI inside wasmtime.

One ``Engine`` (epoch interruption on) and one compiled ``Component`` are shared; every run gets a
fresh ``Store`` — its own linear memory capped at ``memory_limit``, an epoch deadline for CPU, and
an empty ``WasiConfig``: no preopened directories, no environment, no arguments, no sockets, stdio
discarded. The only way out is the ``call-tool`` import, answered by the host with plain data.

Compiling the component to native code takes seconds, so the result (``Component.serialize``) is
cached next to the ``.wasm``, named by the wasm's sha256, the wasmtime version and the engine
configuration; later processes deserialize it in milliseconds. A ``.cwasm`` is native code: it is
only ever loaded from our own cache directory.

Trap → error code: epoch deadline → ``timeout``; the guest's ``MemoryError`` at the memory cap →
``memory_limit`` (reported by the guest); wasm stack exhausted → ``depth_limit``; anything else
(``os._exit``, ``unreachable``, a host bug) → ``sandbox_crash``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import math
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ptclisp
from ptclisp import LimitExceeded, ToolError
from ptclisp.host import ToolHost

from . import _bridge
from ._cache import exclusive, write_atomically
from ._errors import SandboxCrash, SandboxError, backstop_grace, time_breach
from ._wire import dumps, json_exact, loads

__all__ = ["WasmSandbox", "compiled_component_path", "load_component"]

_CONFIG_KEY = "epoch1"
_GUEST_BASE = 32 << 20
_state = threading.local()


def _engine() -> Any:
    import wasmtime

    config = wasmtime.Config()
    config.epoch_interruption = True
    return wasmtime.Engine(config)


def compiled_component_path(wasm_path: Path) -> Path:
    digest = hashlib.sha256(wasm_path.read_bytes()).hexdigest()[:20]
    version = importlib.metadata.version("wasmtime")
    return wasm_path.with_name(f"guest-{digest}-wasmtime{version}-{_CONFIG_KEY}.cwasm")


def load_component(wasm_path: Path, engine: Any = None) -> tuple[Any, Any, dict[str, float]]:
    """``(engine, component, timings)``; compiles and caches the native code on first use."""
    from wasmtime import component as wc

    engine = engine or _engine()
    started = time.perf_counter()
    cached = compiled_component_path(wasm_path)
    timings: dict[str, float] = {}
    if not cached.exists():
        with exclusive(cached.parent, "wasm-compile"):
            if not cached.exists():
                component = wc.Component.from_file(engine, str(wasm_path))
                write_atomically(cached, component.serialize())
                timings["compile_s"] = time.perf_counter() - started
                return engine, component, timings
    component = wc.Component.deserialize_file(engine, str(cached))
    timings["load_s"] = time.perf_counter() - started
    return engine, component, timings


def _log_progress(message: str) -> None:
    """First-use progress: a warning on the ``ptclisp.sandbox`` logger (shown by default)."""
    import logging

    logging.getLogger("ptclisp.sandbox").warning("%s", message)


def _call_tool(store: Any, request: str) -> str:
    # Runs on the thread that called run(); must never raise (a host exception would trap).
    limits = ptclisp.Limits()
    try:
        limits = _state.bridge.limits
        message = loads(request)
        answer = _state.bridge.answer(message["name"], message["args"])
    except Exception as exc:
        answer = {"ok": False, "error": ToolError(f"malformed tool request: {exc}").to_dict()}
    return _bridge.fit(answer, dumps, limits)


def _trap_cause(text: str) -> str:
    # wasmtime's message is a backtrace, then "Caused by:" and the cause; keep only the cause.
    _, caused_by, cause = text.partition("Caused by:")
    lines = [line.strip() for line in (cause if caused_by else text).splitlines() if line.strip()]
    return "; ".join(lines[:3])


def _trap_error(exc: Exception) -> ptclisp.PtclispError:
    text = str(exc)
    if "wasm trap: interrupt" in text:
        return time_breach("the wasm epoch deadline was reached")
    if "all fuel consumed" in text:
        return time_breach("the wasm fuel budget was used up")
    if "call stack exhausted" in text:
        return LimitExceeded(
            "recursion depth limit exceeded: the wasm stack is exhausted",
            code="depth_limit",
            hint="recursion is too deep: use loop/recur or reduce instead",
        )
    return SandboxCrash(
        f"the wasm guest trapped: {_trap_cause(text) or type(exc).__name__}",
        hint="the interpreter crashed; this is not the program's fault — retry the run",
    )


class WasmSandbox:
    """Runs ptclisp inside wasmtime. Thread-safe: concurrent runs use separate stores.

    ``memory_limit`` caps the guest's linear memory (the interpreter's whole heap, about 20 MiB of
    which is the interpreter itself); the CPU deadline is the run's ``timeout_s`` + ``grace_s``
    (default: half the timeout, 0.25-1 s; ``backstop_grace``),
    checked every ``tick_s`` by epoch interruption. ``wasm_path`` defaults to the component built
    for the current sources, built on first use (tens of seconds, once per source change).
    """

    def __init__(
        self,
        *,
        memory_limit: int = 512 << 20,
        grace_s: float | None = None,
        tick_s: float = 0.01,
        wasm_path: Path | str | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        import wasmtime
        from wasmtime import component as wc

        from ._wasm_build import build_component, component_path

        self.memory_limit = memory_limit
        self.grace_s = grace_s
        self.tick_s = tick_s
        say = progress or _log_progress
        started = time.perf_counter()
        if wasm_path is None and not component_path().exists():
            say("building the wasm guest for these sources (first use: 15-60 s; "
                "`ptclisp sandbox warm` does it ahead of time)")
        path = Path(wasm_path) if wasm_path is not None else build_component()
        self.wasm_path = path
        """The component this sandbox runs."""
        self.timings: dict[str, float] = {"build_s": time.perf_counter() - started}
        if not compiled_component_path(path).exists():
            say("compiling the wasm guest to native code (first use: 5-20 s, then cached)")
        try:
            self._engine, self._component, loaded = load_component(path)
        except wasmtime.WasmtimeError as exc:
            raise SandboxError(f"cannot load the wasm guest {path}: {exc}") from None
        self.timings.update(loaded)
        self._linker = wc.Linker(self._engine)
        self._linker.add_wasip2()
        with self._linker.root() as root, root.add_instance("ptclisp:sandbox/host") as host:
            host.add_func("call-tool", _call_tool)
        self._instantiate_lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="wasm-epoch", daemon=True)
        self._ticker.start()

    def run_memory(self, limits: ptclisp.Limits | None) -> int:
        """A run's cap on linear memory: the interpreter (under 24 MiB) plus 1.5x the run's
        ``max_memory`` — the meter stops the program first; this is the backstop — and never
        more than ``memory_limit``."""
        max_memory = (limits or ptclisp.Limits()).max_memory
        return min(self.memory_limit, _GUEST_BASE + max_memory * 3 // 2)

    def _tick(self) -> None:
        while not self._stop.wait(self.tick_s):
            self._engine.increment_epoch()

    def run(
        self,
        source: str,
        *,
        tools: _bridge.ToolMap | None = None,
        data: Mapping[str, Any] | None = None,
        limits: ptclisp.Limits | None = None,
        _hooks: bool = False,
    ) -> ptclisp.Result:
        """Run ``source`` in a fresh wasm store; same contract as ``ptclisp.run``."""
        refused = _bridge.oversized(data, limits)
        if refused is not None:
            return refused
        request = _bridge.build_request(source, tools, data, limits, _hooks, json_exact)
        bridge = _bridge.ToolBridge(tools, limits, json_exact)
        answer = self._call(request, bridge, limits)
        return answer if isinstance(answer, ptclisp.Result) else bridge.outcome(answer)

    def execute(
        self,
        source: str,
        *,
        host: ToolHost,
        data: Mapping[str, Any] | None = None,
        limits: ptclisp.Limits | None = None,
        tools: object = None,
        cancel: ptclisp.CancelToken | None = None,
    ) -> ptclisp.Result | ptclisp.PendingStep:
        """Run ``source`` in a fresh store with ``host`` (its journal, tools and awaits) kept
        here: the ``runner`` of ``sandbox.start``/``resume`` (``ptclisp.host.start_on``).
        ``cancel`` ends the run at its next tool call or await (code ``cancelled``)."""
        stopped = _bridge.cancelled(cancel) or _bridge.oversized(data, limits)
        if stopped is not None:
            return stopped
        request = _bridge.build_request(source, host.tools, data, limits, False, json_exact,
                                        journal=True)
        answer = self._call(request, _bridge.JournalBridge(host, limits, cancel), limits)
        return _bridge.journal_outcome(answer, source, data, limits, host)

    def _call(
        self,
        request: dict[str, Any],
        bridge: _bridge.ToolBridge | _bridge.JournalBridge,
        limits: ptclisp.Limits | None,
    ) -> dict[str, Any] | ptclisp.Result:
        import wasmtime

        if self._stop.is_set():
            raise SandboxError("the wasm sandbox is closed")
        timeout_s = (limits or ptclisp.Limits()).timeout_s
        budget = timeout_s + backstop_grace(timeout_s, self.grace_s)
        store = wasmtime.Store(self._engine)
        store.set_limits(memory_size=self.run_memory(limits))
        store.set_wasi(wasmtime.WasiConfig())
        store.set_epoch_deadline(max(1, math.ceil(budget / self.tick_s)))
        with self._instantiate_lock:
            instance = self._linker.instantiate(store, self._component)
        run = instance.get_func(store, "run")
        assert run is not None, "the guest component exports run"
        _state.bridge = bridge
        try:
            answer = run(store, dumps(request))
            run.post_return(store)
        except wasmtime.WasmtimeError as exc:
            return ptclisp.Result(status="error", error=_trap_error(exc))
        finally:
            _state.bridge = None
        result: dict[str, Any] = loads(answer)
        return result

    def close(self) -> None:
        self._stop.set()

    def __enter__(self) -> WasmSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
