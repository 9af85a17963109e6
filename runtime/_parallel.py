"""Parallel primitives: ``parallel_map`` for the interpreter, ``fanout`` for async hosts."""

from __future__ import annotations

import asyncio
import contextvars
import enum
import inspect
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from ._errors import DeadlineExceeded

__all__ = ["Policy", "fanout", "parallel_map"]

T = TypeVar("T")
R = TypeVar("R")


def parallel_map(fn: Callable[[T], R], items: Iterable[T], max_concurrency: int) -> list[R]:
    """``[fn(x) for x in items]`` with at most ``max_concurrency`` calls running at once.

    ``fn`` is synchronous (interpreter code calling blocking tools), so calls run on threads,
    each starting from a copy of the caller's ``contextvars`` context. Results come back in
    input order. On the first exception no further item is started, the calls in flight are
    awaited, and that exception is re-raised.
    """
    if not isinstance(max_concurrency, int) or max_concurrency < 1:
        raise ValueError(f"max_concurrency must be a positive int, got {max_concurrency!r}")
    todo = list(items)
    workers = min(max_concurrency, len(todo))
    if workers <= 1:
        return [fn(item) for item in todo]
    results: list[Any] = [None] * len(todo)
    errors: list[BaseException] = []
    lock = threading.Lock()
    indices = iter(range(len(todo)))

    def work() -> None:
        while True:
            with lock:
                index = None if errors else next(indices, None)
            if index is None:
                return
            try:
                results[index] = fn(todo[index])
            except BaseException as exc:
                with lock:
                    errors.append(exc)
                return

    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True)
        for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


class Policy(str, enum.Enum):  # noqa: UP042 - StrEnum would change str(): "Policy.ALL"
    """How ``fanout`` decides it is done."""

    ALL = "all"
    """Every call must succeed; returns all results in input order."""
    FIRST_COMPLETED = "first_completed"
    """The first call to succeed wins; the others are cancelled."""
    N_BEST = "n_best"
    """Run all (until the deadline), return the ``n`` best successes by ``scorer``."""


async def fanout(
    calls: Sequence[Callable[[], Awaitable[Any]] | Callable[[], Any]],
    policy: Policy | str = Policy.ALL,
    *,
    deadline: float | None = None,
    n: int = 1,
    scorer: Callable[[Any], float] | None = None,
) -> Any:
    """Run zero-argument ``calls`` concurrently and combine them by ``policy``.

    Async callables run as tasks; sync callables run on threads (those cannot be stopped once
    started — only abandoned). ``deadline`` is in seconds from now. Whatever is still running
    when the policy is satisfied, fails or hits the deadline is cancelled and awaited before
    this returns, so losers really stop.

    Returns: ALL -> list in input order; FIRST_COMPLETED -> the winning value;
    N_BEST -> up to ``n`` values, best first. Raises ``DeadlineExceeded`` when the deadline
    passes without an acceptable result, or the call's own error (ALL: the first failure;
    FIRST_COMPLETED / N_BEST: the first error if every call failed).
    """
    policy = Policy(policy)
    if policy is Policy.N_BEST and scorer is None:
        raise ValueError("Policy.N_BEST needs a scorer")
    if not calls:
        return None if policy is Policy.FIRST_COMPLETED else []
    tasks = [asyncio.ensure_future(_invoke(call)) for call in calls]
    try:
        if policy is Policy.ALL:
            return await _all(tasks, deadline)
        if policy is Policy.FIRST_COMPLETED:
            return await _first(tasks, deadline)
        return await _n_best(tasks, deadline, n, scorer)  # type: ignore[arg-type]
    finally:
        await _cancel(tasks)


async def _invoke(call: Callable[[], Any]) -> Any:
    if inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(
        getattr(call, "__call__", None)  # noqa: B004 - looks for an async __call__
    ):
        return await call()
    result = await asyncio.to_thread(call)
    return await result if inspect.isawaitable(result) else result


async def _all(tasks: Sequence[asyncio.Future[Any]], deadline: float | None) -> list[Any]:
    done, pending = await asyncio.wait(
        tasks, timeout=deadline, return_when=asyncio.FIRST_EXCEPTION
    )
    for task in tasks:
        if task in done and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    if pending:
        raise DeadlineExceeded(
            f"{len(pending)} of {len(tasks)} calls unfinished after {deadline} s",
            hint="raise the deadline or use Policy.FIRST_COMPLETED / N_BEST",
        )
    return [task.result() for task in tasks]


async def _first(tasks: Sequence[asyncio.Future[Any]], deadline: float | None) -> Any:
    loop = asyncio.get_running_loop()
    stop_at = None if deadline is None else loop.time() + deadline
    pending: set[asyncio.Future[Any]] = set(tasks)
    while pending:
        left = None if stop_at is None else max(0.0, stop_at - loop.time())
        done, pending = await asyncio.wait(pending, timeout=left,
                                           return_when=asyncio.FIRST_COMPLETED)
        if not done:
            raise DeadlineExceeded(f"no call succeeded within {deadline} s")
        for task in tasks:
            if task in done and task.exception() is None:
                return task.result()
    raise _first_error(tasks)


async def _n_best(
    tasks: Sequence[asyncio.Future[Any]], deadline: float | None, n: int,
    scorer: Callable[[Any], float],
) -> list[Any]:
    await asyncio.wait(tasks, timeout=deadline)
    good = [t.result() for t in tasks if t.done() and not t.cancelled() and t.exception() is None]
    if good:
        return sorted(good, key=scorer, reverse=True)[:n]
    if all(task.done() for task in tasks):
        raise _first_error(tasks)
    raise DeadlineExceeded(f"no call succeeded within {deadline} s")


def _first_error(tasks: Sequence[asyncio.Future[Any]]) -> BaseException:
    return next(e for t in tasks if (e := t.exception()) is not None)


async def _cancel(tasks: Sequence[asyncio.Future[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
