"""The agent loop: prompt → LLM → program → interpreter → feedback, turn after turn.

Flow of one run (``Loop.start``; ``Loop.resume`` re-enters at step 4 with an op result):

1. Build the messages: the system prompt (rules, language reference, tools, data, goal) and the
   user prompt (the agent's prompt with ``{{placeholders}}`` filled from the context).
2. Ask the LLM (``chat {model}`` span; tokens stream to ``on_llm_token``).
3. Extract the program from the reply; none → tell the LLM how to answer, next turn.
4. Run ``prelude + program`` (``_source``) with the tools behind the gate (``_gate``).
5. Conclude the turn from the outcome and feed the result or the error back.

Termination:

    program outcome                   turn status       run
    (return v), v matches signature   returned          Step ok, return_value = v
    (return v), v does not match      invalid_return    next turn (one extra turn granted), until
                                                        return_retries are spent → Step error
    (fail v)                          failed            Step failed, fail_value = v
    ran to the end (no return)        continue          next turn; single-shot mode: as (return v)
    error (parse, eval, limits, ...)  error             next turn, with the error and its hint
    no program in the reply           no_program        next turn
    await on an unfinished op         pending           PendingStep (resume continues here)
    LLM fails after its retries       —                 Step error, code llm_*
    turn budget spent                 —                 Step error, code max_turns
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import Link, Span

from ptclisp import (
    CancelToken,
    PtclispError,
    Result,
    SignatureMismatch,
    ToolError,
    pr_str,
    to_python,
)

from ._budget import Budget, Ledger
from ._errors import DepthLimitError, LLMError, SubAgentError
from ._extract import extract_program
from ._feedback import NO_PROGRAM, error_feedback, invalid_return_feedback, result_feedback
from ._forms import definition_forms
from ._gate import Hooks, ToolGate
from ._llm import LLM, LLMResponse
from ._prompt import expand_placeholders, language_reference, system_prompt
from ._ptc import PendingStep, Tool, resume, run, start
from ._source import HISTORY_KEYS, TurnSource, compose
from ._state import RunState
from ._step import Step, TokenUsage, ToolCallRecord, Turn
from ._telemetry import Telemetry, mark_error, set_attributes
from ._trace import links_to, trace_context

if TYPE_CHECKING:
    from ._agent import SubAgent

__all__ = ["Loop", "external_ops"]

Outcome = Step | PendingStep
_TIERS = {"inproc": "in_process", "process": "process", "wasm": "wasm"}
"""``SubAgent.tier`` → the ``ptclisp.tier`` span attribute of a turn."""


class Loop:
    """Drives one run of one agent (a fresh ``Loop`` per ``run``/``resume`` call)."""

    def __init__(self, agent: SubAgent, state: RunState, llm: LLM, hooks: Hooks,
                 telemetry: Telemetry, cancel: CancelToken | None = None,
                 ledger: Ledger | None = None, owner: bool = True) -> None:
        self.agent = agent
        self.ledger = ledger if ledger is not None else Ledger(Budget())
        """The run's budget ledger (a subagent shares its parent's)."""
        self.owner = owner
        """This loop keeps the ledger's wall clock (the root run; a subagent's time is inside)."""
        self.tier = _TIERS[agent.tier]
        self.cancel = cancel
        """Cancelled: the run stops at the next turn, LLM reply or meter check (``cancelled``)."""
        self.state = state
        self.llm = llm
        self.hooks = hooks
        self.telemetry = telemetry
        self.tools: Mapping[str, Tool] = agent.tool_map()
        self.signature = agent.parsed_signature()
        self.single_shot = agent.max_turns == 1 and not self.tools
        self._lock = threading.Lock()  # subagent tools may run in pmap threads
        self.converted: dict[int, tuple[dict[str, Any], Any]] = {}
        """Replayed tool results as ptclisp values, by journal entry (see ``ToolGate``)."""

    # ------------------------------------------------------------ entry points

    def start(self) -> Outcome:
        started = time.perf_counter()
        if self.owner:
            self.ledger.begin()
        with self._run_span(resumed=False) as span:
            self.state.messages = [
                {"role": "system", "content": self._system_prompt()},
                {"role": "user", "content": expand_placeholders(self.agent.prompt,
                                                                 self.state.context)},
            ]
            return self._close(span, started, self._drive(span))

    def resume(self, pending: PendingStep, op_id: str, result: Any, error: Any) -> Outcome:
        started = time.perf_counter()
        if self.owner:
            self.ledger.begin()
        self.state.restore_system_prompt(self._system_prompt())
        with self._run_span(resumed=True, links=links_to(pending.trace)) as span:
            turn = self.state.open_turn
            if turn is None:
                raise SubAgentError("the pending step has no suspended turn", code="pending_error")
            source = TurnSource(**turn["source"])
            with self.telemetry.span("ptclisp.turn", span, ptclisp__turn__number=turn["number"],
                                     ptclisp__turn__resumed=True, ptclisp__tier=self.tier
                                     ) as turn_span:
                gate = self._gate(turn_span, replay=())
                began = time.perf_counter()
                outcome = self._deliver(pending, op_id, result, error, gate)
                segment = time.perf_counter() - began
                turn["run_duration_s"] += segment
                final = self._conclude(turn, source, outcome, gate, turn_span, segment)
            if final is None:
                final = self._drive(span)
            return self._close(span, started, final)

    def restart(self) -> Outcome:
        """Continue a run from a turn-boundary checkpoint (after a crash of its process)."""
        started = time.perf_counter()
        self.ledger.begin()
        with self._run_span(resumed=True) as span:
            set_attributes(span, ptclisp__agent__restarted=True)
            return self._close(span, started, self._drive(span))

    # ------------------------------------------------------------ the turn loop

    def _drive(self, run_span: Span) -> Outcome:
        while True:
            spent = self.ledger.exhausted()
            if spent is not None:
                return self._finish("error", error=self.ledger.error(spent))
            if len(self.state.turns) >= self.state.budget:
                return self._finish("error", error=_max_turns(self.state))
            if self.cancel is not None and self.cancel.cancelled:
                return self._finish("error", error=_cancelled())
            number = len(self.state.turns) + 1
            if self.hooks.on_turn_start is not None:
                self.hooks.on_turn_start(number, self.agent.name)
            if self.hooks.before_turn is not None:
                self.hooks.before_turn(number, self.state.messages)
            with self.telemetry.span("ptclisp.turn", run_span, ptclisp__turn__number=number,
                                     ptclisp__tier=self.tier) as span:
                reply = self._ask(span)
                if isinstance(reply, Step):
                    return reply
                if self.cancel is not None and self.cancel.cancelled:
                    return self._finish("error", error=_cancelled())
                spent = self.ledger.exhausted()
                if spent is not None:
                    return self._finish("error", error=self.ledger.error(spent))
                turn = _new_turn(number, reply)
                self.state.messages.append({"role": "assistant", "content": reply.content})
                program = extract_program(reply.content)
                if program is None:
                    turn["status"] = "no_program"
                    self._record(turn, span, NO_PROGRAM)
                    continue
                turn["program"] = program
                source = compose(self.state.definitions, len(self.state.history), program)
                gate = self._gate(span, replay=self.state.prelude_calls)
                began = time.perf_counter()
                outcome = start(source.text, tools=gate.wrapped(), data=self._data(),
                                limits=self.ledger.clamp(self.agent.limits), cancel=self.cancel,
                                tier=self.agent.tier)
                turn["run_duration_s"] = segment = time.perf_counter() - began
                final = self._conclude(turn, source, outcome, gate, span, segment)
            if final is not None:
                return final

    def _ask(self, turn_span: Span) -> LLMResponse | Step:
        with self.telemetry.chat_span(self.llm, turn_span) as span:
            began = time.perf_counter()
            try:
                reply = self._complete()
            except LLMError as exc:
                mark_error(span, exc.code, exc.message)
                self.telemetry.record_chat(span, self.llm, None, time.perf_counter() - began,
                                           exc.code)
                return self._finish("error", error=exc)
            self.telemetry.record_chat(span, self.llm, reply, time.perf_counter() - began)
        self.state.add_usage(reply.usage)
        self.state.llm_s += reply.duration_s
        self.ledger.charge_llm(getattr(self.llm, "model", None), reply.usage)
        return reply

    def _complete(self) -> LLMResponse:
        def ask() -> LLMResponse:
            return self.llm.complete(self.state.messages, on_token=self.hooks.on_llm_token)

        if self.hooks.effects is None:
            return ask()
        return self.hooks.effects.llm(self.agent.name, ask)

    # ------------------------------------------------------------ concluding a turn

    def _conclude(self, turn: dict[str, Any], source: TurnSource, outcome: Result | PendingStep,
                  gate: ToolGate, span: Span, segment_s: float) -> Outcome | None:
        """Record the turn; a final outcome, or ``None`` to go on with the next turn."""
        outcome = self._settle_children(outcome, gate)
        self.state.run_s += segment_s
        if isinstance(outcome, PendingStep):
            return self._suspend(turn, source, outcome, span)
        calls = outcome.tool_calls[len(self.state.prelude_calls):]
        self.ledger.charge_program(outcome.steps, len(calls))
        turn["tool_calls"] = [_record_of(c) for c in calls]
        turn["output"] = outcome.output
        turn["steps"] = outcome.steps
        set_attributes(span, ptclisp__steps=outcome.steps)
        if outcome.status == "error":
            assert outcome.error is not None
            error = source.map_error(outcome.error)
            turn.update(status="error", error=error.to_dict())
            if error.code == "cancelled":  # the host stopped the run: no more turns
                self._record(turn, span, None)
                return self._finish("error", error=error)
            self._record(turn, span, error_feedback(error, outcome.output))
            return None
        if outcome.status == "failed":
            turn["status"] = "failed"
            fail_value = _host(outcome.value)
            self._record(turn, span, None)
            return self._finish("failed", fail_value=fail_value)
        if not outcome.returned and not self.single_shot:
            self._continue(turn, outcome.value, outcome, span)
            return None
        return self._returned(turn, outcome.value, span)

    def _continue(self, turn: dict[str, Any], value: Any, outcome: Result, span: Span) -> None:
        turn.update(status="continue", result=_host(value))
        self.state.remember(value)
        self._learn(turn["program"], outcome)
        remaining = self.state.budget - len(self.state.turns) - 1
        self._record(turn, span, result_feedback(value, outcome.output, remaining,
                                                  self.agent.result_chars))

    def _returned(self, turn: dict[str, Any], value: Any, span: Span) -> Outcome | None:
        try:
            host_value = self.signature.validate_return(value) if self.signature else _data(value)
        except SignatureMismatch as exc:
            self.state.invalid_returns += 1
            turn.update(status="invalid_return", error=exc.to_dict())
            if self.state.invalid_returns > self.agent.return_retries:
                self._record(turn, span, None)
                return self._finish("error", error=exc)
            self.state.budget += 1  # a signature retry does not spend the turn budget
            self._record(turn, span, invalid_return_feedback(exc, value,
                                                              self.agent.result_chars))
            return None
        turn.update(status="returned", result=host_value)
        self._record(turn, span, None)
        return self._finish("ok", return_value=host_value)

    def _record(self, turn: dict[str, Any], span: Span, feedback: str | None) -> None:
        turn["feedback"] = feedback
        set_attributes(span, ptclisp__turn__status=turn["status"])
        if turn.get("error"):
            mark_error(span, turn["error"].get("code"), turn["error"].get("message", ""))
        self.state.turns.append(turn)
        self.state.open_turn = None
        if feedback is not None:
            self.state.messages.append({"role": "user", "content": feedback})
        if self.hooks.checkpoint is not None and self.owner:
            self.hooks.checkpoint({"state": self.state.snapshot(),
                                   "ledger": self.ledger.to_dict()})
        if self.hooks.on_turn is not None or self.hooks.after_turn is not None:
            record = Turn.model_validate(turn)
            for hook in (self.hooks.on_turn, self.hooks.after_turn):
                if hook is not None:
                    hook(record)

    def _finish(self, status: str, *, return_value: Any = None, fail_value: Any = None,
                error: PtclispError | None = None) -> Step:
        self.state.open_turn = None
        return self.state.step(status, return_value=return_value, fail_value=fail_value,
                               error=error)

    def _close(self, span: Span, started: float, outcome: Outcome) -> Outcome:
        self.state.elapsed_s += time.perf_counter() - started
        if self.owner:
            self.ledger.pause()
        usage = self.state.token_usage()
        set_attributes(span, ptclisp__agent__turns=len(self.state.turns),
                       gen_ai__usage__input_tokens=usage.input_tokens,
                       gen_ai__usage__output_tokens=usage.output_tokens)
        if isinstance(outcome, PendingStep):
            set_attributes(span, ptclisp__agent__status="pending")
            outcome.host_state = self.state.to_host_state(self._system_prompt())
            outcome.budget = self.ledger.to_dict()
            outcome.trace = trace_context(span)
            return outcome
        outcome.duration_s = self.state.elapsed_s
        set_attributes(span, ptclisp__agent__status=outcome.status)
        if outcome.error is not None:
            mark_error(span, outcome.error.code, outcome.error.message)
        return outcome

    # ------------------------------------------------------------ memory across turns

    def _learn(self, program: str, outcome: Result) -> None:
        """Add the program's top-level definitions to the prelude, if they replay cleanly."""
        new = definition_forms(program)
        if not new:
            return
        journal = self.state.prelude_calls + [
            {"tool": c.name, "args": c.args, "result": c.result, "error": c.error}
            for c in outcome.tool_calls[len(self.state.prelude_calls):]
        ]
        candidate = self.state.definitions + new
        gate = ToolGate(self.tools, hooks=Hooks(), telemetry=self.telemetry, span=None,
                        replay=journal, allow_live=False, converted=self.converted)
        check = run("\n".join(candidate) + "\nnil", tools=gate.wrapped(), data=self._data(),
                    limits=self.agent.limits, tier=self.agent.tier)
        if check.status == "ok":
            self.state.definitions = candidate
            self.state.prelude_calls = gate.consumed

    def _data(self) -> dict[str, Any]:
        data = dict(self.state.context)
        for key, value in zip(HISTORY_KEYS, self.state.history_values()):
            data[key] = value
        return data

    # ------------------------------------------------------------ suspension and subagents

    def _gate(self, span: Span, replay: Any) -> ToolGate:
        return ToolGate(self.tools, hooks=self.hooks, telemetry=self.telemetry, span=span,
                        replay=list(replay), child_runner=self._run_child,
                        converted=self.converted)

    def _suspend(self, turn: dict[str, Any], source: TurnSource, pending: PendingStep,
                 span: Span) -> PendingStep:
        turn["status"] = "pending"
        turn["source"] = dict(source.__dict__)
        self.state.open_turn = turn
        set_attributes(span, ptclisp__turn__status="pending")
        return pending

    def _deliver(self, pending: PendingStep, op_id: str, result: Any, error: Any,
                 gate: ToolGate) -> Result | PendingStep:
        """Hand an op result to the program, or to the suspended subagent that awaits it."""
        if op_id in pending.pending_ops and op_id not in self.state.children:
            return resume(pending, op_id, result, tools=gate.wrapped(), error=error,
                          cancel=self.cancel, tier=self.agent.tier)
        for parent_op, info in list(self.state.children.items()):
            child_pending = PendingStep.from_dict(info["pending"])
            if op_id not in external_ops(child_pending):
                continue
            child_tool = self.tools[info["tool"]]
            child_out = child_tool.subagent._resume_nested(  # type: ignore[attr-defined]
                child_pending, op_id, result, error, llm=self._child_llm(child_tool),
                hooks=self.hooks, telemetry=self.telemetry, depth=self.state.depth + 1,
                cancel=self.cancel, ledger=self.ledger)
            if isinstance(child_out, PendingStep):
                info["pending"] = child_out.to_dict()
                return pending
            del self.state.children[parent_op]
            self._add_child_usage(child_out)
            value, child_error = _child_outcome(child_tool.name, child_out)
            return resume(pending, parent_op, value, tools=gate.wrapped(), error=child_error,
                          cancel=self.cancel, tier=self.agent.tier)
        known = ", ".join(sorted(external_ops(pending))) or "none"
        raise SubAgentError(f"op {op_id!r} is not awaited by this run", code="pending_unknown_op",
                            hint=f"pending ops: {known}")

    def _settle_children(self, outcome: Result | PendingStep, gate: ToolGate
                         ) -> Result | PendingStep:
        """Resume at once past awaits on subagents that already finished."""
        while isinstance(outcome, PendingStep):
            ready = [op for op in outcome.awaiting if op in self.state.finished_children]
            if not ready:
                return outcome
            done = self.state.finished_children.pop(ready[0])
            outcome = resume(outcome, ready[0], done.get("value"), tools=gate.wrapped(),
                             error=done.get("error"), cancel=self.cancel, tier=self.agent.tier)
        return outcome

    def _run_child(self, tool: Tool, args: dict[str, Any]) -> Any:
        """A subagent called as a tool: run it with our LLM, callbacks, telemetry, depth + 1."""
        child: SubAgent = tool.subagent  # type: ignore[attr-defined]
        depth = self.state.depth + 1
        if depth > self.agent.max_depth:
            raise DepthLimitError(
                f"subagent {child.name} would run at depth {depth}, over the limit of "
                f"{self.agent.max_depth}",
                hint="do the work in this program instead of calling another agent")
        context = tool.validate(args)
        outcome = child._run_nested(context, llm=self._child_llm(tool), hooks=self.hooks,
                                    telemetry=self.telemetry, depth=depth, cancel=self.cancel,
                                    ledger=self.ledger)
        if isinstance(outcome, Step):
            self._add_child_usage(outcome)
        if not tool.is_async:
            if isinstance(outcome, PendingStep):
                raise ToolError(f"subagent {child.name} suspended inside a synchronous call")
            value, error = _child_outcome(tool.name, outcome)
            if error is not None:
                raise ToolError(error["message"], hint=error.get("hint"))
            return value
        op_id = f"{tool.name}-{uuid.uuid4().hex[:12]}"
        if isinstance(outcome, PendingStep):
            self.state.children[op_id] = {"tool": tool.name, "pending": outcome.to_dict()}
        else:
            value, error = _child_outcome(tool.name, outcome)
            self.state.finished_children[op_id] = {"value": value, "error": error}
        return op_id

    def _add_child_usage(self, step: Step) -> None:
        """A run's usage counts its subagents' LLM calls too (what the whole task cost)."""
        with self._lock:
            self.state.add_usage(step.usage)
            self.state.llm_s += step.llm_duration_s

    def _child_llm(self, tool: Tool) -> LLM:
        return getattr(tool, "llm", None) or tool.subagent.llm or self.llm  # type: ignore[attr-defined]

    # ------------------------------------------------------------ prompt and spans

    def _system_prompt(self) -> str:
        tools_text = "\n".join(_describe_tool(t) for t in self.tools.values())
        return system_prompt(
            tools_text=tools_text, data=self.state.context, signature=self.signature,
            max_turns=self.agent.max_turns, reference=language_reference(self.agent.reference),
            extra=self.agent.instructions)

    def _run_span(self, resumed: bool, links: list[Link] | None = None) -> Any:
        parent = None
        if links and not trace.get_current_span().get_span_context().is_valid:
            parent = trace.NonRecordingSpan(links[0].context)  # the same trace, days later
        return self.telemetry.agent_span(self.agent.name, self.llm, parent, links=links or (),
                                         ptclisp__agent__depth=self.state.depth,
                                         ptclisp__agent__resumed=resumed)


# ---------------------------------------------------------------- helpers


def external_ops(pending: PendingStep) -> dict[str, dict[str, Any]]:
    """The ops a suspended agent run waits for, subagents' included: ``{op_id: {"tool", "args",
    "agent"}}``. A subagent's own op appears, not the parent's handle on the subagent."""
    from ._state import STATE_KEY

    state = (pending.host_state or {}).get(STATE_KEY) or {}
    children = state.get("children") or {}
    agent = state.get("agent")
    ops: dict[str, dict[str, Any]] = {}
    for op_id, info in pending.pending_ops.items():
        if op_id in children:
            ops.update(external_ops(PendingStep.from_dict(children[op_id]["pending"])))
        else:
            ops[op_id] = {**info, "agent": agent}
    return ops


def _new_turn(number: int, reply: LLMResponse) -> dict[str, Any]:
    usage = TokenUsage()
    usage.add(reply.usage)
    return {"number": number, "reply": reply.content, "program": None, "status": "error",
            "usage": usage.model_dump(), "llm_duration_s": reply.duration_s,
            "run_duration_s": 0.0}


def _record_of(call: Any) -> dict[str, Any]:
    return ToolCallRecord(name=call.name, args=call.args, result=call.result, error=call.error,
                          duration_s=call.duration_s, op_id=call.op_id).model_dump()


def _child_outcome(name: str, step: Step) -> tuple[Any, dict[str, Any] | None]:
    if step.status == "ok":
        return step.return_value, None
    if step.status == "failed":
        message = f"subagent {name} failed: {pr_str_host(step.fail_value)}"
        return None, ToolError(message, code="tool_error",
                               hint="the subagent could not do it; handle the failure").to_dict()
    message = step.error.message if step.error is not None else "error"
    hint = step.error.hint if step.error is not None else None
    return None, ToolError(f"subagent {name} stopped: {message}", code="tool_error",
                           hint=hint).to_dict()


def pr_str_host(value: Any) -> str:
    from ptclisp import from_python

    try:
        return pr_str(from_python(value))
    except TypeError:
        return repr(value)


def _host(value: Any) -> Any:
    """A ptclisp value as host data; values the host cannot hold (functions) as their text."""
    try:
        return to_python(value)
    except TypeError:
        return pr_str(value)


def _data(value: Any) -> Any:
    try:
        return to_python(value)
    except TypeError as exc:
        raise SignatureMismatch(f"the return value cannot leave the program: {exc}",
                                code="invalid_return",
                                hint="return data (maps, vectors, strings, numbers), not functions"
                                ) from None


def _describe_tool(tool: Tool) -> str:
    kind = " [async: returns a handle, (await h) for the result]" if tool.is_async else ""
    text = f"tool/{tool.name} {tool.signature_text}{kind}"
    return f"{text} — {tool.description}" if tool.description else text


def _cancelled() -> SubAgentError:
    return SubAgentError("the run was cancelled", code="cancelled",
                         hint="the host cancelled the run (CancelToken or a cancelled arun)")


def _max_turns(state: RunState) -> SubAgentError:
    return SubAgentError(
        f"no (return ...) after {len(state.turns)} turns",
        code="max_turns",
        hint="raise max_turns, or make the task smaller",
    )
