"""Traps: the only functions that ever yield from a process back to the scheduler.

Each is a generator-based coroutine (``types.coroutine``): cheaper to await than an object
with ``__await__`` (a generator return costs no exception object). A trap yields a
:class:`_Trap` record; whoever wakes the process stores the outcome in ``trap.value`` and
requeues it; the generator then returns (or raises) that value at the caller's ``await``.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from ._errors import NotInProcess, ReceiveTimeout
from ._match import matches_any

_tls = threading.local()  # .sched: the scheduler stepping processes on this thread

RECEIVE = 0  # park until a matching message (or the timeout)
SLEEP = 1  # park until a timer fires
AIO = 2  # park until an asyncio future completes
YIELD = 3  # requeue at once: let the others run first

TIMEOUT: Any = object()
NO_DEFAULT: Any = object()

# A process may take this many queued messages without yielding before the scheduler gives
# another process a turn (Erlang's reductions, simplified).
FAST_RECEIVES = 256


class _Trap:
    """What a parked process waits on, and (once woken) what it gets."""

    __slots__ = ("kind", "patterns", "timeout", "value")

    def __init__(self, kind: int, patterns: tuple[Any, ...] = (), timeout: Any = None) -> None:
        self.kind = kind
        self.value: Any = None
        self.patterns = patterns
        self.timeout = timeout


class Raise:
    """A trap value meaning "raise this exception at the await"."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


PLAIN = _Trap(RECEIVE)  # shared by every "any message, no timeout" receive: woken via the mailbox
REQUEUE = _Trap(YIELD)


def current_scheduler() -> Any:
    """The scheduler of the process running on this thread; raises outside a process."""
    sched = getattr(_tls, "sched", None)
    if sched is None or sched.current is None:
        raise NotInProcess(
            "this operation is only available inside a runtime process",
            hint="spawn an async function with Runtime.spawn / runtime.run and call it there",
        )
    return sched


@types.coroutine
def receive(
    *patterns: Any, timeout: float | None = None, default: Any = NO_DEFAULT
) -> Generator[_Trap, None, Any]:
    """Await the oldest message matching any of ``patterns`` (every message if none given).

    Non-matching messages stay in the mailbox, in order, for a later ``receive``. With a
    ``timeout`` (seconds) and no match in time, returns ``default`` if given, else raises
    ``ReceiveTimeout``; ``timeout=0`` polls. Use as ``msg = await receive(...)``.
    """
    try:
        sched = _tls.sched
        proc = sched.current
    except AttributeError:  # no scheduler on this thread (sched unset or None)
        proc = None
    if proc is None:
        current_scheduler()  # raises NotInProcess
    mailbox = proc._mailbox
    if mailbox:
        found, msg = _take(mailbox, patterns)
        if found:
            sched.fast -= 1
            if sched.fast <= 0:  # fairness: a full mailbox must not starve everyone else
                sched.fast = FAST_RECEIVES
                yield REQUEUE
            return msg
    if timeout is None and not patterns:
        yield PLAIN  # the sender appends to the mailbox and requeues us
        return proc._mailbox.popleft()
    if timeout is not None and timeout <= 0:
        return _timed_out(timeout, default)
    trap = _Trap(RECEIVE, patterns, timeout)
    yield trap
    if trap.value is TIMEOUT:
        return _timed_out(timeout, default)
    return trap.value


def _take(mailbox: Any, patterns: tuple[Any, ...]) -> tuple[bool, Any]:
    if not patterns:
        return True, mailbox.popleft()
    for index, msg in enumerate(mailbox):
        if matches_any(patterns, msg):
            del mailbox[index]
            return True, msg
    return False, None


def _timed_out(timeout: float | None, default: Any) -> Any:
    if default is not NO_DEFAULT:
        return default
    raise ReceiveTimeout(
        f"no matching message within {timeout} s",
        hint="pass default=... to receive() to get a value instead of an error on timeout",
    )


@types.coroutine
def sleep(seconds: float) -> Generator[_Trap, None, None]:
    """Suspend the calling process for ``seconds``; other processes keep running."""
    current_scheduler()
    yield _Trap(SLEEP, (), max(0.0, seconds))


@types.coroutine
def yield_() -> Generator[_Trap, None, None]:
    """Let every other runnable process take a step before this one continues."""
    current_scheduler()
    yield REQUEUE


@types.coroutine
def aio(awaitable: Awaitable[Any]) -> Generator[_Trap, None, Any]:
    """Await an asyncio awaitable (an httpx request, an async tool) without blocking others.

    It runs as an ``asyncio.Task`` on the runtime's loop; if the process dies meanwhile, the
    task is cancelled.
    """
    current_scheduler()
    trap = _Trap(AIO, (awaitable,))
    yield trap
    value = trap.value
    if value.__class__ is Raise:
        raise value.exc
    return value


def run_sync(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking function on the runtime's bounded thread pool; await its result."""
    return aio(current_scheduler().run_in_thread(fn, args))
