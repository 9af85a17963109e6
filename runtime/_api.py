"""The process-side API: what code running *inside* a process calls.

Every function here acts on the process that calls it (``self_pid()``) and its scheduler. The
host side (threads outside the runtime) uses :class:`runtime.Runtime` instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ._errors import CallTimeout, ProcessDown
from ._process import Down, Pid, Ref, Reply, Request, Timer
from ._scheduler import SelfExit
from ._traps import _tls, aio, current_scheduler, receive, run_sync, sleep, yield_

__all__ = [
    "aio",
    "call",
    "cancel_timer",
    "demonitor",
    "exit_process",
    "link",
    "monitor",
    "receive",
    "register",
    "reply",
    "reply_error",
    "run_sync",
    "self_pid",
    "send",
    "send_after",
    "sleep",
    "spawn",
    "spawn_link",
    "spawn_monitor",
    "trap_exit",
    "unlink",
    "unregister",
    "whereis",
    "yield_",
]


def self_pid() -> Pid:
    """The pid of the calling process (Erlang's ``self()``)."""
    return current_scheduler().current


def spawn(fn: Callable[..., Awaitable[Any]], *args: Any, trap_exit: bool = False) -> Pid:
    """Start ``fn(*args)`` as a new process and return its pid at once."""
    return current_scheduler().spawn(fn, args, trap_exit=trap_exit)


def spawn_link(fn: Callable[..., Awaitable[Any]], *args: Any, trap_exit: bool = False) -> Pid:
    """Spawn and link atomically: if either process crashes, the other gets the exit signal."""
    sched = current_scheduler()
    pid = sched.spawn(fn, args, trap_exit=trap_exit)
    sched.link(sched.current, pid)
    return pid


def spawn_monitor(fn: Callable[..., Awaitable[Any]], *args: Any) -> tuple[Pid, Ref]:
    """Spawn and monitor atomically; a ``Down`` message arrives when the new process exits."""
    sched = current_scheduler()
    pid = sched.spawn(fn, args)
    return pid, sched.monitor(sched.current, pid)


def send(dest: Pid | str, message: Any) -> None:
    """Put ``message`` in the mailbox of ``dest`` (a pid or a registered name).

    Messages from one sender arrive in the order they were sent. Sending to a dead pid is
    silently dropped; sending to an unregistered name raises ``NoProcess``.
    """
    try:
        _tls.sched.send(dest, message)
    except AttributeError:
        if getattr(_tls, "sched", None) is not None:
            raise  # an AttributeError from inside send itself
        current_scheduler()  # raises NotInProcess







def register(name: str, pid: Pid | None = None) -> None:
    """Register ``pid`` (default: the caller) under ``name``; the name goes when it exits."""
    sched = current_scheduler()
    sched.register(name, pid if pid is not None else sched.current)


def unregister(name: str) -> bool:
    """Remove a registered name; returns whether it was registered."""
    return current_scheduler().unregister(name)


def whereis(name: str) -> Pid | None:
    """The pid registered under ``name``, or ``None``."""
    return current_scheduler().registry.get(name)


def send_after(delay: float, dest: Pid | str, message: Any) -> Timer:
    """Send ``message`` to ``dest`` after ``delay`` seconds; cancel with ``cancel_timer``."""
    return current_scheduler().send_after(delay, dest, message)


def cancel_timer(timer: Timer) -> bool:
    """Cancel a ``send_after`` timer; returns False if it already fired or was cancelled."""
    current_scheduler()
    if timer._fired or timer._handle.cancelled():
        return False
    timer._handle.cancel()
    return True


def link(pid: Pid) -> None:
    """Link the caller and ``pid``: an abnormal exit of one sends an exit signal to the other."""
    sched = current_scheduler()
    sched.link(sched.current, pid)


def unlink(pid: Pid) -> None:
    """Remove a link (both directions)."""
    sched = current_scheduler()
    sched.unlink(sched.current, pid)


def monitor(pid: Pid) -> Ref:
    """Watch ``pid``: a ``Down(ref, pid, reason)`` message arrives when it exits."""
    sched = current_scheduler()
    return sched.monitor(sched.current, pid)


def demonitor(ref: Ref) -> bool:
    """Stop a monitor; returns whether it was still active."""
    return current_scheduler().demonitor(ref)


def trap_exit(flag: bool) -> bool:
    """Turn exit signals into ``Exit(pid, reason)`` messages (True) or deaths (False).

    Returns the previous setting. ``exit_process(pid, "kill")`` cannot be trapped.
    """
    proc = current_scheduler().current
    previous, proc._trap_exit = proc._trap_exit, bool(flag)
    return previous


def exit_process(pid: Pid, reason: Any = "normal") -> None:
    """Send an exit signal to ``pid`` (Erlang ``exit/2``).

    A process that traps exits receives ``Exit(sender, reason)``; otherwise it dies with
    ``reason`` (``"normal"`` is ignored). ``"kill"`` always kills (reason ``"killed"``).
    Called on the caller's own pid it ends the caller with ``reason`` at once (Erlang
    ``exit/1``), whether or not it traps exits.
    """
    sched = current_scheduler()
    if pid is sched.current:
        raise SelfExit("killed" if reason == "kill" else reason)
    sched.exit_signal(pid, sched.current, reason)


async def call(dest: Pid | str, payload: Any, timeout: float | None = 5.0) -> Any:
    """Send a ``Request`` to ``dest`` and await its ``reply`` (a gen_server-style call).

    Raises ``CallTimeout`` after ``timeout`` seconds, ``ProcessDown`` if ``dest`` exits first,
    or the exception the callee passed to ``reply_error``.
    """
    sched = current_scheduler()
    target = sched.resolve(dest)
    ref = sched.monitor(sched.current, target)
    sched.send(target, Request(ref, sched.current, payload))

    def answer(msg: Any) -> bool:
        return (msg.__class__ is Reply or msg.__class__ is Down) and msg.ref is ref

    msg = await receive(answer, timeout=timeout, default=None)
    sched.demonitor(ref)
    if msg is None:
        raise CallTimeout(f"{target!r} did not reply within {timeout} s")
    if msg.__class__ is Down:
        raise ProcessDown(f"{target!r} exited before replying: {msg.reason!r}", reason=msg.reason)
    if not msg.ok:
        raise msg.value
    return msg.value


def reply(request: Request, value: Any) -> None:
    """Answer a ``Request`` received by this process."""
    send(request.sender, Reply(request.ref, True, value))


def reply_error(request: Request, error: BaseException) -> None:
    """Answer a ``Request`` with an error; the caller's ``call`` raises it."""
    send(request.sender, Reply(request.ref, False, error))
