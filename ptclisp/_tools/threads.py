"""Synchronous tools under the run's wall clock: each call runs on a worker thread, the run waits
for it at most until its deadline.

A Python function cannot be interrupted from outside (a ``time.sleep``, a blocking socket read),
so a tool still running at the deadline is *abandoned*: the run ends with ``timeout`` on time,
and the call keeps running on its worker thread until it returns by itself; its result (or
exception) is then dropped — it is not journaled and no program sees it. Workers are daemon
threads (an abandoned call never delays the host's exit), reused while the calls they serve end
in time, and capped at ``MAX_WORKERS`` at once, abandoned ones included: when every worker is
busy a new call waits for one, again at most until its run's deadline.

Where threads cannot be started (CPython on WASI, the wasm tier's guest) calls run on the
calling thread; the wasm tier bounds them on the host side, where the real tool runs.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from typing import Any

from .._errors import LimitExceeded

__all__ = ["MAX_WORKERS", "call_bounded"]

MAX_WORKERS = 64
_lock = threading.Lock()
_idle: list[_Worker] = []
_busy = 0
_freed = threading.Condition(_lock)
_threads_ok = True


class _Worker:
    __slots__ = ("abandoned", "done", "go", "job", "outcome", "state")

    def __init__(self) -> None:
        self.go = threading.Lock()
        self.go.acquire()
        self.done = threading.Lock()
        self.done.acquire()
        self.state = threading.Lock()
        self.job: Callable[[], Any] | None = None
        self.outcome: tuple[bool, Any] = (False, None)
        self.abandoned = False

    def loop(self) -> None:
        while True:
            self.go.acquire()
            job, self.job = self.job, None
            try:
                self.outcome = (True, job())  # type: ignore[misc]
            except BaseException as exc:
                self.outcome = (False, exc)
            with self.state:
                if self.abandoned:  # nobody waits: this thread ends, its slot frees up
                    self.outcome = (False, None)
                    _release_slot()
                    return
                self.done.release()


def _release_slot() -> None:
    global _busy
    with _lock:
        _busy -= 1
        _freed.notify()


def _take(deadline: float) -> _Worker | None:
    """An idle worker, a new one, or None when threads are unavailable. Waits for a free slot
    at most until ``deadline`` (then ``timeout``)."""
    global _busy, _threads_ok
    with _lock:
        while True:
            if _idle:
                return _idle.pop()
            if not _threads_ok:
                return None
            if _busy < MAX_WORKERS:
                _busy += 1
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _timeout("every tool worker thread is busy")
            _freed.wait(remaining)
    worker = _Worker()
    try:
        threading.Thread(target=worker.loop, name="ptclisp-tool", daemon=True).start()
    except RuntimeError:  # no threads here (WASI): call on the caller's thread from now on
        with _lock:
            _busy -= 1
            _threads_ok = False
        return None
    return worker


def _timeout(detail: str) -> LimitExceeded:
    return LimitExceeded(
        f"time limit exceeded while a tool was running ({detail})",
        code="timeout",
        hint="the program ran too long: do less work or fewer slow tool calls",
    )


def call_bounded(fn: Callable[[], Any], deadline: float) -> Any:
    """``fn()`` on a worker thread, waited for until ``deadline`` (monotonic seconds).

    Raises what ``fn`` raised, or ``LimitExceeded`` (``timeout``) at the deadline, leaving ``fn``
    running on its thread (abandoned)."""
    worker = _take(deadline)
    if worker is None:
        return fn()
    context = contextvars.copy_context()
    worker.job = lambda: context.run(fn)
    worker.go.release()
    remaining = deadline - time.monotonic()
    if not worker.done.acquire(timeout=max(remaining, 0.0)):
        with worker.state:
            finished = worker.done.acquire(blocking=False)  # it may have just finished
            if not finished:
                worker.abandoned = True
        if not finished:
            raise _timeout("the call was abandoned and goes on in the background")
    ok, value = worker.outcome
    worker.outcome = (False, None)
    with _lock:
        _idle.append(worker)
    if ok:
        return value
    raise value
