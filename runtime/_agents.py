"""SubAgent runs as runtime processes: one-shot, as a supervised server, many at once.

An agent run is blocking code (LLM calls, tools, the interpreter), so a process never runs it on
the scheduler thread: it awaits ``agent.arun(...)`` through ``aio`` (a worker thread of the
loop's default executor). Tools run through ``supervise_tools`` use the runtime's own bounded
pool (``run_sync``), so agents waiting on their tools can never starve those tools of threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from ptclisp import PtclispError, Tool, ToolError

from ._api import (
    aio,
    exit_process,
    receive,
    reply,
    reply_error,
    self_pid,
    send,
    spawn_monitor,
)
from ._errors import DeadlineExceeded, ProcessDown, RestartIntensity
from ._match import ANY
from ._process import NORMAL, Down, Pid, Ref, Request
from ._runtime import Runtime
from ._tools import SupervisedTool, supervised_tool

__all__ = [
    "AgentCrashed",
    "agent_process",
    "agent_server",
    "agent_tool",
    "run_agents",
    "supervise_tools",
    "supervised_run",
    "supervised_tools",
]

_RESULT = "agent_result"


class AgentCrashed(RestartIntensity):
    """A supervised agent run crashed more often than its restart intensity allows."""

    code = "agent_crashed"


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
    """Run ``agent`` as a supervised process of ``runtime`` (default: a shared one) and return
    its ``Step`` or ``PendingStep`` — a one-line sync call.

    After every turn the run's state is saved in ``checkpoints[key]`` (a dict by default; pass
    a durable mapping to survive the host). When the agent's process crashes — a host-side bug
    such as an LLM client raising something unexpected, not a program error, which the loop
    handles — its supervisor restarts it from that checkpoint (``SubAgent.restart``): finished
    turns are not redone and their tools not re-run. More than ``max_restarts`` crashes within
    ``period`` seconds end the run with ``AgentCrashed`` (code ``agent_crashed``) naming the
    last cause. ``options`` go to ``agent.run`` (hooks, ``tracer_provider``...).

    ``tools_as_processes=True``: every tool call goes through the runtime too — sync tools on
    its bounded pool, ``async def`` tools on its event loop, each tool a supervised process
    (``supervise_tools``: a crashing tool gives the program ``tool_crashed``), stopped when the
    run ends.
    """
    store: MutableMapping[str, Any] = checkpoints if checkpoints is not None else {}
    rt = runtime if runtime is not None else default_runtime()
    if tools_as_processes:
        agent = supervise_tools(agent, runtime=rt)
    body = _Incarnation(agent, llm, dict(context or {}), store, key, options)
    try:
        return rt.run(_supervise, body, max_restarts, period, timeout=timeout)
    finally:
        if tools_as_processes:
            for worker in supervised_tools(agent).values():
                worker.close()


_default: Runtime | None = None
_default_lock = threading.Lock()


def default_runtime() -> Runtime:
    """The runtime ``supervised_run`` uses when given none (started on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Runtime().start()
        return _default


class _Incarnation:
    """One agent run's process body: a fresh run, or a restart from its last checkpoint."""

    def __init__(self, agent: Any, llm: Any, context: dict[str, Any],
                 store: MutableMapping[str, Any], key: str, options: dict[str, Any]) -> None:
        self.agent, self.llm, self.context = agent, llm, context
        self.store, self.key, self.options = store, key, options
        self.crashes: list[BaseException | Any] = []

    def save(self, checkpoint: dict[str, Any]) -> None:
        self.store[self.key] = checkpoint

    def work(self) -> Any:
        saved = self.store.get(self.key)
        if saved is None:
            return self.agent.run(llm=self.llm, context=self.context, checkpoint=self.save,
                                  **self.options)
        return self.agent.restart(saved, llm=self.llm, checkpoint=self.save, **self.options)

    async def __call__(self, reply_to: Pid) -> None:
        import asyncio

        step = await aio(asyncio.to_thread(self.work))
        send(reply_to, (_RESULT, self.key, step))


async def _supervise(body: _Incarnation, max_restarts: int, period: float) -> Any:
    from ._supervisor import ChildSpec, Restart, Supervisor

    me = self_pid()
    spec = ChildSpec("agent", _watched, args=(body, me), restart=Restart.TRANSIENT)
    supervisor = Supervisor([spec], max_restarts=max_restarts, period=period)
    pid, _ = spawn_monitor(supervisor.run)
    try:
        msg = await receive((_RESULT, body.key, ANY), Down)
    finally:
        exit_process(pid, "shutdown")
    if isinstance(msg, Down):
        cause = body.crashes[-1] if body.crashes else msg.reason
        name = getattr(body.agent, "name", "agent")
        error = AgentCrashed(
            f"agent {name} crashed {len(body.crashes)} times (restart intensity "
            f"{max_restarts} in {period} s): {type(cause).__name__}: {cause}",
            hint="a host-side bug (LLM client, tool host): fix it, or raise max_restarts")
        raise error from cause if isinstance(cause, BaseException) else None
    return msg[2]


async def _watched(body: _Incarnation, reply_to: Pid) -> None:
    try:
        await body(reply_to)
    except BaseException as exc:
        body.crashes.append(exc)
        raise


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
    any other exception crashes the server, so its supervisor restarts it and the caller's
    ``call`` raises ``ProcessDown``. Runs are served one at a time — start several servers (or
    use ``run_agents``) for concurrency."""
    while True:
        request = await receive(Request)
        try:
            step = await aio(agent.arun(llm=llm, context=dict(request.payload or {})))
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
