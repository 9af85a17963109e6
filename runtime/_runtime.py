"""The host side: a :class:`Runtime` owns an event loop thread and its scheduler.

Host code (ordinary threads, the ptclisp interpreter, tests) talks to processes through a
``Runtime``; every method is thread-safe and hops onto the loop thread. ``run(main)`` is the
one-shot form that runs a scheduler in the calling thread until ``main`` exits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from ._api import call as _call
from ._errors import ActorError, ProcessDown, RuntimeStopped
from ._process import NORMAL, Pid
from ._scheduler import Scheduler

__all__ = ["Runtime", "run"]

T = TypeVar("T")


class Runtime:
    """An actor runtime on a background thread. Use as ``with Runtime() as rt: ...``.

    ``max_threads`` bounds the thread pool that runs blocking sync tools (``run_sync``).
    """

    def __init__(self, *, max_threads: int = 8, batch_size: int = 10_000) -> None:
        self._max_threads = max_threads
        self._batch_size = batch_size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sched: Scheduler | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Runtime:
        """Start the loop thread (idempotent); returns self."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._main, args=(ready,), name="runtime-loop", daemon=True
        )
        self._thread.start()
        ready.wait()
        return self

    def _main(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._sched = Scheduler(loop, max_threads=self._max_threads, batch_size=self._batch_size)
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            _cancel_tasks(loop)
            loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Kill every process (reason ``"shutdown"``), stop the loop and join its thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or loop.is_closed():
            return
        sched = self._sched

        def shutdown() -> None:
            sched.shutdown("shutdown")  # type: ignore[union-attr]
            loop.stop()

        loop.call_soon_threadsafe(shutdown)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The runtime's event loop (for ``asyncio.run_coroutine_threadsafe``)."""
        if self._loop is None or self._loop.is_closed():
            raise RuntimeStopped("the runtime is not running", hint="call Runtime.start() first")
        return self._loop

    # ------------------------------------------------------------------ thread hopping

    def _on_loop(self, fn: Callable[..., T], *args: Any, timeout: float | None = 10.0) -> T:
        """Run ``fn(*args)`` on the loop thread and return its result."""
        loop = self.loop
        if threading.current_thread() is self._thread:
            return fn(*args)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn(*args))
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(timeout)

    def _refuse_blocking_on_loop(self, what: str) -> None:
        if threading.current_thread() is self._thread:
            raise ActorError(
                f"Runtime.{what}() blocks, and was called on the runtime's own loop thread",
                code="would_deadlock",
                hint="inside a process use `await call(...)`, "
                     "or run the blocking code via run_sync",
            )

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run an asyncio coroutine on the runtime's loop; returns a concurrent future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    # ------------------------------------------------------------------ processes

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any, trap_exit: bool = False) -> Pid:
        """Start ``fn(*args)`` as a process; returns its pid."""
        return self._on_loop(lambda: self._sched.spawn(fn, args, trap_exit=trap_exit))  # type: ignore[union-attr]

    def send(self, dest: Pid | str, message: Any) -> None:
        """Send ``message`` to a pid or registered name."""
        self._on_loop(self._sched.send, dest, message)  # type: ignore[union-attr]

    def exit_process(self, pid: Pid, reason: Any = "kill") -> None:
        """Send an exit signal to ``pid`` from outside (``"kill"`` cannot be trapped)."""
        self._on_loop(self._sched.exit_signal, pid, None, reason)  # type: ignore[union-attr]

    def whereis(self, name: str) -> Pid | None:
        """The pid registered as ``name``, or None."""
        return self._on_loop(self._sched.registry.get, name)  # type: ignore[union-attr]

    def register(self, name: str, pid: Pid) -> None:
        """Register ``pid`` under ``name``."""
        self._on_loop(self._sched.register, name, pid)  # type: ignore[union-attr]

    def process_count(self) -> int:
        """How many processes are alive."""
        return self._on_loop(lambda: len(self._sched.processes))  # type: ignore[union-attr]

    def wait(self, pid: Pid, timeout: float | None = None) -> tuple[Any, Any]:
        """Block until ``pid`` exits; returns ``(reason, value)``.

        ``value`` is what the body returned if this wait began before the exit, else None.
        """
        self._refuse_blocking_on_loop("wait")
        future: concurrent.futures.Future[tuple[Any, Any]] = concurrent.futures.Future()
        self._on_loop(
            self._sched.on_exit,  # type: ignore[union-attr]
            pid,
            lambda reason, value: future.set_result((reason, value)),
        )
        return future.result(timeout)

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any, timeout: float | None = None) -> T:
        """Spawn ``fn(*args)``, wait for it and return its result (or raise why it died)."""
        self._refuse_blocking_on_loop("run")
        future: concurrent.futures.Future[tuple[Any, Any]] = concurrent.futures.Future()

        def spawn_and_watch() -> Pid:
            # Watch in the same loop turn as the spawn, so the result cannot slip past us.
            pid = self._sched.spawn(fn, args)  # type: ignore[union-attr]
            self._sched.on_exit(pid, lambda r, v: future.set_result((r, v)))  # type: ignore[union-attr]
            return pid

        pid = self._on_loop(spawn_and_watch)
        try:
            reason, value = future.result(timeout)
        except concurrent.futures.TimeoutError:
            self.exit_process(pid, "kill")
            raise
        return _outcome(pid, reason, value)

    def call(self, dest: Pid | str, payload: Any, timeout: float | None = 5.0) -> Any:
        """A blocking ``call`` from the host: send a ``Request``, wait for the ``reply``."""
        return self.run(_call, dest, payload, timeout)


def _outcome(pid: Pid, reason: Any, value: Any) -> Any:
    if isinstance(reason, BaseException):
        raise reason
    if reason != NORMAL:
        raise ProcessDown(f"{pid!r} exited with reason {reason!r}", reason=reason)
    return value


def _cancel_tasks(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def run(
    main: Callable[..., Awaitable[T]],
    *args: Any,
    max_threads: int = 8,
    batch_size: int = 10_000,
) -> T:
    """Run ``main(*args)`` as the first process of a fresh scheduler in the calling thread.

    Returns when ``main`` exits (other processes are then shut down), with its result — or
    raises the exception that crashed it.
    """
    loop = asyncio.new_event_loop()
    sched = Scheduler(loop, max_threads=max_threads, batch_size=batch_size)
    outcome: list[Any] = []

    def finished(reason: Any, value: Any) -> None:
        outcome.extend((reason, value))
        loop.stop()

    try:
        pid = sched.spawn(main, args)
        sched.on_exit(pid, finished)
        loop.run_forever()
        sched.shutdown("shutdown")
        _cancel_tasks(loop)
    finally:
        loop.close()
    return _outcome(pid, *outcome)
