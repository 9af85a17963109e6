"""Synchronous tools under the run's wall clock: worker threads the caller waits for at most
until the run's deadline.

A Python function cannot be interrupted from outside (a ``time.sleep``, a blocking socket read),
so work still running at the deadline is *abandoned*: the caller gets ``timeout`` on time and the
work goes on on its worker thread until it returns by itself; what it produces is then dropped.

Two uses, one pool:

- ``run_on_worker``: a whole run that has tools executes on a worker (one thread hand-off per
  run) and calls its tools inline there. At the deadline the caller ends the run with
  ``timeout`` and *halts* its meter: the interpreter stops at its next check (every ~1,000
  steps, and before and after each tool call), so a tool call in flight finishes, its result is
  dropped (not journaled, not in ``Result.tool_calls``) and no further call starts. Runs whose
  ``max_depth`` needs a bigger C stack than a thread's default get a worker sized for it.
- ``call_bounded``: one tool call on a worker, for calls made on threads no deadline-keeping
  caller waits for (``pmap`` items on a host's ``parallel_map``; the outer tiers' tool bridge).

Workers are daemon threads (abandoned work never delays the host's exit), reused, and capped at
``MAX_WORKERS`` at once, abandoned ones included: when every worker is busy, new work waits for
one, again at most until its run's deadline. Workers with big stacks end after their run (their
touched stack would otherwise stay resident).

Where threads cannot be started (CPython on WASI, the wasm tier's guest) work runs on the
calling thread; the wasm tier bounds tool calls on the host side, where the real tool runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._errors import LimitExceeded

if TYPE_CHECKING:
    from .._limits import Meter

__all__ = ["MAX_WORKERS", "RUN_STACK", "call_bounded", "caller_loop", "on_run_worker",
           "run_on_worker"]

MAX_WORKERS = 64
RUN_STACK = 16 * 2**20
"""The stack of a pooled run worker: twice the 8 MB the recursion limit is sized for."""
_POOLED_STACKS = (0, RUN_STACK)
"""Stack sizes whose workers are kept for reuse (0: the platform's default, for tool calls)."""
_MAX_IDLE = 16
_CANCEL_POLL_S = 0.05
"""How often a waiting caller looks at the run's ``CancelToken``."""

_lock = threading.Lock()
_idle: dict[int, list[_Worker]] = {}
_busy = 0
"""Worker threads alive (idle ones included)."""
_freed = threading.Condition(_lock)
_here = threading.local()
"""On a worker running a run: ``run`` (True) and ``loop`` (the caller's running event loop)."""


class _Worker:
    __slots__ = ("abandoned", "done", "go", "job", "outcome", "stack", "state")

    def __init__(self, stack: int) -> None:
        self.go = threading.Lock()
        self.go.acquire()
        self.done = threading.Lock()
        self.done.acquire()
        self.state = threading.Lock()
        self.job: Callable[[], Any] | None = None
        self.outcome: tuple[bool, Any] = (False, None)
        self.abandoned = False
        self.stack = stack

    def loop(self) -> None:
        while True:
            self.go.acquire()
            job, self.job = self.job, None
            if job is None:  # retired while idle
                _release_slot()
                return
            try:
                self.outcome = (True, job())
            except BaseException as exc:
                self.outcome = (False, exc)
            job = None  # idle, the worker must not hold the run (its host, journal, data)
            with self.state:
                if not self.abandoned:
                    self.done.release()
                    continue
                self.abandoned = False  # nobody waits: drop the outcome, rejoin the pool
                self.outcome = (False, None)
            if not _park(self):
                _release_slot()
                return


def _park(worker: _Worker) -> bool:
    """Put ``worker`` back in the pool; False when it should end instead."""
    if worker.stack not in _POOLED_STACKS:
        return False
    with _lock:
        idle = _idle.setdefault(worker.stack, [])
        if len(idle) >= _MAX_IDLE:
            return False
        idle.append(worker)
        _freed.notify()
    return True


def _release_slot() -> None:
    global _busy
    with _lock:
        _busy -= 1
        _freed.notify()


def _take(deadline: Callable[[], float], stack: int) -> _Worker | None:
    """An idle worker with ``stack``, a new one, or None when threads are unavailable. Waits for
    a free slot at most until ``deadline()`` (then ``timeout``)."""
    global _busy
    with _lock:
        while True:
            idle = _idle.get(stack)
            if idle:
                return idle.pop()
            if _busy < MAX_WORKERS:
                _busy += 1
                break
            if _retire_one():
                continue
            remaining = deadline() - time.monotonic()
            if remaining <= 0:
                raise _timeout("every worker thread is busy")
            _freed.wait(remaining)
    return _start(stack)


def _retire_one() -> bool:
    """End an idle worker of another stack size to make room (called with ``_lock`` held)."""
    for idle in _idle.values():
        if idle:
            worker = idle.pop()
            worker.go.release()  # no job: it ends and frees its slot
            _freed.wait(0.05)
            return True
    return False


def _start(stack: int) -> _Worker | None:
    """A new worker thread with ``stack`` bytes of stack (the platform's default where stacks
    cannot be sized); None where no thread can start (CPython on WASI, an address-space limit):
    the work then runs on the caller's thread."""
    global _busy
    worker = _Worker(stack)
    thread = threading.Thread(target=worker.loop, name="ptclisp-worker", daemon=True)
    try:
        with _stack_lock:
            try:
                previous = threading.stack_size(stack)
            except (ValueError, RuntimeError):
                previous = None
            try:
                thread.start()
            finally:
                if previous is not None:
                    threading.stack_size(previous)
    except RuntimeError:  # "can't start new thread"
        with _lock:
            _busy -= 1
            _freed.notify()
        return None
    return worker


_stack_lock = threading.Lock()


def _timeout(detail: str) -> LimitExceeded:
    return LimitExceeded(
        f"time limit exceeded ({detail})",
        code="timeout",
        hint="the program ran too long: do less work or fewer slow tool calls",
    )


def _hand_over(worker: _Worker, job: Callable[[], Any]) -> None:
    context = contextvars.copy_context()
    worker.job = lambda: context.run(job)
    worker.go.release()


def _collect(worker: _Worker) -> Any:
    ok, value = worker.outcome
    worker.outcome = (False, None)
    _recycle(worker)
    if ok:
        return value
    raise value


def _recycle(worker: _Worker) -> None:
    """Back to the pool, or (pool full, big stack) ended: no job, the thread ends."""
    if not _park(worker):
        worker.go.release()


def _give_up(worker: _Worker) -> bool:
    """Abandon ``worker`` unless it finished meanwhile (then True: collect it)."""
    with worker.state:
        if worker.done.acquire(blocking=False):
            return True
        worker.abandoned = True
    return False


# ---------------------------------------------------------------- whole runs


def on_run_worker() -> bool:
    """Whether this thread runs a run for a caller that waits with the run's deadline (tool
    calls here go inline)."""
    return getattr(_here, "run", False)


def caller_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in the thread that handed this run to its worker, if any (an
    ``async def`` tool scheduled on it would wait for a loop that is blocked waiting for us)."""
    return getattr(_here, "loop", None)


def run_on_worker(fn: Callable[[], Any], meter: Meter, stack: int = RUN_STACK,
                  fallback: Callable[[], Any] | None = None) -> Any:
    """``fn()`` — a run metered by ``meter`` — on a pooled worker with ``stack`` bytes of C
    stack, waited for until ``meter.deadline`` (read again as it moves: a resumed run's clock
    restarts after its replay) or until ``meter.cancel`` is cancelled.

    Returns what ``fn`` returned, raises what it raised; at the deadline (or on cancel) halts
    ``meter`` — the abandoned run stops at its next check — and raises ``LimitExceeded``
    (``timeout``, or ``cancelled``). Where no thread can start, runs ``fallback`` (default
    ``fn``) here."""
    worker = _take(lambda: meter.deadline, stack)
    if worker is None:
        return (fallback or fn)()
    loop = _running_loop() or caller_loop()  # a nested run's caller may be a worker too

    def job() -> Any:
        _here.run, _here.loop = True, loop
        try:
            return fn()
        finally:
            _here.run, _here.loop = False, None

    _hand_over(worker, job)
    try:
        finished = _wait(worker, meter)
    except BaseException:  # e.g. KeyboardInterrupt in the waiting thread: stop the run too
        meter.halt("cancelled", "the run was interrupted")
        if _give_up(worker):
            worker.outcome = (False, None)
            _recycle(worker)
        raise
    if finished or _give_up(worker):
        return _collect(worker)
    return _abandoned(meter)


def _wait(worker: _Worker, meter: Meter) -> bool:
    """Wait for ``worker``'s job until the run's deadline or its cancellation."""
    cancel = meter.cancel
    while True:
        remaining = meter.deadline - time.monotonic()
        if remaining <= 0 or (cancel is not None and cancel.cancelled):
            return False
        if cancel is not None:
            remaining = min(remaining, _CANCEL_POLL_S)
        if worker.done.acquire(timeout=remaining):
            return True


def _abandoned(meter: Meter) -> Any:
    if meter.cancel is not None and meter.cancel.cancelled:
        meter.halt("cancelled", "the run was cancelled")
        meter.cancel.check()
    error = meter.timeout_error(" (the run was abandoned: a tool call still running goes on in "
                                "the background, its result dropped)")
    meter.halt("timeout", error.message)
    raise error


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


# ---------------------------------------------------------------- single calls


def call_bounded(fn: Callable[[], Any], deadline: float) -> Any:
    """``fn()`` on a worker thread, waited for until ``deadline`` (monotonic seconds).

    Raises what ``fn`` raised, or ``LimitExceeded`` (``timeout``) at the deadline, leaving ``fn``
    running on its thread (abandoned)."""
    worker = _take(lambda: deadline, 0)
    if worker is None:
        return fn()
    _hand_over(worker, fn)
    remaining = deadline - time.monotonic()
    if worker.done.acquire(timeout=max(remaining, 0.0)) or _give_up(worker):
        return _collect(worker)
    raise _timeout("a tool was still running: the call was abandoned and goes on in the "
                   "background")
