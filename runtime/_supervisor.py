"""Supervisors: processes that start children, watch them, and restart them by a strategy.

Flow of a supervisor process::

    trap exits -> start children in order -> loop:
        Exit from a child   -> restart it per its restart type and the strategy,
                               unless that would exceed the restart intensity (then escalate)
        Exit from elsewhere -> (the parent died) stop children in reverse order, exit likewise
        Request             -> which_children / count_children / terminate_child / restart_child

Escalation: more than ``max_restarts`` restarts within ``period`` seconds make the supervisor
stop all children and exit with a ``RestartIntensity`` error, which its own supervisor sees as
an abnormal exit of a child — the failure moves one level up the tree.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._api import exit_process, receive, register, reply, reply_error, spawn_link, trap_exit
from ._errors import RestartIntensity
from ._process import NORMAL, SHUTDOWN, Exit, Pid, Request
from ._scheduler import SelfExit

__all__ = ["ChildSpec", "Restart", "Strategy", "Supervisor"]


class Strategy(str, enum.Enum):  # noqa: UP042 - StrEnum would change str()
    """Which children restart when one of them exits abnormally."""

    ONE_FOR_ONE = "one_for_one"
    """Only the child that exited."""
    ONE_FOR_ALL = "one_for_all"
    """Every child: the others are stopped (reverse order) and all restart in order."""
    REST_FOR_ONE = "rest_for_one"
    """The child that exited and every child started after it."""


class Restart(str, enum.Enum):  # noqa: UP042 - StrEnum would change str()
    """When a child is restarted."""

    PERMANENT = "permanent"
    """Always."""
    TRANSIENT = "transient"
    """Only after an abnormal exit (not ``"normal"`` / ``"shutdown"``)."""
    TEMPORARY = "temporary"
    """Never; the child is forgotten when it exits."""


@dataclass(frozen=True)
class ChildSpec:
    """How to start and restart one child."""

    id: str
    """Unique within its supervisor."""
    start: Callable[..., Awaitable[Any]]
    """The child's async body (use ``Supervisor(...).run`` for a nested supervisor)."""
    args: tuple[Any, ...] = ()
    """Positional arguments for ``start``."""
    restart: Restart = Restart.PERMANENT
    """When to restart it."""
    shutdown: float = 5.0
    """Seconds a child trapping exits gets to stop after ``"shutdown"`` before it is killed."""
    name: str | None = None
    """Register each incarnation under this name (so callers find the current one)."""


@dataclass
class _Child:
    spec: ChildSpec
    pid: Pid | None = None


@dataclass(frozen=True)
class Supervisor:
    """A supervisor spec; spawn ``Supervisor(...).run`` to start it."""

    children: Sequence[ChildSpec]
    strategy: Strategy = Strategy.ONE_FOR_ONE
    max_restarts: int = 3
    """Restart intensity: at most this many restarts ..."""
    period: float = 5.0
    """... within this many seconds, or the supervisor gives up and escalates."""
    _ids: tuple[str, ...] = field(init=False, repr=False, default=())

    def __post_init__(self) -> None:
        ids = tuple(spec.id for spec in self.children)
        if len(set(ids)) != len(ids):
            raise ValueError(f"child ids must be unique, got {ids}")
        object.__setattr__(self, "_ids", ids)
        object.__setattr__(self, "strategy", Strategy(self.strategy))

    async def run(self) -> None:
        """The supervisor process body."""
        trap_exit(True)
        kids = [_Child(spec) for spec in self.children]
        for kid in kids:
            _start(kid)
        restarts: deque[float] = deque()
        while True:
            msg = await receive()
            if isinstance(msg, Exit):
                await self._on_exit(kids, restarts, msg)
            elif isinstance(msg, Request):
                await _answer(kids, msg)

    async def _on_exit(self, kids: list[_Child], restarts: deque[float], msg: Exit) -> None:
        # A signal from the host has no sender (pid None); it must not match a stopped child.
        index = None
        if msg.pid is not None:
            index = next((i for i, kid in enumerate(kids) if kid.pid is msg.pid), None)
        if index is None:  # not a child: our parent (or another link) went down
            if msg.reason != NORMAL or not isinstance(msg.reason, str):
                await _stop_all(kids)
                raise SelfExit(msg.reason)
            return
        kid = kids[index]
        kid.pid = None
        if not _should_restart(kid.spec.restart, msg.reason):
            if kid.spec.restart is Restart.TEMPORARY:
                del kids[index]
            return
        if self._intensity_exceeded(restarts):
            await _stop_all(kids)
            raise SelfExit(
                RestartIntensity(
                    f"supervisor gave up: more than {self.max_restarts} restarts in "
                    f"{self.period} s (last: child {kid.spec.id!r} exited with {msg.reason!r})",
                    hint="the failure is escalated to this supervisor's own supervisor",
                )
            )
        await self._restart(kids, index)

    def _intensity_exceeded(self, restarts: deque[float]) -> bool:
        now = time.monotonic()
        restarts.append(now)
        while restarts and restarts[0] < now - self.period:
            restarts.popleft()
        return len(restarts) > self.max_restarts

    async def _restart(self, kids: list[_Child], index: int) -> None:
        if self.strategy is Strategy.ONE_FOR_ONE:
            affected = [kids[index]]
        elif self.strategy is Strategy.ONE_FOR_ALL:
            affected = list(kids)
        else:
            affected = kids[index:]
        for kid in reversed(affected):
            await _stop(kid)
        for kid in affected:
            _start(kid)


def _should_restart(restart: Restart, reason: Any) -> bool:
    if restart is Restart.PERMANENT:
        return True
    if restart is Restart.TEMPORARY:
        return False
    return not (isinstance(reason, str) and reason in (NORMAL, SHUTDOWN))


def _start(kid: _Child) -> None:
    spec = kid.spec
    kid.pid = spawn_link(spec.start, *spec.args)
    if spec.name is not None:
        register(spec.name, kid.pid)


async def _stop(kid: _Child) -> None:
    """Stop one child: ``"shutdown"``, then ``"kill"`` if it does not exit in time."""
    pid, kid.pid = kid.pid, None
    if pid is None:
        return

    def exit_of(msg: Any) -> bool:
        return isinstance(msg, Exit) and msg.pid is pid

    exit_process(pid, SHUTDOWN)
    if await receive(exit_of, timeout=kid.spec.shutdown, default=None) is None:
        exit_process(pid, "kill")
        await receive(exit_of)


async def _stop_all(kids: list[_Child]) -> None:
    for kid in reversed(kids):
        await _stop(kid)


async def _answer(kids: list[_Child], request: Request) -> None:
    """Answer a management request (see ``Supervisor`` docs)."""
    match request.payload:
        case "which_children":
            reply(request, [(kid.spec.id, kid.pid) for kid in kids])
        case "count_children":
            reply(request, sum(1 for kid in kids if kid.pid is not None))
        case ("terminate_child", child_id):
            kid = _find(kids, child_id)
            if kid is not None:
                await _stop(kid)
            reply(request, kid is not None)
        case ("restart_child", child_id):
            kid = _find(kids, child_id)
            if kid is not None and kid.pid is None:
                _start(kid)
            reply(request, kid is not None and kid.pid is not None)
        case other:
            reply_error(request, ValueError(f"unknown supervisor request {other!r}"))


def _find(kids: list[_Child], child_id: str) -> _Child | None:
    return next((kid for kid in kids if kid.spec.id == child_id), None)


