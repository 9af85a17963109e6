"""The scheduler: runs processes (coroutines) on one asyncio event loop.

How a process runs
==================

A process is a coroutine created by an ``async def`` body. It is not an ``asyncio.Task``: a
Task costs about a kilobyte and a trip through the event loop's ready queue per step, and we
want a million idle processes and half a million messages per second. The scheduler keeps its
own run queue of :class:`Pid` records and steps coroutines itself with ``coro.send(None)``.

A process gives control back only at a trap (``_traps.py``: ``receive``, ``sleep``,
``yield_``, ``aio``) or by awaiting a bare asyncio future. The trap yields a ``_Trap`` record
saying what the process waits for:

=============  ==============================================================================
yielded        the process is parked until ...
=============  ==============================================================================
``PLAIN``      any message arrives (shared record, no allocation; the message goes through
               the mailbox)
RECEIVE        a message matching ``trap.patterns`` arrives, or ``trap.timeout`` passes
SLEEP          a loop timer fires
AIO            the asyncio Task running ``trap.patterns[0]`` completes (httpx, thread pool)
YIELD          (not parked) it goes straight to the back of the run queue
a Future       that future is done (the process awaited ``asyncio.sleep`` and the like)
=============  ==============================================================================

Whoever wakes a process (``send``, a timer, a done-callback) stores the outcome in the trap and
appends the process to the run queue; the trap then returns that value at the ``await``. So the
driver always resumes with ``send(None)`` and never needs to know what the process waited for.

The loop
========

``_run_batch`` is the event loop of the actor world. It is scheduled with ``loop.call_soon``
when the run queue becomes non-empty and runs up to ``batch_size`` steps, then hands control
back to asyncio so sockets, timers and other threads' callbacks get their turn; if processes
are still runnable it schedules itself again. One step is::

    pop a process -> resume its coroutine -> it yields a trap / returns / raises
                  -> park it, requeue it, or finish it -> deliver queued exit signals

Exit signals (links) are queued and delivered between steps, never while the process that
triggered them is on the stack, so a process is only ever closed while suspended, and a long
chain of links unwinds iteratively instead of recursing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from ._errors import NoProcess
from ._match import matches_any
from ._process import _ALIVE, KILLED, NORMAL, Down, Exit, Pid, Ref, Timer
from ._traps import AIO, FAST_RECEIVES, PLAIN, RECEIVE, SLEEP, TIMEOUT, Raise, _tls, _Trap

__all__ = ["Scheduler", "SelfExit"]

log = logging.getLogger("runtime")

_KILL: Any = object()  # untrappable exit signal sent by exit_process(pid, "kill")


class SelfExit(BaseException):
    """Raised inside a process by ``exit_process(self_pid(), reason)`` to end it with a reason."""

    def __init__(self, reason: Any) -> None:
        super().__init__(reason)
        self.reason = reason


class Scheduler:
    """Runs processes on ``loop``. Every method must be called on the loop's thread: processes
    run there, and ``Runtime`` hops there for host threads."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        max_threads: int = 8,
        batch_size: int = 10_000,
    ) -> None:
        self.loop = loop
        self.current: Pid | None = None
        self.batch_size = batch_size
        self.registry: dict[str, Pid] = {}
        self.processes: set[Pid] = set()
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_threads, thread_name_prefix="runtime-sync"
        )
        self._runq: deque[Pid] = deque()
        self._signals: deque[tuple[Pid, Pid | None, Any]] = deque()
        self._exit_waiters: dict[Pid, list[Callable[[Any, Any], None]]] = {}
        self._batch_scheduled = False
        self.fast = FAST_RECEIVES
        self.inline = False
        """A thread drives this scheduler for one caller (``runtime.drive``): a process may run
        blocking code inside its step, as nothing else waits for the thread."""

    # ------------------------------------------------------------------ the loop

    def _schedule(self) -> None:
        if not self._batch_scheduled:
            self._batch_scheduled = True
            self.loop.call_soon(self._run_batch)

    def _run_batch(self) -> None:
        """Run up to ``batch_size`` process steps, then yield to asyncio (see module docstring)."""
        try:
            self._run_steps(self.batch_size)
        finally:
            if self._runq:
                self.loop.call_soon(self._run_batch)
            else:
                self._batch_scheduled = False

    def _run_steps(self, budget: int) -> None:
        """Run up to ``budget`` process steps on this thread (``_run_batch``, ``drive``). The
        thread's current scheduler and process are put back afterwards, so a scheduler driven
        from inside another's process step (``drive``) leaves the outer one as it was."""
        outer_sched, outer_current = getattr(_tls, "sched", None), self.current
        _tls.sched = self
        runq = self._runq
        popleft = runq.popleft
        append = runq.append
        signals = self._signals
        if signals:
            self._deliver_signals()
        try:
            while runq and budget:
                budget -= 1
                proc = popleft()
                coro = proc._coro
                if coro is None:  # killed while it sat in the run queue
                    continue
                self.current = proc
                try:
                    trap = coro.send(None)
                except StopIteration as stop:
                    self.current = None
                    self._finish(proc, NORMAL, stop.value)
                except SelfExit as exit_:
                    self.current = None
                    self._finish(proc, exit_.reason, None)
                except BaseException as exc:  # a crash becomes the process's exit reason
                    self.current = None
                    self._finish(proc, exc, None)
                    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                        raise
                else:
                    self.current = None
                    # The common case first: a plain receive parks with no allocation at all.
                    if trap is PLAIN:
                        proc._waiting = PLAIN
                    elif trap.__class__ is _Trap:
                        kind = trap.kind
                        if kind == RECEIVE:
                            proc._waiting = trap
                            if trap.timeout is not None:
                                proc._timer = self.loop.call_later(
                                    trap.timeout, self._wake, proc, trap, TIMEOUT
                                )
                        elif kind == SLEEP:
                            proc._waiting = trap
                            proc._timer = self.loop.call_later(
                                trap.timeout, self._wake, proc, trap, None
                            )
                        elif kind == AIO:
                            self._park_on_task(proc, trap)
                        else:  # YIELD: straight to the back of the queue
                            append(proc)
                    else:
                        self._park_on_future(proc, trap)
                if signals:
                    self._deliver_signals()
        finally:
            self.current = outer_current
            _tls.sched = outer_sched

    def _wake(self, proc: Pid, trap: _Trap, value: Any) -> None:
        """Store ``value`` in the trap ``proc`` is parked on and make it runnable."""
        if proc._waiting is not trap:  # woken already (a message beat the timer) or dead
            return
        proc._waiting = None
        timer = proc._timer
        if timer is not None:
            proc._timer = None
            timer.cancel()
        trap.value = value
        self._runq.append(proc)
        if not self._batch_scheduled:
            self._batch_scheduled = True
            self.loop.call_soon(self._run_batch)

    def _park_on_task(self, proc: Pid, trap: _Trap) -> None:
        proc._waiting = trap
        try:
            task = asyncio.ensure_future(trap.patterns[0], loop=self.loop)
        except TypeError as exc:
            self._wake(proc, trap, Raise(exc))
            return
        trap.patterns = (task,)
        task.add_done_callback(functools.partial(self._aio_done, proc, trap))

    def _aio_done(self, proc: Pid, trap: _Trap, task: asyncio.Future[Any]) -> None:
        if task.cancelled():
            self._wake(proc, trap, Raise(asyncio.CancelledError()))
        elif task.exception() is not None:
            self._wake(proc, trap, Raise(task.exception()))  # type: ignore[arg-type]
        else:
            self._wake(proc, trap, task.result())

    def _park_on_future(self, proc: Pid, fut: Any) -> None:
        """The process awaited an asyncio future directly (e.g. ``asyncio.sleep``)."""
        if getattr(fut, "_asyncio_future_blocking", None) is None:
            proc._coro.close()
            self._finish(
                proc,
                TypeError(f"a process awaited {fut!r}; await runtime operations or use aio()"),
                None,
            )
            return
        fut._asyncio_future_blocking = False
        proc._waiting = fut
        fut.add_done_callback(functools.partial(self._future_done, proc))

    def _future_done(self, proc: Pid, fut: Any) -> None:
        if proc._waiting is fut:
            proc._waiting = None
            self._runq.append(proc)
            self._schedule()

    # ------------------------------------------------------------------ processes

    def spawn(self, fn: Callable[..., Any], args: tuple[Any, ...], *,
              trap_exit: bool = False) -> Pid:
        coro = fn(*args)
        if not hasattr(coro, "send"):
            raise TypeError(f"spawn needs an async function; {fn!r} returned {type(coro).__name__}")
        proc = Pid(coro)
        proc._trap_exit = trap_exit
        self.processes.add(proc)
        self._runq.append(proc)
        self._schedule()
        return proc

    def resolve(self, dest: Pid | str) -> Pid:
        if dest.__class__ is Pid:
            return dest
        pid = self.registry.get(dest)  # type: ignore[arg-type]
        if pid is None:
            raise NoProcess(f"no process is registered as {dest!r}", hint="check whereis(name)")
        return pid

    def send(self, dest: Pid | str, msg: Any) -> None:
        proc = dest if dest.__class__ is Pid else self.resolve(dest)
        if proc._reason is not _ALIVE:
            return  # as in Erlang, sending to a dead process is not an error
        trap = proc._waiting
        if trap is PLAIN:  # parked on "any message": hand it over through the mailbox
            proc._waiting = None
            self._runq.append(proc)
            if not self._batch_scheduled:
                self._batch_scheduled = True
                self.loop.call_soon(self._run_batch)
        elif (
            trap is not None
            and trap.__class__ is _Trap
            and trap.kind == RECEIVE
            and (not trap.patterns or matches_any(trap.patterns, msg))
        ):
            self._wake(proc, trap, msg)
            return
        mailbox = proc._mailbox
        if mailbox is None:
            mailbox = proc._mailbox = deque()
        mailbox.append(msg)

    def _finish(self, proc: Pid, reason: Any, value: Any) -> None:
        """Record the exit, then notify links (as queued signals), monitors and host waiters."""
        self._stop_waiting(proc)
        proc._coro = None
        proc._mailbox = None
        proc._reason = reason
        self.processes.discard(proc)
        if proc._name is not None:
            if self.registry.get(proc._name) is proc:
                del self.registry[proc._name]
            proc._name = None
        if isinstance(reason, BaseException) and log.isEnabledFor(logging.DEBUG):
            log.debug("process %r crashed", proc, exc_info=reason)
        links, proc._links = proc._links, None
        if links:
            for other in links:
                if other._links is not None:
                    other._links.discard(proc)
                self._signals.append((other, proc, reason))
        monitors, proc._monitors = proc._monitors, None
        if monitors:
            for ref, watcher in monitors.items():
                if watcher is None:  # a monitor this process held on another: drop it there
                    target = ref._target
                    if target is not None and target._monitors is not None:
                        target._monitors.pop(ref, None)
                else:  # someone watched this process: the monitor fires and is used up
                    if watcher._monitors is not None:
                        watcher._monitors.pop(ref, None)
                    self.send(watcher, Down(ref, proc, reason))
        waiters = self._exit_waiters.pop(proc, None)
        if waiters:
            for callback in waiters:
                callback(reason, value)

    def _stop_waiting(self, proc: Pid) -> None:
        waiting, proc._waiting = proc._waiting, None
        timer, proc._timer = proc._timer, None
        if timer is not None:
            timer.cancel()
        if waiting is None:
            return
        if waiting.__class__ is _Trap:
            if waiting.kind == AIO and isinstance(waiting.patterns[0], asyncio.Future):
                waiting.patterns[0].cancel()  # the process is gone: really stop its async work
        else:
            waiting.cancel()

    def kill(self, proc: Pid, reason: Any) -> None:
        """End a suspended (or queued) process now; its ``finally`` blocks run."""
        coro = proc._coro
        if coro is None:
            return
        self._stop_waiting(proc)
        previous, self.current = self.current, proc
        try:
            coro.close()
        except BaseException:
            log.debug("process %r raised while being closed", proc, exc_info=True)
        finally:
            self.current = previous
        self._finish(proc, reason, None)

    def _deliver_signals(self) -> None:
        signals = self._signals
        while signals:
            target, sender, reason = signals.popleft()
            if target._coro is None:
                continue
            if reason is _KILL:
                self.kill(target, KILLED)
            elif target._trap_exit:
                self.send(target, Exit(sender, reason))  # type: ignore[arg-type]
            elif reason == NORMAL and isinstance(reason, str):
                continue
            else:
                self.kill(target, reason)

    def exit_signal(self, target: Pid, sender: Pid | None, reason: Any) -> None:
        """Send an exit signal (``exit_process``); ``"kill"`` cannot be trapped."""
        if isinstance(reason, str) and reason == "kill":
            reason = _KILL
        self._signals.append((target, sender, reason))
        if self.current is None:
            self._deliver_signals()

    # ------------------------------------------------------------------ links, monitors, names

    def link(self, a: Pid, b: Pid) -> None:
        if a is b:
            return
        if b._reason is not _ALIVE:
            # Linking to a dead process delivers an immediate 'noproc' exit signal.
            self._signals.append((a, b, "noproc"))
            return
        if a._links is None:
            a._links = set()
        if b._links is None:
            b._links = set()
        a._links.add(b)
        b._links.add(a)

    def unlink(self, a: Pid, b: Pid) -> None:
        if a._links is not None:
            a._links.discard(b)
        if b._links is not None:
            b._links.discard(a)

    def monitor(self, watcher: Pid, target: Pid) -> Ref:
        ref = Ref(target, watcher)
        if target._reason is not _ALIVE:
            self.send(watcher, Down(ref, target, "noproc"))
            return ref
        # Both ends record the monitor in their ``_monitors`` dict: the target maps it to the
        # watcher (to send Down), the watcher maps it to None (to drop it if the watcher dies
        # first) — one dict, no extra slot per process.
        if target._monitors is None:
            target._monitors = {}
        target._monitors[ref] = watcher
        if watcher._monitors is None:
            watcher._monitors = {}
        watcher._monitors[ref] = None
        return ref

    def demonitor(self, ref: Ref) -> bool:
        target, watcher = ref._target, ref._watcher
        if watcher is not None and watcher._monitors is not None:
            watcher._monitors.pop(ref, None)
        if target is None or target._monitors is None:
            return False
        return target._monitors.pop(ref, None) is not None

    def register(self, name: str, pid: Pid) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError("a process name must be a non-empty string")
        if pid._reason is not _ALIVE:
            raise NoProcess(f"cannot register {name!r}: {pid!r} is not alive")
        holder = self.registry.get(name)
        if holder is not None and holder is not pid:
            raise ValueError(f"the name {name!r} is already registered to {holder!r}")
        if pid._name is not None and pid._name != name:
            raise ValueError(f"{pid!r} is already registered as {pid._name!r}")
        self.registry[name] = pid
        pid._name = name

    def unregister(self, name: str) -> bool:
        pid = self.registry.pop(name, None)
        if pid is None:
            return False
        pid._name = None
        return True

    def send_after(self, delay: float, dest: Pid | str, msg: Any) -> Timer:
        timer = Timer()
        timer._handle = self.loop.call_later(delay, self._timer_send, timer, dest, msg)
        return timer

    def _timer_send(self, timer: Timer, dest: Pid | str, msg: Any) -> None:
        timer._fired = True
        # a timer aimed at a name that is gone is dropped, as in Erlang
        with contextlib.suppress(NoProcess):
            self.send(dest, msg)

    def on_exit(self, proc: Pid, callback: Callable[[Any, Any], None]) -> None:
        """Call ``callback(reason, value)`` when ``proc`` exits (at once if it already has)."""
        if proc._reason is not _ALIVE:
            callback(proc._reason, None)
        else:
            self._exit_waiters.setdefault(proc, []).append(callback)

    # ------------------------------------------------------------------ asyncio / threads

    def run_in_thread(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> asyncio.Future[Any]:
        ctx = contextvars.copy_context()
        return self.loop.run_in_executor(self.pool, functools.partial(ctx.run, fn, *args))

    def shutdown(self, reason: Any) -> None:
        """Kill every process (their ``finally`` blocks run) and release the thread pool."""
        for proc in list(self.processes):
            self.kill(proc, reason)
        self._signals.clear()
        self.pool.shutdown(wait=False, cancel_futures=True)
