"""Collaboration primitives for agents on the runtime: ``cast``, fan-in (barrier, first-k,
majority) and publish/subscribe topics.

- ``cast(dest, payload)``: a one-way request (``Cast``) next to ``call``; an agent server
  receives ``Request`` (answer with ``reply``) and ``Cast`` (no answer) alike.
- ``gather(dests, payload, need=n, timeout=s)``: ``call`` every process at once and wait for
  ``n`` replies (default: all) or the deadline — a barrier. ``first_k`` returns the first ``k``
  answers, ``majority`` the answer more than half of them agree on (stopping as soon as one
  does). A process that dies, or answers with ``reply_error``, counts as a failed reply.
- ``subscribe(topic)`` / ``unsubscribe(topic)`` / ``publish(topic, message)``: every live
  subscriber of the topic gets ``Published(topic, message, sender)``; dead ones are dropped.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import Any, NamedTuple

from ._errors import ActorError, DeadlineExceeded
from ._process import Down, Pid, Ref, Reply, Request
from ._traps import current_scheduler, receive

__all__ = [
    "Cast",
    "FanIn",
    "NoQuorum",
    "Published",
    "cast",
    "first_k",
    "gather",
    "majority",
    "publish",
    "subscribe",
    "unsubscribe",
]


class Cast(NamedTuple):
    """A one-way request sent by ``cast`` (no reply is expected)."""

    sender: Pid
    payload: Any


class Published(NamedTuple):
    """A message delivered to a topic's subscribers by ``publish``."""

    topic: Hashable
    message: Any
    sender: Pid | None


class NoQuorum(ActorError):
    """``majority`` ended without an answer more than half of the processes agree on."""

    code = "no_quorum"


def cast(dest: Pid | str, payload: Any) -> None:
    """Send ``payload`` to ``dest`` as a ``Cast``: fire and forget, next to ``call``."""
    sched = current_scheduler()
    sched.send(sched.resolve(dest), Cast(sched.current, payload))


@dataclasses.dataclass
class FanIn:
    """What a fan-in collected: replies by index into ``dests``, in arrival ``order``."""

    replies: dict[int, Any] = dataclasses.field(default_factory=dict)
    errors: dict[int, BaseException | Any] = dataclasses.field(default_factory=dict)
    """Indices whose process died (the exit reason), answered with ``reply_error``, or was not
    found (``NoProcess``)."""
    order: list[int] = dataclasses.field(default_factory=list)
    """Indices of the successful replies, first answer first."""
    total: int = 0

    @property
    def missing(self) -> list[int]:
        """Indices without any answer (still working when the fan-in ended)."""
        done = set(self.replies) | set(self.errors)
        return [i for i in range(self.total) if i not in done]

    def values(self) -> list[Any]:
        """The successful replies, first answer first."""
        return [self.replies[i] for i in self.order]


async def gather(
    dests: Sequence[Pid | str],
    payload: Any,
    *,
    need: int | None = None,
    timeout: float | None = 5.0,
    enough: Callable[[FanIn], bool] | None = None,
) -> FanIn:
    """``call`` every process in ``dests`` with ``payload`` at once; return when ``need``
    replies (default: all) succeeded, ``enough(fan_in)`` says so, every process answered or
    died, or ``timeout`` seconds passed — whichever comes first. Never raises for a process's
    failure: it is in ``errors``."""
    need = len(dests) if need is None else need
    if need < 0 or need > len(dests):
        raise ValueError(f"need must be between 0 and {len(dests)}, got {need}")
    sched = current_scheduler()
    me = sched.current
    result = FanIn(total=len(dests))
    refs: dict[Ref, int] = {}
    for index, dest in enumerate(dests):
        try:
            target = sched.resolve(dest)
        except ActorError as exc:
            result.errors[index] = exc
            continue
        ref = sched.monitor(me, target)
        refs[ref] = index
        sched.send(target, Request(ref, me, payload))
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while refs and len(result.order) < need and not (enough and enough(result)):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            msg = await receive(lambda m: (m.__class__ is Reply or m.__class__ is Down)
                                and m.ref in refs, timeout=left, default=None)
            if msg is None:
                break
            index = refs.pop(msg.ref)
            sched.demonitor(msg.ref)
            if msg.__class__ is Down:
                result.errors[index] = msg.reason
            elif msg.ok:
                result.replies[index] = msg.value
                result.order.append(index)
            else:
                result.errors[index] = msg.value
    finally:
        for ref in refs:
            sched.demonitor(ref)
    return result


async def first_k(dests: Sequence[Pid | str], payload: Any, k: int,
                  timeout: float | None = 5.0) -> list[Any]:
    """The first ``k`` successful replies, in arrival order. Raises ``DeadlineExceeded`` when
    fewer than ``k`` arrive (in time, or at all)."""
    fan_in = await gather(dests, payload, need=k, timeout=timeout)
    if len(fan_in.order) < k:
        raise DeadlineExceeded(
            f"only {len(fan_in.order)} of the {k} replies needed arrived "
            f"({len(fan_in.errors)} failed, {len(fan_in.missing)} unanswered)",
            hint="raise the timeout, ask more processes, or need fewer replies",
        )
    return fan_in.values()[:k]


async def majority(dests: Sequence[Pid | str], payload: Any, *, timeout: float | None = 5.0,
                   key: Callable[[Any], Hashable] = lambda v: v) -> Any:
    """The reply more than half of ``dests`` agree on (compared by ``key``), as soon as it has
    its majority. Raises ``NoQuorum`` when no answer can reach one."""
    quorum = len(dests) // 2 + 1

    def votes(fan_in: FanIn) -> collections.Counter[Hashable]:
        return collections.Counter(key(v) for v in fan_in.values())

    def decided(fan_in: FanIn) -> bool:
        counts = votes(fan_in)
        return bool(counts) and counts.most_common(1)[0][1] >= quorum

    def hopeless(fan_in: FanIn) -> bool:
        best = max(votes(fan_in).values(), default=0)
        return best + len(fan_in.missing) < quorum

    fan_in = await gather(dests, payload, timeout=timeout,
                          enough=lambda f: decided(f) or hopeless(f))
    if decided(fan_in):
        winner = votes(fan_in).most_common(1)[0][0]
        return next(v for v in fan_in.values() if key(v) == winner)
    raise NoQuorum(
        f"no answer reached {quorum} of {len(dests)} votes: {dict(votes(fan_in))}",
        hint="ask more processes, or accept first_k instead of a majority",
    )


# ---------------------------------------------------------------- topics

_topics_lock = threading.Lock()
_topics: weakref.WeakKeyDictionary[Any, dict[Hashable, dict[Pid, None]]] = (
    weakref.WeakKeyDictionary())


def _table() -> dict[Hashable, dict[Pid, None]]:
    sched = current_scheduler()
    with _topics_lock:
        return _topics.setdefault(sched, {})


def subscribe(topic: Hashable) -> None:
    """This process receives ``Published`` messages of ``topic`` until it unsubscribes or
    exits."""
    pid = current_scheduler().current
    _table().setdefault(topic, {})[pid] = None


def unsubscribe(topic: Hashable) -> bool:
    """Stop receiving ``topic``; whether this process was subscribed."""
    pid = current_scheduler().current
    subscribers = _table().get(topic, {})
    return subscribers.pop(pid, False) is None


def publish(topic: Hashable, message: Any) -> int:
    """Send ``Published(topic, message, sender)`` to every live subscriber; how many got it."""
    sched = current_scheduler()
    subscribers = _table().get(topic)
    if not subscribers:
        return 0
    sent = 0
    for pid in list(subscribers):
        if not pid.alive:
            subscribers.pop(pid, None)
            continue
        sched.send(pid, Published(topic, message, sched.current))
        sent += 1
    return sent
