"""SubAgent runs as runtime processes: supervised one-shot runs, servers, many at once.

Every ``SubAgent.run`` is a supervised process (``supervised_call``): by default on the calling
thread's own scheduler (``drive``), where the run's blocking work (LLM calls, tools, the
interpreter) executes inline in its process's step — nothing else waits for that thread. On a
``Runtime`` with a loop thread, a process never blocks the loop: it awaits the work through
``aio`` (a worker thread). Tools run through ``supervise_tools`` use the runtime's own bounded
pool (``run_sync``), so agents waiting on their tools can never starve those tools of threads.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any, TypeVar

from ptclisp import HostInputError, PtclispError, Tool, ToolError

from ._api import (
    aio,
    exit_process,
    receive,
    reply,
    reply_error,
    self_pid,
    send,
    spawn_link,
    spawn_monitor,
    trap_exit,
)
from ._errors import DeadlineExceeded, ProcessDown, RestartIntensity
from ._local import drive
from ._match import ANY
from ._process import NORMAL, Down, Exit, Pid, Ref, Request
from ._runtime import Runtime
from ._tools import SupervisedTool, supervised_tool
from ._traps import current_scheduler

__all__ = [
    "AgentCrashed",
    "Supervision",
    "agent_process",
    "agent_server",
    "agent_tool",
    "default_runtime",
    "run_agents",
    "supervise_tools",
    "supervised_call",
    "supervised_run",
    "supervised_tools",
]

T = TypeVar("T")

_RESULT = "agent_result"


class AgentCrashed(RestartIntensity):
    """A supervised agent run crashed more often than its restart intensity allows."""

    code = "agent_crashed"


@dataclasses.dataclass(frozen=True)
class Supervision:
    """How a run is supervised (``SubAgent.run(supervision=...)``, ``supervised_call``).

    The defaults are what every ``SubAgent.run`` gets: the run is a process on the calling
    thread's own scheduler (``drive``: no thread hop), its turns checkpointed in memory, and up
    to 3 crashes in 60 s restarted from the last checkpoint.
    """

    checkpoints: MutableMapping[str, Any] | None = None
    """Where the last checkpoint is kept under ``key`` (a fresh dict per run when ``None``;
    a durable mapping lets a later run continue a crashed host's run)."""
    key: str = "run"
    max_restarts: int = 3
    period: float = 60.0
    runtime: Runtime | None = None
    """Run the process on this runtime's loop (the blocking run on a worker thread) instead of
    on the calling thread."""
    timeout: float | None = None
    """Seconds to wait for the run (then its process is killed and ``TimeoutError`` raised;
    the work already in a worker thread finishes in the background). Needs a loop thread: a
    run with a timeout goes to ``runtime`` or the shared default runtime."""

    def __post_init__(self) -> None:
        _check_supervision(self.checkpoints, self.key, self.max_restarts, self.period,
                           self.runtime, self.timeout)

    def call(self, work: Callable[[Any, Callable[[Any], None]], T], *, name: str = "agent"
             ) -> T:
        """``supervised_call(work, ...)`` with these settings."""
        return _supervised_call(work, name=name, checkpoints=self.checkpoints, key=self.key,
                               max_restarts=self.max_restarts, period=self.period,
                               runtime=self.runtime, timeout=self.timeout)


def supervised_call(
    work: Callable[[Any, Callable[[Any], None]], T],
    *,
    name: str = "agent",
    checkpoints: MutableMapping[str, Any] | None = None,
    key: str = "run",
    max_restarts: int = 3,
    period: float = 60.0,
    runtime: Runtime | None = None,
    timeout: float | None = None,
) -> T:
    """Run ``work(saved, save)`` as a supervised process and return its result.

    ``save(data)`` keeps a checkpoint in ``checkpoints[key]``; ``saved`` is ``None`` on the
    first start and the last checkpoint (``None`` if none was taken) after a crash. A crash is
    an exception that is not a ``PtclispError``: a ``PtclispError`` (a usage mistake such as a
    wrong op id) is raised to the caller at once, as are ``KeyboardInterrupt`` and the like.
    More than ``max_restarts`` crashes within ``period`` seconds raise ``AgentCrashed`` (code
    ``agent_crashed``) naming the last cause.

    Without ``runtime`` and ``timeout`` the process runs on the calling thread (``drive``)
    and ``work`` inline in its step; the calling thread is its supervisor (the same policy as
    the supervisor process used on a ``Runtime``: one child, transient, restart intensity), so
    the runtime path costs one spawn and one process step, and no thread hop.
    """
    if not callable(work):
        raise HostInputError(f"supervised_call: work must be callable, got {type(work).__name__}",
                             hint="pass work(saved, save) -> result")
    _check_supervision(checkpoints, key, max_restarts, period, runtime, timeout)
    return _supervised_call(work, name=name, checkpoints=checkpoints, key=key,
                            max_restarts=max_restarts, period=period, runtime=runtime,
                            timeout=timeout)


def _supervised_call(work: Callable[[Any, Callable[[Any], None]], T], *, name: str,
                     checkpoints: MutableMapping[str, Any] | None, key: str, max_restarts: int,
                     period: float, runtime: Runtime | None, timeout: float | None) -> T:
    store: MutableMapping[str, Any] = checkpoints if checkpoints is not None else {}
    body = _Incarnation(work, store, key, name)
    if runtime is None and timeout is None:
        while True:
            try:
                drive(_incarnation, body)
                return body.result
            except Exception as exc:  # KeyboardInterrupt and the like go straight through
                body.crashed(exc, max_restarts, period)
    rt = runtime if runtime is not None else default_runtime()
    body.context = contextvars.copy_context()  # the worker thread runs in the caller's context
    return rt.run(_supervise, body, max_restarts, period, timeout=timeout)


def _check_supervision(checkpoints: Any, key: Any, max_restarts: Any, period: Any,
                       runtime: Any, timeout: Any) -> None:
    """Refuse settings of the wrong kind at once, naming the argument."""
    checks = [
        ("checkpoints", checkpoints, checkpoints is None or isinstance(checkpoints, MutableMapping),
         "a mutable mapping (dict, a durable store) or None"),
        ("key", key, isinstance(key, str) and key != "", "a non-empty string"),
        ("max_restarts", max_restarts, _number(max_restarts, int) and max_restarts >= 0,
         "an int >= 0"),
        ("period", period, _number(period, (int, float)) and period > 0,
         "a number of seconds > 0"),
        ("runtime", runtime, runtime is None or isinstance(runtime, Runtime),
         "a runtime.Runtime or None"),
        ("timeout", timeout, timeout is None or (_number(timeout, (int, float)) and timeout > 0),
         "a number of seconds > 0 or None"),
    ]
    for name, value, ok, expected in checks:
        if not ok:
            raise HostInputError(f"Supervision: {name} must be {expected}, got {value!r}",
                                 hint=f"fix the {name} argument")


def _number(value: Any, kind: Any) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def supervised_run(
    agent: Any,
    *,
    llm: Any = None,
    context: Mapping[str, Any] | None = None,
    runtime: Runtime | None = None,
    checkpoints: MutableMapping[str, Any] | None = None,
    key: str = "run",
    max_restarts: int = 3,
    period: float = 60.0,
    timeout: float | None = None,
    tools_as_processes: bool = False,
    **options: Any,
) -> Any:
    """``agent.run`` with explicit supervision settings (``Supervision``); returns its
    ``Step`` or ``PendingStep`` — a one-line sync call.

    Every ``SubAgent.run`` is a supervised process (on the calling thread's scheduler by
    default); this names the knobs: after every turn the run's state is saved in
    ``checkpoints[key]`` (a dict by default; pass a durable mapping to survive the host). When
    the agent's process crashes — a host-side bug such as an LLM client raising something
    unexpected, not a program error, which the loop handles — its supervisor restarts it from
    that checkpoint (``SubAgent.restart``): finished turns are not redone and their tools not
    re-run. More than ``max_restarts`` crashes within ``period`` seconds end the run with
    ``AgentCrashed`` (code ``agent_crashed``) naming the last cause. ``runtime``: run the
    process on that runtime's loop (the blocking run on a worker thread); ``timeout`` too
    (on the default runtime when none is given). ``options`` go to ``agent.run`` (hooks,
    ``tracer_provider``...).

    ``tools_as_processes=True``: every tool call goes through the runtime too — sync tools on
    its bounded pool, ``async def`` tools on its event loop, each tool a supervised process
    (``supervise_tools``: a crashing tool gives the program ``tool_crashed``), stopped when the
    run ends (on ``runtime``, or the shared default runtime).
    """
    supervision = Supervision(checkpoints=checkpoints, key=key, max_restarts=max_restarts,
                              period=period, runtime=runtime, timeout=timeout)
    if not tools_as_processes:
        return agent.run(llm=llm, context=context, supervision=supervision, **options)
    rt = runtime if runtime is not None else default_runtime()
    agent = supervise_tools(agent, runtime=rt)
    try:
        return agent.run(llm=llm, context=context, supervision=supervision, **options)
    finally:
        for worker in supervised_tools(agent).values():
            worker.close()


_default: Runtime | None = None
_default_lock = threading.Lock()


def default_runtime() -> Runtime:
    """The shared background runtime (started on first use): for supervised runs given a
    ``timeout`` and for ``tools_as_processes`` without a runtime of their own."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Runtime().start()
        return _default


class _Incarnation:
    """A supervised run: what its process runs, where its checkpoint lives, how it ended."""

    __slots__ = ("context", "crashes", "key", "name", "recent", "result", "store", "work")

    def __init__(self, work: Callable[[Any, Callable[[Any], None]], Any],
                 store: MutableMapping[str, Any], key: str, name: str) -> None:
        self.work, self.store, self.key, self.name = work, store, key, name
        self.crashes: list[Any] = []
        self.recent: deque[float] = deque()
        self.result: Any = None
        self.context: contextvars.Context | None = None

    def crashed(self, reason: Any, max_restarts: int, period: float) -> None:
        """The run's process ended abnormally with ``reason``: return to restart it, or raise —
        the error itself for a usage mistake (``PtclispError``) or an interrupt, not a crash;
        ``AgentCrashed`` past ``max_restarts`` crashes within ``period`` seconds."""
        if isinstance(reason, PtclispError) or (
                isinstance(reason, BaseException) and not isinstance(reason, Exception)):
            raise reason
        self.crashes.append(reason)
        now = time.monotonic()
        recent = self.recent
        recent.append(now)
        while now - recent[0] > period:
            recent.popleft()
        if len(recent) > max_restarts:
            cause = reason
            error = AgentCrashed(
                f"agent {self.name} crashed {len(self.crashes)} times (restart intensity "
                f"{max_restarts} in {period} s): {type(cause).__name__}: {cause}",
                hint="a host-side bug (LLM client, tool host): fix it, or raise max_restarts")
            if isinstance(cause, BaseException):
                error.__cause__ = cause
            raise error

    def save(self, checkpoint: Any) -> None:
        self.store[self.key] = checkpoint

    def attempt(self) -> Any:
        return self.work(self.store.get(self.key), self.save)

    def attempt_in_context(self) -> Any:
        return self.context.run(self.attempt) if self.context is not None else self.attempt()


async def _incarnation(body: _Incarnation) -> None:
    """The run's process: the work inline when this thread drives the scheduler, else on a
    worker thread (the loop thread must not block)."""
    if current_scheduler().inline:
        body.result = body.attempt()
    else:
        body.result = await aio(asyncio.to_thread(body.attempt_in_context))


async def _supervise(body: _Incarnation, max_restarts: int, period: float) -> Any:
    """The run's supervisor process on a ``Runtime``: one child, transient, restarted after a
    crash within the restart intensity (``_Incarnation.crashed``); the child is linked, so
    killing the supervisor (a timeout) kills the run."""
    trap_exit(True)
    while True:
        child = spawn_link(_incarnation, body)
        while (exit_ := await receive(Exit)).pid is not child:
            pass  # not from the run (a linked caller would be the only other sender)
        reason = exit_.reason
        if reason == NORMAL and isinstance(reason, str):
            return body.result
        body.crashed(reason, max_restarts, period)


async def agent_process(
    agent: Any,
    llm: Any = None,
    context: Mapping[str, Any] | None = None,
    reply_to: Any = None,
    tag: Any = None,
) -> Any:
    """Run ``agent`` once as a process body; returns its ``Step`` (or ``PendingStep``).

    With ``reply_to`` (a pid or name), also sends ``("agent_result", tag, step)`` there before
    exiting. A usage mistake (``SubAgentError``: no LLM, a context that does not match the
    signature) crashes the process with that error, as any unexpected exception does.
    As a supervised child: ``ChildSpec("a", agent_process, args=(agent, llm, ctx),
    restart=Restart.TRANSIENT)`` — rerun after a crash, not after it finished.
    """
    step = await aio(agent.arun(llm=llm, context=dict(context or {})))
    if reply_to is not None:
        send(reply_to, (_RESULT, tag, step))
    return step


async def agent_server(agent: Any, llm: Any = None) -> None:
    """Serve agent runs: each ``call(server, context)`` runs ``agent`` with that context and
    replies its ``Step``. A ``PtclispError`` (e.g. ``SubAgentError``) is replied to the caller;
    ``AgentCrashed`` (the run crashed past its own restart intensity) or any other exception
    crashes the server, so its supervisor restarts it and the caller's ``call`` raises
    ``ProcessDown``. Runs are served one at a time — start several servers (or
    use ``run_agents``) for concurrency."""
    while True:
        request = await receive(Request)
        try:
            step = await aio(agent.arun(llm=llm, context=dict(request.payload or {})))
        except AgentCrashed:
            raise  # the run's own supervisor gave up: the failure moves up, to the server's
        except PtclispError as exc:
            reply_error(request, exc)
            continue
        reply(request, step)


def run_agents(
    runtime: Runtime,
    runs: Sequence[tuple[Any, ...]],
    *,
    max_concurrency: int = 4,
    timeout: float | None = None,
) -> list[Any]:
    """Run ``(agent, llm)`` or ``(agent, llm, context)`` runs concurrently, each in its own
    process, at most ``max_concurrency`` at once; returns their ``Step``s in input order.

    A run whose process crashes (a usage mistake, or a bug such as an LLM client raising
    something other than ``LLMError``) stops the others and raises ``ProcessDown``
    with the cause attached; ``timeout`` (seconds, for all runs) raises ``DeadlineExceeded``.
    Stopped runs' processes are killed at once; a worker thread already inside an LLM call or
    tool cannot be interrupted and finishes in the background, its result discarded.
    """
    if not isinstance(max_concurrency, int) or max_concurrency < 1:
        raise ValueError(f"max_concurrency must be a positive int, got {max_concurrency!r}")
    jobs = [_job(run, index) for index, run in enumerate(runs)]
    wait = None if timeout is None else timeout + 5.0
    return runtime.run(_coordinate, jobs, max_concurrency, timeout, timeout=wait)


def _job(run: tuple[Any, ...], index: int) -> tuple[Any, Any, Any]:
    if not isinstance(run, tuple) or len(run) not in (2, 3):
        raise ValueError(f"run {index} must be (agent, llm) or (agent, llm, context), got {run!r}")
    agent, llm, context = (*run, None) if len(run) == 2 else run
    return agent, llm, context


async def _coordinate(
    jobs: list[tuple[Any, Any, Any]], max_concurrency: int, timeout: float | None
) -> list[Any]:
    """Keep up to ``max_concurrency`` agent processes running; collect results by index."""
    me = self_pid()
    results: dict[int, Any] = {}
    running: dict[Ref, tuple[int, Pid]] = {}  # monitor ref -> (job index, process)
    todo = iter(range(len(jobs)))
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while len(results) < len(jobs):
            while len(running) < max_concurrency and (index := next(todo, None)) is not None:
                agent, llm, context = jobs[index]
                pid, ref = spawn_monitor(agent_process, agent, llm, context, me, index)
                running[ref] = (index, pid)
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            msg = await receive((_RESULT, ANY, ANY), Down, timeout=left, default=None)
            if msg is None:
                raise DeadlineExceeded(
                    f"{len(jobs) - len(results)} of {len(jobs)} agent runs unfinished "
                    f"after {timeout} s",
                    hint="raise the timeout, or give the agents fewer turns",
                )
            if isinstance(msg, Down):
                job = running.pop(msg.ref, None)  # None: it already replied
                if job is not None and msg.reason != NORMAL:
                    raise _crashed(jobs[job[0]][0], job[0], msg.reason)
            else:
                _, index, step = msg
                results[index] = step
                ref = next(r for r, (i, _) in running.items() if i == index)
                del running[ref]  # its slot is free; its Down (normal) is ignored
    finally:
        for _, pid in running.values():
            exit_process(pid, "kill")
    return [results[i] for i in range(len(jobs))]


def _crashed(agent: Any, index: int, reason: Any) -> ProcessDown:
    name = getattr(agent, "name", "agent")
    is_error = isinstance(reason, BaseException)
    what = f"{type(reason).__name__}: {reason}" if is_error else repr(reason)
    error = ProcessDown(
        f"agent run {index} ({name}) crashed: {what}",
        reason=reason,
        hint="runs crash on usage mistakes (no LLM, a context not matching the signature) "
        "and on bugs raised past the agent loop (e.g. by an LLM client)",
    )
    if is_error:
        error.__cause__ = reason
    return error


def supervise_tools(
    agent: Any,
    *,
    runtime: Runtime,
    timeout: float = 30.0,
    workers: int = 1,
    max_restarts: int = 5,
    period: float = 10.0,
) -> Any:
    """A copy of ``agent`` whose tools each run as supervised processes (``supervised_tool``).

    A tool that crashes is restarted by its supervisor and the program calling it gets a
    ``tool_crashed`` tool error (the LLM sees it and may retry on its next turn); one that does
    not answer within ``timeout`` seconds gives ``tool_timeout``. Names, descriptions and
    signatures are kept, so the LLM sees the same tools. Left as they are: long-running
    operation tools (``is_async=True``, which suspend the run) and subagents given as tools
    (they run inside the parent's program, sharing its LLM, depth and spans — use
    ``agent_tool`` for a subagent in its own supervised process). The supervisors live until
    the runtime stops (or ``tool.close()`` on the entries of ``supervised_tools(copy)``).
    """
    tools: dict[str, Tool] = {}
    for name, tool in agent.tool_map().items():
        if tool.is_async or hasattr(tool, "subagent"):
            tools[name] = tool  # see the docstring
            continue
        body = _async_body(tool) if tool.is_coroutine else _sync_body(tool)
        worker = supervised_tool(
            body,
            runtime=runtime,
            name=name,
            timeout=timeout,
            workers=workers,
            max_restarts=max_restarts,
            period=period,
        )
        tools[name] = Tool(
            name, _proxy(worker), description=tool.description, signature=tool.signature_text
        )
        tools[name].supervised = worker  # type: ignore[attr-defined]
    copy = agent.model_copy()
    copy.tools = tools  # assignment resets the copy's cached tool map
    return copy


def supervised_tools(agent: Any) -> dict[str, SupervisedTool]:
    """The ``SupervisedTool``s behind an agent made by ``supervise_tools``, by tool name."""
    found = {name: getattr(tool, "supervised", None) for name, tool in agent.tool_map().items()}
    return {name: worker for name, worker in found.items() if worker is not None}


def agent_tool(
    agent: Any,
    llm: Any = None,
    *,
    runtime: Runtime,
    name: str | None = None,
    description: str | None = None,
    timeout: float = 120.0,
    workers: int = 1,
    max_restarts: int = 5,
    period: float = 10.0,
) -> Tool:
    """``agent`` as a tool whose runs happen in supervised processes (``supervised_tool``).

    Unlike ``agent.as_tool()``, the child runs with its own ``llm`` (or ``agent.llm``), not
    inside the parent's run: the arguments are its context, its validated return value is the
    result; its ``fail``, an error ``Step`` or a suspension is a ``tool_error``; a crash (e.g.
    a broken LLM client) restarts the worker and gives ``tool_crashed``; no answer within
    ``timeout`` seconds gives ``tool_timeout``. ``workers`` runs may go on at once.
    """
    shape = agent.as_tool(name=name, description=description)  # name, description, signature
    worker = supervised_tool(
        _agent_body(agent, llm, shape.name),
        runtime=runtime,
        name=shape.name,
        timeout=timeout,
        workers=workers,
        max_restarts=max_restarts,
        period=period,
    )
    made = Tool(shape.name, _proxy(worker), description=shape.description,
                signature=shape.signature_text)
    made.supervised = worker  # type: ignore[attr-defined]
    return made


def _agent_body(agent: Any, llm: Any, name: str) -> Any:
    async def body(args: dict[str, Any]) -> Any:
        step = await agent.arun(llm=llm, context=args)
        status = getattr(step, "status", None)
        if status == "ok":
            return step.return_value
        if status == "failed":
            raise ToolError(f"subagent {name} failed: {step.fail_value!r}")
        if status == "error":
            error = step.error or {}
            raise ToolError(f"subagent {name} ended in error [{error.get('code')}]: "
                            f"{error.get('message')}", hint=error.get("hint"))
        raise ToolError(f"subagent {name} suspended on an async operation",
                        hint="a subagent in its own process cannot await operations")

    return body


def _sync_body(tool: Tool) -> Any:
    def body(args: dict[str, Any]) -> Any:
        return tool.invoke(tool.validate(args))

    return body


def _async_body(tool: Tool) -> Any:
    async def body(args: dict[str, Any]) -> Any:
        return await tool.invoke(tool.validate(args))

    return body


def _proxy(worker: SupervisedTool) -> Any:
    def call(**args: Any) -> Any:
        return worker(args)

    call.__doc__ = f"{worker.name}, run by a supervised process"
    return call
