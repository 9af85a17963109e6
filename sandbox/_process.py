"""The process tier: a pool of warm worker processes, each under OS limits.

Workers are started ahead of time (``python -I``, empty environment, no inherited descriptors) and
reused run after run, so a run costs a message round trip, not a fork and an interpreter start.
A worker that breaches a limit, crashes, stops answering or has served ``max_runs`` is killed and
replaced; the run it was serving ends with the error code of the cause and every other run goes on.

Exit → error code: SIGXCPU (RLIMIT_CPU) or a host kill at the wall-clock deadline → ``timeout``;
``MemoryError`` under RLIMIT_AS → ``memory_limit`` (reported by the worker itself); any other death
→ ``sandbox_crash``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ptclisp
from ptclisp.host import ToolHost

from . import _bridge
from ._errors import SandboxCrash, SandboxError, backstop_grace, time_breach
from ._protocol import FrameReader, pack_frame, write_frame, write_packed

__all__ = ["ProcessPool"]

_BOOT = (
    "import sys; sys.path[:0] = {roots!r}; "
    "from ptclisp.sandbox._worker import main; main()"
)
_START_TIMEOUT_S = 60.0
_AS_SLACK = 64 << 20
_STDERR_TAIL = 600

logger = logging.getLogger(__name__)


def _import_roots() -> list[str]:
    """Where the worker finds ``ptclisp`` (an editable install maps ``ptclisp.sandbox`` to its
    folder with a finder the worker's site-packages installs)."""
    return [str(Path(ptclisp.__file__).resolve().parent.parent)]


class _Worker:
    """One child process and its channel."""

    def __init__(self, python: str, config: dict[str, Any]) -> None:
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - kept open, closed in close()
        self.proc = subprocess.Popen(
            [python, "-I", "-X", "utf8", "-c", _BOOT.format(roots=_import_roots()),
             json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env={},
            cwd="/",
            close_fds=True,
            start_new_session=True,  # a Ctrl-C aimed at the host's process group spares workers
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.write_fd = self.proc.stdin.fileno()
        self.reader = FrameReader(self.proc.stdout.fileno())
        self.runs = 0
        self.ready = False
        self.killed_at_deadline = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self) -> None:
        if self.ready:
            return
        try:
            message = self.reader.read(time.monotonic() + _START_TIMEOUT_S)
        except (EOFError, TimeoutError) as exc:
            self.kill()
            raise SandboxError(
                f"a sandbox worker failed to start ({exc}): {self.stderr_tail()}"
            ) from None
        if message.get("op") != "ready":
            self.kill()
            raise SandboxError(f"a sandbox worker sent {message!r} instead of 'ready'")
        self.ready = True

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]

    def close(self) -> None:
        self.kill()
        self.stderr.close()

    def stderr_tail(self) -> str:
        self.stderr.flush()
        self.stderr.seek(0, os.SEEK_END)
        size = self.stderr.tell()
        self.stderr.seek(max(0, size - _STDERR_TAIL))
        return self.stderr.read().decode("utf-8", "replace").strip()

    def death_error(self) -> ptclisp.PtclispError:
        """Why the worker is gone, as the error of the run it was serving."""
        status = self.proc.wait()
        if self.killed_at_deadline:
            return time_breach("the sandbox stopped answering past the run's deadline")
        if status == -signal.SIGXCPU:
            return time_breach("the CPU-time limit (RLIMIT_CPU) was reached")
        cause = f"signal {signal.Signals(-status).name}" if status < 0 else f"exit status {status}"
        tail = self.stderr_tail()
        return SandboxCrash(
            f"the sandbox process died ({cause})" + (f": {tail}" if tail else ""),
            hint="the interpreter crashed; this is not the program's fault — retry the run",
        )


class ProcessPool:
    """Warm worker processes running ptclisp under OS limits.

    ``size`` workers serve runs concurrently (a run waits for a free one). Each worker is capped at
    ``address_space`` bytes of virtual memory and, per run, at the run's ``timeout_s`` plus
    ``grace_s`` of CPU time (default: half the timeout, 0.25-1 s; ``backstop_grace``). The host
    also kills a worker still silent ``wall_grace_s`` seconds (default ``grace + 0.5``) past the
    run's ``timeout_s``: a guest blocked without using CPU.
    Workers are recycled after ``max_runs`` runs.
    """

    def __init__(
        self,
        size: int = 2,
        *,
        address_space: int = 1 << 30,
        grace_s: float | None = None,
        wall_grace_s: float | None = None,
        max_runs: int = 500,
        max_fds: int = 32,
        max_file_bytes: int = 1 << 20,
        python: str = sys.executable,
    ) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self.grace_s = grace_s
        self.wall_grace_s = wall_grace_s
        self.max_runs = max_runs
        self._python = python
        self._config = {
            "address_space": address_space,
            "max_fds": max_fds,
            "max_file_bytes": max_file_bytes,
        }
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self.replaced = 0
        """Workers killed and replaced so far (breaches, crashes, recycling)."""
        for _ in range(size):
            self._idle.put(_Worker(python, self._config))

    def run(
        self,
        source: str,
        *,
        tools: _bridge.ToolMap | None = None,
        data: Mapping[str, Any] | None = None,
        limits: ptclisp.Limits | None = None,
        _hooks: bool = False,
    ) -> ptclisp.Result:
        """Run ``source`` in a worker; same contract as ``ptclisp.run``."""
        refused = _bridge.oversized(data, limits)
        if refused is not None:
            return refused
        request = _bridge.build_request(source, tools, data, limits, _hooks)
        timeout_s = (limits or ptclisp.Limits()).timeout_s
        request["cpu_budget_s"] = timeout_s + self._grace(timeout_s)
        # The OS backstop for memory: 1.5x the run's max_memory (+ room for the interpreter's
        # own arenas) past what the worker maps when the run starts.
        max_memory = (limits or ptclisp.Limits()).max_memory
        request["memory_budget"] = max_memory * 3 // 2 + _AS_SLACK
        # The wall-clock kill comes after the CPU limit could fire (it is rounded up to whole
        # seconds), so a CPU-bound runaway is reported as such and a blocked one is still ended.
        wall_s = timeout_s + self._wall_grace(timeout_s)
        worker = self._acquire()
        healthy = False
        try:
            bridge = _bridge.ToolBridge(tools, limits)
            answer, healthy = self._serve(worker, request, bridge, wall_s)
            if isinstance(answer, ptclisp.Result):
                return answer
            return bridge.outcome(answer)
        finally:
            self._release(worker, healthy)

    def _grace(self, timeout_s: float) -> float:
        return backstop_grace(timeout_s, self.grace_s)

    def _wall_grace(self, timeout_s: float) -> float:
        """Past the CPU backstop: the worker's start and the frames' round trip."""
        if self.wall_grace_s is not None:
            return self.wall_grace_s
        return self._grace(timeout_s) + 0.5

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
        """Run ``source`` in a worker with ``host`` (its journal, tools and awaits) kept here:
        the ``runner`` of ``sandbox.start``/``resume`` (``ptclisp.host.start_on``)."""
        stopped = _bridge.cancelled(cancel) or _bridge.oversized(data, limits)
        if stopped is not None:
            return stopped
        request = _bridge.build_request(source, host.tools, data, limits, False, journal=True)
        timeout_s = (limits or ptclisp.Limits()).timeout_s
        request["cpu_budget_s"] = timeout_s + self._grace(timeout_s)
        worker = self._acquire()
        healthy = False
        try:
            bridge = _bridge.JournalBridge(host, limits, cancel)
            answer, healthy = self._serve(worker, request, bridge,
                                          timeout_s + self._wall_grace(timeout_s))
        finally:
            self._release(worker, healthy)
        return _bridge.journal_outcome(answer, source, data, limits, host)

    def _serve(
        self,
        worker: _Worker,
        request: dict[str, Any],
        bridge: _bridge.ToolBridge | _bridge.JournalBridge,
        budget_s: float,
    ) -> tuple[dict[str, Any] | ptclisp.Result, bool]:
        deadline = time.monotonic() + budget_s
        worker.runs += 1
        try:
            write_frame(worker.write_fd, {"op": "run", "request": request})
            while True:
                message = worker.reader.read(deadline)
                if message["op"] == "tool":
                    answer = bridge.answer(message["name"], message["args"])
                    write_packed(worker.write_fd, _bridge.fit(
                        answer, lambda a: pack_frame({"op": "tool_answer", "answer": a}),
                        bridge.limits))
                elif message["op"] == "result":
                    return message["result"], not message.get("retire")
                else:
                    raise EOFError(f"unexpected message {message.get('op')!r}")
        except TimeoutError:
            worker.killed_at_deadline = True
            worker.kill()
        except (EOFError, BrokenPipeError, ConnectionResetError):
            worker.kill()
        return ptclisp.Result(status="error", error=worker.death_error()), False

    def _acquire(self) -> _Worker:
        if self._closed:
            raise SandboxError("the process pool is closed")
        worker = self._idle.get()
        try:
            worker.wait_ready()
        except SandboxError as exc:
            self._replace(worker, f"it did not start: {exc}")
            raise
        return worker

    def _release(self, worker: _Worker, healthy: bool) -> None:
        if healthy and worker.runs < self.max_runs and not self._closed:
            self._idle.put(worker)
        elif self._closed:
            self._replace(worker, "the pool is closed")
        else:
            self._replace(worker, f"it served {worker.runs} runs (max_runs)" if healthy
                          else "it breached a limit, crashed or stopped answering")

    def _replace(self, worker: _Worker, reason: str) -> None:
        logger.info("replacing sandbox worker pid %s: %s", worker.pid, reason)
        worker.close()
        with self._lock:
            self.replaced += 1
            if self._closed:
                return
        self._idle.put(_Worker(self._python, self._config))

    def worker_pids(self) -> list[int]:
        """Pids of the idle workers (for monitoring and tests)."""
        with self._idle.mutex:
            return [w.pid for w in self._idle.queue]

    def close(self) -> None:
        """Stop every idle worker; runs in flight finish and their workers are then stopped."""
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def __enter__(self) -> ProcessPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
