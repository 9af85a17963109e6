"""Processes driven by the calling thread: ``drive(main)`` runs ``main`` as a process to its end
on the caller's own thread, the way ``trio.run`` does — no hop to a loop thread and back.

Each thread keeps its schedulers between calls (one per nesting level, made on first use), so a
call costs a spawn and a few process steps, not a new event loop. While ``drive`` runs, the
caller's thread *is* that scheduler's loop: processes step one after another on it, and the
scheduler is marked ``inline`` — a process may run blocking code (an agent turn) inside its
step, since nothing else waits for this thread. Only when every process is parked on asyncio
(a timer, ``aio``) does ``drive`` run the level's event loop until ``main`` exits. When ``main``
exits, processes it left behind are killed (reason ``"shutdown"``): a drive owns what it spawned.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ._errors import ActorError
from ._process import Pid
from ._runtime import _outcome
from ._scheduler import Scheduler

__all__ = ["drive"]

T = TypeVar("T")


class _Thread(threading.local):
    """This thread's schedulers, one per nesting level, and how many are in use."""

    def __init__(self) -> None:
        self.levels: list[_Level] = []
        self.depth = 0


_thread = _Thread()


def drive(main: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``main(*args)`` as a process on the calling thread until it exits; return its
    result, or raise the exception that crashed it (``ProcessDown`` for another abnormal
    reason). Other processes it spawned are killed when it exits. Nested calls (from inside a
    process step on this thread) use a scheduler of their own."""
    here = _thread
    depth = here.depth
    if depth == len(here.levels):
        here.levels.append(_Level())
    here.depth = depth + 1
    try:
        return here.levels[depth].run(main, args)
    finally:
        here.depth = depth


class _Level:
    """One scheduler (and its event loop) of one thread, reused by every drive at its depth."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.sched = Scheduler(self.loop, max_threads=8)
        self.sched.inline = True

    def run(self, main: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> T:
        sched = self.sched
        outcome: list[Any] = []
        sched._batch_scheduled = True  # wakes need no loop callback: this thread steps them
        try:
            pid = sched.spawn(main, args)
            sched.on_exit(pid, lambda reason, value: outcome.extend((reason, value)))
            runq = sched._runq
            while not outcome and runq:
                sched._run_steps(sched.batch_size)
            if not outcome:
                self._wait_on_loop(pid)
        finally:
            if sched.processes or sched._signals or sched._runq:
                self._clean_up()
            sched._batch_scheduled = False
        return _outcome(pid, *outcome)

    def _wait_on_loop(self, pid: Pid) -> None:
        """Every process waits on asyncio: run the event loop until ``pid`` exits."""
        if _loop_running():
            raise ActorError(
                "a process driven on this thread waits for asyncio (a timer or aio), but an "
                "event loop is already running on this thread",
                code="would_deadlock",
                hint="run it on a Runtime (a loop thread of its own), or await it from async "
                "code through Runtime.submit",
            )
        sched, loop = self.sched, self.loop
        done: asyncio.Future[None] = loop.create_future()

        def exited(reason: Any, value: Any) -> None:
            if not done.done():
                done.set_result(None)

        sched.on_exit(pid, exited)
        sched._batch_scheduled = False
        loop.run_until_complete(done)

    def _clean_up(self) -> None:
        sched = self.sched
        for proc in list(sched.processes):
            sched.kill(proc, "shutdown")
        sched._signals.clear()
        sched._runq.clear()

    def __del__(self) -> None:  # the thread ended: release the loop's descriptors
        loop = getattr(self, "loop", None)
        if loop is not None and not loop.is_closed() and not loop.is_running():
            loop.close()
            self.sched.pool.shutdown(wait=False)


def _loop_running() -> bool:
    """Whether an asyncio event loop runs on this thread (async code called us)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
