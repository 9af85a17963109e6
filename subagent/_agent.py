"""``SubAgent``: an agent as data — a prompt, tools, a signature, budgets — and how to run it.

    agent = SubAgent(prompt="Total the orders of {{customer}}", tools=[get_orders],
                     signature="(customer :string) -> {total :float}", max_turns=4)
    step = agent.run(llm=OpenAIClient("gpt-4o-mini"), context={"customer": "acme"})
    step.return_value        # {"total": 1234.5}

``run`` returns a ``Step``, or a ``PendingStep`` when a program awaits an async tool whose result
is not known yet; ``resume(pending, op_id, result, llm=...)`` continues (in any process: the
pending step is plain data, ``ptclisp.serialize`` turns it into bytes).
"""

from __future__ import annotations

import asyncio
import copy
import functools
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Literal

from opentelemetry import metrics, trace
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from ptclisp import CancelToken, HostInputError, Limits, Signature, parse_signature
from ptclisp.runtime import Supervision

from ._budget import Budget, Ledger
from ._errors import SubAgentError
from ._events import Done, Event, Pending, Token, ToolEnd, ToolStart, TurnEnd, TurnStart
from ._gate import AfterTool, AfterTurn, BeforeTool, BeforeTurn, Hooks
from ._llm import LLM
from ._loop import Loop
from ._ptc import PendingStep, Tool
from ._state import STATE_KEY, RunState
from ._step import Step, ToolCallRecord, Turn
from ._telemetry import Telemetry

__all__ = ["SubAgent", "run"]

Outcome = Step | PendingStep
_DEFAULT_LIMITS = Limits(timeout_s=30.0)
_SUPERVISED = Supervision()
"""How runs are supervised unless told otherwise: a process on the calling thread's scheduler,
checkpoints in memory, 3 restarts in 60 s."""


class SubAgent(BaseModel):
    """An LLM agent that answers by writing ptclisp programs against its tools."""

    model_config = ConfigDict(arbitrary_types_allowed=True, validate_assignment=True)

    prompt: str
    """The task. ``{{name}}`` / ``{{a.b}}`` are filled from the run's context."""
    name: str = "agent"
    description: str = ""
    """What the agent does (shown to a parent agent when used as a tool)."""
    tools: Any = Field(default_factory=list)
    """``ptclisp.Tool``s, plain functions (wrapped with ``ptclisp.tool``), a ``ToolRegistry`` or a
    mapping of name → function/Tool."""
    signature: str | None = None
    """``"(param :type ...) -> return-type"``: params type the context, the return type is
    validated (pydantic) before the run ends."""
    max_turns: int = Field(5, ge=1)
    return_retries: int = Field(2, ge=0)
    """Extra turns granted, in all, for return values that do not match the signature."""
    limits: Limits = Field(default_factory=lambda: _DEFAULT_LIMITS)
    """Interpreter budgets for each turn's program (a ``Limits`` or a dict of its fields)."""
    max_depth: int = Field(3, ge=0)
    """How deep subagents may nest below this agent."""
    llm: Any = None
    """The LLM this agent uses when ``run`` is given none (e.g. a cheaper model for a child)."""
    reference: Literal["full", "compact"] = "full"
    """Language reference in the system prompt: with docs, or function names only."""
    instructions: str = ""
    """Extra text appended to the system prompt."""
    result_chars: int = Field(2000, ge=100)
    """Longest printed result fed back to the LLM (longer ones are truncated)."""
    budget: Budget | None = None
    """One budget for the whole run — wall clock (work only), steps, tool calls, tokens, cost —
    across turns, resumes and subagents (which draw from it). ``None``: unlimited."""
    tier: Literal["inproc", "process", "wasm"] = "inproc"
    """Where the LLM's programs run (``ptclisp.sandbox`` tiers; docs/stack.md, "Which tier"):
    tools, the journal and awaits always stay in this process."""

    _tool_map: dict[str, Tool] | None = PrivateAttr(default=None)

    @field_validator("signature")
    @classmethod
    def _check_signature(cls, text: str | None) -> str | None:
        if text is not None:
            parse_signature(text)  # raises SignatureError with the column
        return text

    @field_validator("limits", mode="before")
    @classmethod
    def _check_limits(cls, limits: Any) -> Any:
        return Limits.coerce(limits)  # a dict of Limits fields is accepted

    @field_validator("tools")
    @classmethod
    def _check_tools(cls, tools: Any) -> Any:
        _normalize_tools(tools)
        return tools

    def tool_map(self) -> dict[str, Tool]:
        """The tools by name, each a ``ptclisp.Tool``."""
        if self._tool_map is None:
            self._tool_map = _normalize_tools(self.tools)
        return self._tool_map

    def parsed_signature(self) -> Signature | None:
        return parse_signature(self.signature) if self.signature else None

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name == "tools":
            self._tool_map = None

    # ------------------------------------------------------------ running

    def run(
        self,
        *,
        llm: LLM | None = None,
        context: Mapping[str, Any] | None = None,
        on_turn: Callable[[Turn], None] | None = None,
        on_llm_token: Callable[[str], None] | None = None,
        on_tool_start: Callable[[str, dict[str, Any]], None] | None = None,
        on_tool_end: Callable[[ToolCallRecord], None] | None = None,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        on_turn_start: Callable[[int, str], None] | None = None,
        cancel: CancelToken | None = None,
        before_turn: BeforeTurn | None = None,
        after_turn: AfterTurn | None = None,
        before_tool: BeforeTool | None = None,
        after_tool: AfterTool | None = None,
        checkpoint: Callable[[dict[str, Any]], None] | None = None,
        supervision: Supervision | None = None,
    ) -> Step | PendingStep:
        """Run the agent to a ``Step`` (ok, failed or error) or a ``PendingStep``.

        ``context`` is the input: ``data/name`` in programs, ``{{name}}`` in the prompt, checked
        against the signature's parameters. Raises only for usage mistakes (``SubAgentError``):
        no LLM, a context that does not match the signature, a placeholder without a value.
        ``cancel``: a ``ptclisp.CancelToken``; cancelling it (from any thread) stops the run at
        its next check — before a turn, after an LLM reply, at the program's next meter check —
        with a ``Step`` error of code ``cancelled``.

        Hooks (docs/subagent.md, "Hooks"): ``before_turn(number, messages)``,
        ``after_turn(turn)``, ``before_tool(name, args)`` — return ``None``, replacement args,
        or ``Refuse(reason)`` (the program sees a ``tool_error``) — and ``after_tool(record)``.
        ``checkpoint(data)`` receives plain data after every turn; ``restart(data)`` continues
        from it.

        The run is a supervised runtime process (docs/stack.md): by default on this thread's
        own scheduler (no thread hop), checkpointed after every turn in memory; a crash — an
        exception from the host side (an LLM client's bug), not a program error — restarts it
        from its last checkpoint, up to 3 times in 60 s, then ``AgentCrashed`` (code
        ``agent_crashed``). ``supervision``: other settings (``runtime.Supervision``: a
        durable checkpoint store, the restart intensity, a ``Runtime``, a timeout).
        """
        hooks = Hooks(on_turn=on_turn, on_llm_token=on_llm_token, on_tool_start=on_tool_start,
                      on_tool_end=on_tool_end, on_turn_start=on_turn_start,
                      before_turn=before_turn, after_turn=after_turn, before_tool=before_tool,
                      after_tool=after_tool, checkpoint=checkpoint)
        chosen = self._llm(llm)
        checked = self._checked_context(dict(context or {}))
        telemetry = Telemetry(tracer_provider, meter_provider)

        def first(run_hooks: Hooks) -> Outcome:
            return self._start_loop(checked, llm=chosen, hooks=run_hooks, telemetry=telemetry,
                                    depth=0, cancel=cancel, ledger=None)

        return self._supervised(first, chosen, hooks, telemetry, cancel, supervision)

    async def arun(self, **options: Any) -> Step | PendingStep:
        """``run`` in a worker thread, for async applications (tools and LLM calls block it).

        Cancelling the awaiting task cancels the run: it stops at its next check (an LLM call
        in flight finishes first), and the ``CancelledError`` propagates once it has stopped.
        """
        return await _cancellable(functools.partial(self.run, **options), options)

    async def iter(self, **options: Any) -> AsyncIterator[Event]:
        """``run`` as a stream of events (``async for event in agent.iter(llm=..., ...)``):
        ``TurnStart``, ``Token``, ``ToolStart``, ``ToolEnd``, ``TurnEnd``, then ``Done`` (the
        ``Step``) or ``Pending`` (the ``PendingStep``). Takes ``run``'s options except the
        callbacks. Leaving the loop early (``break``) or cancelling cancels the run."""
        async for event in _event_stream(self.run, options):
            yield event

    def resume(
        self,
        pending: PendingStep,
        op_id: str,
        result: Any = None,
        *,
        error: Any = None,
        llm: LLM | None = None,
        on_turn: Callable[[Turn], None] | None = None,
        on_llm_token: Callable[[str], None] | None = None,
        on_tool_start: Callable[[str, dict[str, Any]], None] | None = None,
        on_tool_end: Callable[[ToolCallRecord], None] | None = None,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        on_turn_start: Callable[[int, str], None] | None = None,
        cancel: CancelToken | None = None,
        before_turn: BeforeTurn | None = None,
        after_turn: AfterTurn | None = None,
        before_tool: BeforeTool | None = None,
        after_tool: AfterTool | None = None,
        checkpoint: Callable[[dict[str, Any]], None] | None = None,
        supervision: Supervision | None = None,
    ) -> Step | PendingStep:
        """Deliver op ``op_id``'s ``result`` (or ``error``) and continue the run — the program,
        then further LLM turns — to a ``Step`` or the next ``PendingStep``. ``op_id`` may belong
        to a subagent awaited inside this run (see ``pending_ops``). Hooks and supervision as
        for ``run`` (a crash before the first turn ends redoes the delivery)."""
        hooks = Hooks(on_turn=on_turn, on_llm_token=on_llm_token, on_tool_start=on_tool_start,
                      on_tool_end=on_tool_end, on_turn_start=on_turn_start,
                      before_turn=before_turn, after_turn=after_turn, before_tool=before_tool,
                      after_tool=after_tool, checkpoint=checkpoint)
        chosen = self._llm(llm)
        telemetry = Telemetry(tracer_provider, meter_provider)
        tries: list[PendingStep] = []

        def first(run_hooks: Hooks) -> Outcome:
            step = pending if not tries else _unresumed(tries[0])  # a redo after a crash
            tries.append(pending)
            return self._resume_nested(step, op_id, result, error, llm=chosen,
                                       hooks=run_hooks, telemetry=telemetry, depth=None,
                                       cancel=cancel)

        return self._supervised(first, chosen, hooks, telemetry, cancel, supervision)

    async def aresume(self, pending: PendingStep, op_id: str, result: Any = None,
                      **options: Any) -> Step | PendingStep:
        """``resume`` in a worker thread; cancellable like ``arun``."""
        return await _cancellable(functools.partial(self.resume, pending, op_id, result,
                                                    **options), options)

    async def iter_resume(self, pending: PendingStep, op_id: str, result: Any = None,
                          **options: Any) -> AsyncIterator[Event]:
        """``resume`` as a stream of events (see ``iter``)."""
        async for event in _event_stream(
                functools.partial(self.resume, pending, op_id, result), options):
            yield event

    def restart(self, saved: Mapping[str, Any], /, *, llm: LLM | None = None,
                tracer_provider: trace.TracerProvider | None = None,
                cancel: CancelToken | None = None, supervision: Supervision | None = None,
                **hooks: Any) -> Step | PendingStep:
        """Continue a run from ``saved`` (what ``run(checkpoint=...)`` last received: the
        state after a completed turn; ``checkpoint=`` here keeps saving) — the turns done are
        not redone, their tool calls not re-run; the budget ledger carries on. A run's
        supervisor does this after a crash of its process; the restarted run is supervised
        too."""
        chosen = self._llm(llm)
        telemetry = Telemetry(tracer_provider)
        self._check_checkpoint(saved)

        def first(run_hooks: Hooks) -> Outcome:
            return self._restart_loop(saved, chosen, run_hooks, telemetry, cancel)

        return self._supervised(first, chosen, Hooks(**hooks), telemetry, cancel, supervision)

    def _supervised(self, first: Callable[[Hooks], Outcome], llm: LLM, hooks: Hooks,
                    telemetry: Telemetry, cancel: CancelToken | None,
                    supervision: Supervision | None) -> Outcome:
        """Run ``first`` as a supervised process (``runtime.supervised_call``); after a crash,
        continue from the last turn checkpoint (or call ``first`` again if there is none)."""
        if supervision is not None and not isinstance(supervision, Supervision):
            raise HostInputError(f"supervision must be a runtime.Supervision, got "
                                 f"{type(supervision).__name__}",
                                 hint="pass runtime.Supervision(...) or leave it out")
        user_checkpoint = hooks.checkpoint

        def work(saved: Any, save: Callable[[Any], None]) -> Outcome:
            hooks.checkpoint = save if user_checkpoint is None else _both(save, user_checkpoint)
            if saved is None:
                return first(hooks)
            return self._restart_loop(saved, llm, hooks, telemetry, cancel)

        return (supervision or _SUPERVISED).call(work, name=self.name)

    def _check_checkpoint(self, saved: Any) -> RunState:
        if not isinstance(saved, Mapping) or "state" not in saved:
            raise SubAgentError("not an agent checkpoint", code="pending_corrupt",
                                hint="pass what the checkpoint callback received")
        try:
            state = RunState.from_host_state(dict(saved["state"]))
        except (TypeError, ValueError) as exc:
            raise SubAgentError(f"malformed agent checkpoint: {exc}", code="pending_corrupt",
                                hint="pass what the checkpoint callback received") from None
        if state.agent != self.name:
            raise SubAgentError(f"this checkpoint belongs to agent {state.agent!r}",
                                code="pending_error", hint="restart it with the agent that ran it")
        return state

    def _restart_loop(self, saved: Mapping[str, Any], llm: LLM, hooks: Hooks,
                      telemetry: Telemetry, cancel: CancelToken | None) -> Outcome:
        state = RunState.from_host_state(self._check_checkpoint(saved).snapshot())  # a copy:
        # the checkpoint must not change as the restarted run goes on (it may crash again)
        ledger = Ledger.from_dict(dict(saved.get("ledger") or
                                       Ledger(self.budget or Budget()).to_dict()))
        return Loop(self, state, llm, hooks, telemetry, cancel, ledger, True).restart()

    def _checked_context(self, context: dict[str, Any]) -> dict[str, Any]:
        signature = self.parsed_signature()
        if signature is None or signature.params is None:
            return context
        try:
            return signature.validate_args(context)
        except Exception as exc:
            raise SubAgentError(f"the context does not match {self.name}'s signature: "
                                f"{getattr(exc, 'message', exc)}", code="invalid_args",
                                hint=f"the signature is {signature.render()}") from None

    def _run_nested(self, context: dict[str, Any], *, llm: LLM, hooks: Hooks,
                    telemetry: Telemetry, depth: int, cancel: CancelToken | None = None,
                    ledger: Ledger | None = None) -> Outcome:
        """A run inside the caller's process (a subagent called as a tool, a host's step)."""
        return self._start_loop(self._checked_context(context), llm=llm, hooks=hooks,
                                telemetry=telemetry, depth=depth, cancel=cancel, ledger=ledger)

    def _start_loop(self, context: dict[str, Any], *, llm: LLM, hooks: Hooks,
                    telemetry: Telemetry, depth: int, cancel: CancelToken | None,
                    ledger: Ledger | None) -> Outcome:
        state = RunState(agent=self.name, depth=depth, context=context, budget=self.max_turns)
        owner = ledger is None
        ledger = ledger if ledger is not None else Ledger(self.budget or Budget())
        return Loop(self, state, llm, hooks, telemetry, cancel, ledger, owner).start()

    def _resume_nested(self, pending: PendingStep, op_id: str, result: Any, error: Any, *,
                       llm: LLM, hooks: Hooks, telemetry: Telemetry, depth: int | None,
                       cancel: CancelToken | None = None, ledger: Ledger | None = None
                       ) -> Outcome:
        if not isinstance(pending, PendingStep):
            raise SubAgentError(f"resume needs a PendingStep, got {type(pending).__name__}",
                                code="pending_error")
        state = RunState.from_host_state(pending.host_state)
        state = RunState.from_host_state(state.snapshot())  # the pending step stays as it was
        if state.agent != self.name:
            raise SubAgentError(f"this step belongs to agent {state.agent!r}, not {self.name!r}",
                                code="pending_error", hint="resume it with the agent that ran it")
        if depth is not None:
            state.depth = depth
        owner = ledger is None
        if ledger is None:
            ledger = (Ledger.from_dict(pending.budget) if pending.budget
                      else Ledger(self.budget or Budget()))
        loop = Loop(self, state, llm, hooks, telemetry, cancel, ledger, owner)
        return loop.resume(pending, op_id, result, error)

    def _llm(self, llm: LLM | None) -> LLM:
        chosen = llm or self.llm
        if chosen is None:
            raise SubAgentError(f"agent {self.name} has no LLM", code="no_llm",
                                hint="pass llm=... to run(), or set SubAgent(llm=...)")
        return chosen

    # ------------------------------------------------------------ composition

    def as_tool(self, *, name: str | None = None, description: str | None = None,
                llm: LLM | None = None) -> Tool:
        """This agent as a tool another agent's program calls as ``(tool/name {...})``.

        The arguments become the child's context (typed by this agent's signature), the child's
        return value is the tool's result, a ``fail``/error is a tool error. If this agent (or a
        subagent below it) has async tools, the tool is async too — the parent program awaits
        its handle, and a child suspended on an op suspends the parent (``pending_ops`` lists
        the child's op; ``resume`` on the parent routes the result down).
        """
        tool_name = name or self.name
        signature = self.parsed_signature()
        text = signature.render() if signature and signature.params is not None else (
            f"(task :string?) -> {signature.returns.render() if signature else ':any'}")

        def run_subagent(**args: Any) -> Any:
            raise SubAgentError(f"subagent tool {tool_name} runs only inside an agent's program",
                                code="agent_error")

        made = Tool(tool_name, run_subagent, description=description or self.description
                    or f"subagent {self.name}: {self.prompt[:80]}", signature=text,
                    is_async=self.may_suspend())
        made.subagent = self  # type: ignore[attr-defined]
        made.llm = llm  # type: ignore[attr-defined]
        return made

    def may_suspend(self) -> bool:
        """Whether a run can end pending: an async tool here or in a subagent below."""
        return any(t.is_async for t in self.tool_map().values())


def _unresumed(pending: PendingStep) -> PendingStep:
    """A copy of ``pending`` without the mark a resume leaves (``ptclisp.resume`` refuses a
    step twice): a supervised resume that crashed before its first turn ended is redone."""
    again = copy.copy(pending)
    vars(again).pop("_resumed", None)
    return again


def _both(first: Callable[[Any], None], second: Callable[[Any], None]
          ) -> Callable[[Any], None]:
    def both(data: Any) -> None:
        first(data)
        second(data)

    return both


def run(task_or_agent: str | SubAgent, *, llm: LLM | None = None,
        context: Mapping[str, Any] | None = None, **options: Any) -> Step | PendingStep:
    """Run an agent, or a one-off task text as an agent with default settings."""
    agent = SubAgent(prompt=task_or_agent) if isinstance(task_or_agent, str) else task_or_agent
    return agent.run(llm=llm, context=context, **options)


def pending_ops(pending: PendingStep) -> dict[str, dict[str, Any]]:
    """The ops a suspended agent run waits for (subagents' included): ``{op_id: {"tool",
    "args", "agent"}}`` — deliver each with ``agent.resume(pending, op_id, result)``."""
    from ._loop import external_ops

    if STATE_KEY not in (pending.host_state or {}):
        return dict(pending.pending_ops)
    return external_ops(pending)


async def _cancellable(call: Callable[..., Outcome], options: dict[str, Any]) -> Outcome:
    """``call(cancel=token)`` in a worker thread; cancelling the awaiting task cancels the
    token and waits for the run to stop before the ``CancelledError`` goes on."""
    token = options.get("cancel") or CancelToken()
    task = asyncio.ensure_future(asyncio.to_thread(functools.partial(call, cancel=token)
                                                   if "cancel" not in options else call))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        token.cancel()
        await asyncio.wait([task])  # the run stops at its next check; no tokens after that
        raise


async def _event_stream(call: Callable[..., Outcome], options: dict[str, Any]
                        ) -> AsyncIterator[Event]:
    """Run ``call`` in a worker thread with callbacks that feed an asyncio queue."""
    taken = {"on_turn", "on_llm_token", "on_tool_start", "on_tool_end", "on_turn_start"}
    if taken & set(options):
        raise SubAgentError(f"iter() delivers {', '.join(sorted(taken & set(options)))} as "
                            "events; pass no callbacks", code="agent_error")
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()

    def put(event: Any) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, event)

    token = options.pop("cancel", None) or CancelToken()
    runner = functools.partial(
        call, cancel=token, on_turn_start=lambda n, agent: put(TurnStart(n, agent)),
        on_llm_token=lambda text: put(Token(text)),
        on_tool_start=lambda name, args: put(ToolStart(name, args)),
        on_tool_end=lambda record: put(ToolEnd(record)), on_turn=lambda turn: put(TurnEnd(turn)),
        **options)
    finished = object()
    task = asyncio.ensure_future(asyncio.to_thread(runner))
    task.add_done_callback(lambda _: queue.put_nowait(finished))
    try:
        while (event := await queue.get()) is not finished:
            yield event
        outcome = task.result()
        yield Pending(outcome) if isinstance(outcome, PendingStep) else Done(outcome)
    finally:
        if not task.done():  # the consumer left early or was cancelled
            token.cancel()
            await asyncio.wait([task])


def _normalize_tools(tools: Any) -> dict[str, Tool]:
    from ._ptc import tool as make_tool

    if tools is None:
        return {}
    items: list[tuple[str | None, Any]]
    if isinstance(tools, Mapping):
        items = list(tools.items())
    elif isinstance(tools, (list, tuple)):
        items = [(None, t) for t in tools]
    else:
        raise SubAgentError(f"tools must be a list or a mapping, got {type(tools).__name__}",
                            code="agent_error")
    out: dict[str, Tool] = {}
    for key, item in items:
        if isinstance(item, SubAgent):
            item = item.as_tool(name=key)
        if not isinstance(item, Tool):
            if not callable(item):
                raise SubAgentError(f"tool {key or item!r} is not callable", code="agent_error")
            item = make_tool(item, name=key)
        if key is not None and key != item.name:
            raise SubAgentError(f"tool registered as {key!r} is named {item.name!r}",
                                code="agent_error")
        if item.name in out:
            raise SubAgentError(f"two tools are named {item.name!r}", code="agent_error")
        out[item.name] = item
    return out
