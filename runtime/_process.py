"""Process records, references and the system messages processes receive.

Internal module. A :class:`Pid` *is* the process record: sending to a pid appends to its
mailbox without any table lookup, and a dead process keeps only its exit reason.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

__all__ = ["Down", "Exit", "Pid", "Ref", "Request", "Timer"]

NORMAL = "normal"
KILLED = "killed"
SHUTDOWN = "shutdown"
_ALIVE: Any = object()  # exit-reason placeholder of a running process

_pid_ids = itertools.count(1)
_ref_ids = itertools.count(1)


class Pid:
    """A process identifier. Compare, hash and send to it; everything else is private.

    The record is deliberately small (``__slots__``, mailbox and link/monitor tables created on
    first use) because an idle process must cost bytes: a million of them fit in well under 2 GB.
    """

    __slots__ = (
        "_coro",
        "_id",
        "_links",
        "_mailbox",
        "_monitors",
        "_name",
        "_reason",
        "_timer",
        "_trap_exit",
        "_waiting",
    )

    def __init__(self, coro: Any) -> None:
        self._id = next(_pid_ids)
        self._coro = coro
        self._mailbox: Any = None
        self._waiting: Any = None
        self._timer: Any = None
        self._links: set[Pid] | None = None
        self._monitors: dict[Ref, Pid | None] | None = None  # see Scheduler.monitor
        self._trap_exit = False
        self._name: str | None = None
        self._reason: Any = _ALIVE

    @property
    def alive(self) -> bool:
        """Whether the process is still running."""
        return self._reason is _ALIVE

    @property
    def exit_reason(self) -> Any:
        """``None`` while alive; afterwards ``"normal"``, ``"killed"``, ``"shutdown"``, or the
        exception that crashed the process."""
        return None if self._reason is _ALIVE else self._reason

    def __repr__(self) -> str:
        return f"<0.{self._id}.0>"


class Ref:
    """A unique reference (monitor handles, request ids)."""

    __slots__ = ("_id", "_target", "_watcher")

    def __init__(self, target: Pid | None = None, watcher: Pid | None = None) -> None:
        self._id = next(_ref_ids)
        self._target = target
        self._watcher = watcher

    def __repr__(self) -> str:
        return f"#Ref<{self._id}>"


class Exit(NamedTuple):
    """Delivered to a process that traps exits when a linked process exits."""

    pid: Pid
    reason: Any


class Down(NamedTuple):
    """Delivered to a monitoring process when the monitored process exits (or never existed)."""

    ref: Ref
    pid: Pid
    reason: Any


class Request(NamedTuple):
    """A ``call`` request; answer it with ``reply(request, value)``."""

    ref: Ref
    sender: Pid
    payload: Any


class Reply(NamedTuple):
    """Internal: the answer to a :class:`Request`."""

    ref: Ref
    ok: bool
    value: Any


class Timer:
    """Handle of a ``send_after`` timer; pass it to ``cancel_timer``."""

    __slots__ = ("_fired", "_handle")

    def __init__(self) -> None:
        self._handle: Any = None
        self._fired = False

    def __repr__(self) -> str:
        return f"<Timer fired={self._fired}>"
