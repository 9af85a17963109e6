"""The tool gate: every tool call an agent's program makes passes through here.

For each turn the agent hands ptclisp wrapped copies of its tools. The wrapper

- answers calls of the *prelude* (the ``def`` forms of earlier turns, re-run to re-establish
  definitions) from the recorded results of those calls, so no tool runs twice;
- otherwise fires ``on_tool_start``/``on_tool_end``, opens an ``execute_tool {name}`` span, and
  calls the tool;
- runs a subagent tool with the parent's LLM, callbacks, telemetry and depth.

Arguments reach the wrapper validated against the tool's signature (ptclisp validates before
calling); the wrapper calls the original tool through its own ``validate``/``invoke``.
"""

from __future__ import annotations

import collections
import dataclasses
import inspect
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Span

from ptclisp import PtclispError, ToolError, error_from_dict, from_python

from ._ptc import Tool
from ._step import ToolCallRecord
from ._telemetry import Telemetry, mark_error, set_attributes

if TYPE_CHECKING:
    from ._effects import EffectLog

__all__ = ["Hooks", "ToolGate", "call_key"]
__all__ = ["AfterTool", "AfterTurn", "BeforeTool", "BeforeTurn", "Hooks", "Refuse", "ToolGate",
           "call_key"]


@dataclasses.dataclass(frozen=True)
class Refuse:
    """Returned by a ``before_tool`` hook: the call does not happen; the program sees a
    ``tool_error`` with ``reason`` (and ``hint``, if given)."""

    reason: str
    hint: str | None = None


BeforeTurn = Callable[[int, list[dict[str, Any]]], None]
"""``before_turn(number, messages)``: before the LLM is asked for turn ``number``; ``messages``
is the conversation about to be sent (appending a message adds it to the conversation)."""
AfterTurn = Callable[[Any], None]
"""``after_turn(turn: Turn)``: a turn ended (its program ran, or it had none)."""
BeforeTool = Callable[[str, dict[str, Any]], "dict[str, Any] | Refuse | None"]
"""``before_tool(name, args)``: before a live tool call (never for replayed ones). Return
``None`` to go ahead, a new argument dict to call with instead (validated against the tool's
signature again), or ``Refuse(reason)``."""
AfterTool = Callable[[ToolCallRecord], None]
"""``after_tool(record)``: a live tool call ended (refusals and failures included)."""


@dataclasses.dataclass
class Hooks:
    """The user's callbacks for one run (all optional)."""

    on_turn: Callable[[Any], None] | None = None
    on_llm_token: Callable[[str], None] | None = None
    on_tool_start: Callable[[str, dict[str, Any]], None] | None = None
    on_tool_end: Callable[[ToolCallRecord], None] | None = None
    on_turn_start: Callable[[int, str], None] | None = None
    """``(turn number, agent name)`` before the turn's LLM call."""
    before_turn: BeforeTurn | None = None
    after_turn: AfterTurn | None = None
    before_tool: BeforeTool | None = None
    after_tool: AfterTool | None = None
    checkpoint: Callable[[dict[str, Any]], None] | None = None
    """Receives the run's state after every turn (``SubAgent.restart`` continues from it)."""
    effects: EffectLog | None = None
    """An ``AgentHost``'s ``EffectLog``: checkpoints each tool execution (internal)."""


def call_key(name: str, args: Any) -> str:
    """A stable key for a call: tool name and canonical JSON of its arguments."""
    return name + "\x00" + json.dumps(args, sort_keys=True, default=repr, separators=(",", ":"))


class ToolGate:
    """Wraps an agent's tools for one program run."""

    def __init__(
        self,
        tools: Mapping[str, Tool],
        *,
        hooks: Hooks,
        telemetry: Telemetry,
        span: Span | None,
        replay: list[dict[str, Any]] = (),  # type: ignore[assignment]
        child_runner: Callable[[Tool, dict[str, Any]], Any] | None = None,
        allow_live: bool = True,
        converted: dict[int, tuple[dict[str, Any], Any]] | None = None,
    ) -> None:
        self.tools = tools
        self.hooks = hooks
        self.telemetry = telemetry
        self.span = span
        self.child_runner = child_runner
        self._replay: dict[str, collections.deque[dict[str, Any]]] = collections.defaultdict(
            collections.deque
        )
        for entry in replay:
            self._replay[call_key(entry["tool"], self._snake(entry))].append(entry)
        self.allow_live = allow_live
        self._converted = converted if converted is not None else {}
        """Replayed results already converted to ptclisp values, by entry id: a value a later
        turn replays again is converted once (the host passes ptclisp values through)."""
        self._local = threading.local()
        self.consumed: list[dict[str, Any]] = []
        """Replay entries used, in call order."""
        self.live_calls: list[dict[str, Any]] = []
        """Calls executed for real in this run: ``{"tool", "args", "result", "error"}``."""

    def _snake(self, entry: dict[str, Any]) -> Any:
        """A journal entry's arguments as the wrapper receives them: ptclisp records the
        program's keys (``customer-id``), the wrapper gets the tool's (``customer_id``)."""
        tool, args = self.tools.get(entry["tool"]), entry["args"]
        if tool is None or not isinstance(args, dict):
            return args
        return tool.snake_keys(args)

    def replayed_now(self) -> bool:
        """Whether this thread's latest call was answered from the replay."""
        return bool(getattr(self._local, "replayed", False))

    def wrapped(self) -> dict[str, Tool]:
        return {name: self._wrap(tool) for name, tool in self.tools.items()}

    def _wrap(self, tool: Tool) -> Tool:
        def gate(**args: Any) -> Any:
            return self._call(tool, args)

        gate.__doc__ = tool.description
        wrapped = _GatedTool(tool.name, gate, description=tool.description or tool.name,
                             signature=tool.signature_text, is_async=tool.is_async,
                             result=tool.result)
        wrapped.gate = self
        wrapped.original = tool
        return wrapped

    def _call(self, tool: Tool, args: dict[str, Any]) -> Any:
        queue = self._replay.get(call_key(tool.name, args))
        self._local.replayed = bool(queue)
        if queue:
            entry = queue.popleft()
            self.consumed.append(entry)
            if entry.get("error"):
                raise error_from_dict(entry["error"])
            cached = self._converted.get(id(entry))
            if cached is None or cached[0] is not entry:  # holding the entry pins its id
                cached = self._converted[id(entry)] = (entry, from_python(entry.get("result")))
            return cached[1]
        if not self.allow_live:
            raise ToolError(f"tool/{tool.name} was not called with these arguments before",
                            code="replay_diverged")
        return self._live(tool, args)

    def _live(self, tool: Tool, args: dict[str, Any]) -> Any:
        if self.hooks.on_tool_start is not None:
            self.hooks.on_tool_start(tool.name, args)
        span = self.telemetry.tool_span(tool, self.span)
        started = time.perf_counter()
        try:
            from opentelemetry import trace

            args = self._before(tool, args)
            with trace.use_span(span, end_on_exit=False):
                if self.child_runner is not None and getattr(tool, "subagent", None) is not None:
                    result = self.child_runner(tool, args)
                elif self.hooks.effects is not None:
                    result = self.hooks.effects.tool(
                        tool, args, lambda: tool.invoke(tool.validate(args)))
                else:
                    result = tool.invoke(tool.validate(args))
        except BaseException as exc:
            self._finish(span, tool, args, started, None, exc)
            raise
        if inspect.isawaitable(result):
            return self._finish_later(span, tool, args, started, result)
        self._finish(span, tool, args, started, result, None)
        return result

    def _before(self, tool: Tool, args: dict[str, Any]) -> dict[str, Any]:
        """The ``before_tool`` hook's decision: the arguments to call with, or a refusal."""
        if self.hooks.before_tool is None:
            return args
        decision = self.hooks.before_tool(tool.name, dict(args))
        if decision is None:
            return args
        if isinstance(decision, Refuse):
            raise ToolError(f"tool/{tool.name} was refused: {decision.reason}",
                            code="tool_error", hint=decision.hint or "do without this call")
        if not isinstance(decision, dict):
            raise ToolError(f"the before_tool hook returned {type(decision).__name__} for "
                            f"tool/{tool.name}", hint="a host-side bug: return None, a dict of "
                            "arguments or Refuse(reason)")
        try:
            return tool.validate(decision)
        except PtclispError as exc:
            raise ToolError(f"tool/{tool.name}: the arguments before_tool substituted do not "
                            f"match: {exc.message}", code="invalid_args",
                            hint=f"tool/{tool.name} takes {tool.signature_text}") from None

    async def _finish_later(self, span: Span, tool: Tool, args: dict[str, Any], started: float,
                            awaitable: Any) -> Any:
        try:
            result = await awaitable
        except BaseException as exc:
            self._finish(span, tool, args, started, None, exc)
            raise
        self._finish(span, tool, args, started, result, None)
        return result

    def _finish(self, span: Span, tool: Tool, args: dict[str, Any], started: float,
                result: Any, exc: BaseException | None) -> None:
        duration = time.perf_counter() - started
        error = _error_dict(tool.name, exc) if exc is not None else None
        op_id = result if tool.is_async and isinstance(result, str) else None
        set_attributes(span, gen_ai__tool__call__id=op_id)
        if error is not None:
            mark_error(span, error["code"], error["message"])
        span.end()
        self.live_calls.append({"tool": tool.name, "args": args, "result": result,
                                "error": error})
        if self.hooks.on_tool_end is None and self.hooks.after_tool is None:
            return
        record = ToolCallRecord(
            name=tool.name, args=args, result=result if error is None else None,
            error=error, duration_s=duration, op_id=op_id)
        for hook in (self.hooks.on_tool_end, self.hooks.after_tool):
            if hook is not None:
                hook(record)


class _GatedTool(Tool):
    """A wrapped tool. A replayed call of an async tool answers with the op's recorded *result*,
    so the tool is synchronous for that call (``await`` passes a plain value through)."""

    gate: ToolGate | None = None
    original: Tool | None = None
    """The agent's tool: its parameters decide the kebab→snake mapping of argument keys (the
    wrapper's own ``**args`` has none), so ``{:customer-id 7}`` validates as in ptclisp.run."""

    def validate(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.original is not None:
            return self.original.validate(args)
        return super().validate(args)

    @property
    def is_async(self) -> bool:
        return self._declared_async and not (self.gate is not None and self.gate.replayed_now())

    @is_async.setter
    def is_async(self, value: bool) -> None:
        self._declared_async = value


def _error_dict(name: str, exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, PtclispError):
        return exc.to_dict()
    return ToolError(f"tool {name} failed: {type(exc).__name__}: {exc}").to_dict()
