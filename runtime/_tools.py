"""Tools as supervised processes: a crash restarts the tool and the caller gets a clear error."""

from __future__ import annotations

import concurrent.futures
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from ptclisp import PtclispError

from ._api import aio, call, receive, reply, reply_error, run_sync, sleep, whereis
from ._errors import CallTimeout, NoProcess, ProcessDown, ToolCrashed, ToolTimeout
from ._process import Pid, Request
from ._runtime import Runtime
from ._supervisor import ChildSpec, Strategy, Supervisor

__all__ = ["SupervisedTool", "supervised_tool"]

_tool_ids = itertools.count(1)


async def _tool_worker(fn: Callable[[Any], Any]) -> None:
    """Serve requests one at a time; expected (ptclisp) errors are replies, anything else
    crashes the process — the supervisor restarts it and waiting callers get ``Down``."""
    is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - looks for an async __call__
    )
    while True:
        request = await receive(Request)
        try:
            if is_async:
                value = await aio(fn(request.payload))
            else:
                value = await run_sync(fn, request.payload)
        except PtclispError as exc:
            reply_error(request, exc)
            continue
        reply(request, value)


async def _call_tool(name: str, supervisor: Pid, args: Any, timeout: float) -> Any:
    """Find the current incarnation of the worker (it may be restarting) and call it."""
    waited = 0.0
    while whereis(name) is None:
        if not supervisor.alive or waited >= timeout:
            raise NoProcess(f"tool process {name!r} is not running")
        await sleep(0.001)
        waited += 0.001
    return await call(name, args, timeout=max(0.001, timeout - waited))


class SupervisedTool:
    """A sync tool ``tool(args) -> value`` whose body runs in supervised worker processes.

    ``workers`` processes (one_for_one under one supervisor) serve calls round-robin; each runs
    a sync ``fn`` on the runtime's bounded thread pool, an async ``fn`` (e.g. a subagent run) as
    an asyncio task on the runtime's loop. If ``fn`` raises a ``PtclispError`` the caller
    gets that error unchanged. Any other exception crashes the worker: the supervisor restarts
    it and the caller gets ``ToolCrashed``. No answer within ``timeout`` seconds gives
    ``ToolTimeout`` and the worker is killed (and restarted); a thread stuck inside ``fn``
    cannot be stopped and keeps its pool slot until ``fn`` returns.
    """

    def __init__(
        self,
        fn: Callable[[Any], Any],
        *,
        runtime: Runtime,
        name: str | None = None,
        timeout: float = 30.0,
        workers: int = 1,
        max_restarts: int = 5,
        period: float = 10.0,
    ) -> None:
        self.name = name or getattr(fn, "__name__", "tool")
        self.timeout = timeout
        self._runtime = runtime
        prefix = f"tool:{self.name}#{next(_tool_ids)}"
        self._workers = [f"{prefix}/{i}" for i in range(workers)]
        specs = [ChildSpec(id=w, start=_tool_worker, args=(fn,), name=w) for w in self._workers]
        sup = Supervisor(specs, Strategy.ONE_FOR_ONE, max_restarts=max_restarts, period=period)
        self.supervisor = runtime.spawn(sup.run)
        self._next = itertools.count()

    def __call__(self, args: Any) -> Any:
        worker = self._workers[next(self._next) % len(self._workers)]
        try:
            return self._runtime.run(
                _call_tool, worker, self.supervisor, args, self.timeout, timeout=self.timeout + 5
            )
        except ProcessDown as exc:
            raise ToolCrashed(
                f"tool {self.name!r} crashed: {_describe(exc.reason)}",
                hint="the tool was restarted; retry the call or use another tool",
            ) from _as_cause(exc.reason)
        except NoProcess as exc:
            raise ToolCrashed(
                f"tool {self.name!r} is unavailable: its supervisor gave up after repeated crashes",
                hint="stop calling this tool in this run",
            ) from exc
        except (CallTimeout, concurrent.futures.TimeoutError) as exc:
            self._restart(worker)
            raise ToolTimeout(
                f"tool {self.name!r} did not answer within {self.timeout} s",
                hint="the tool was restarted; retry with smaller input or skip it",
            ) from exc

    def _restart(self, worker: str) -> None:
        pid = self._runtime.whereis(worker)
        if pid is not None:
            self._runtime.exit_process(pid, "kill")

    def close(self) -> None:
        """Stop the supervisor and its workers."""
        self._runtime.exit_process(self.supervisor, "shutdown")


def supervised_tool(
    fn: Callable[[Any], Any],
    *,
    runtime: Runtime,
    name: str | None = None,
    timeout: float = 30.0,
    workers: int = 1,
    max_restarts: int = 5,
    period: float = 10.0,
) -> SupervisedTool:
    """Run ``fn`` (a tool: ``fn(args) -> value``) as a supervised process.

    See ``SupervisedTool``.
    """
    return SupervisedTool(
        fn,
        runtime=runtime,
        name=name,
        timeout=timeout,
        workers=workers,
        max_restarts=max_restarts,
        period=period,
    )


def _describe(reason: Any) -> str:
    if isinstance(reason, BaseException):
        return f"{type(reason).__name__}: {reason}"
    return repr(reason)


def _as_cause(reason: Any) -> BaseException | None:
    return reason if isinstance(reason, BaseException) else None
