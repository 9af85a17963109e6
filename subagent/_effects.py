"""Effects: every LLM reply and every tool call of a hosted run, checkpointed one by one.

An ``AgentHost`` drives a run with an ``EffectLog``. Each effect — an LLM completion or a tool
execution (a nested subagent's too) — takes the run's next index. Before executing, the log looks
the index up in the store: a recorded effect is answered from the store and not executed again.
After executing, the result is written to the store *before the program goes on*, so a crash can
lose at most the call in flight. That call runs again on recovery with the same index, hence the
same idempotency key (``idempotency_key()`` inside the tool): ``"<run_id>:<index>"``.
"""

from __future__ import annotations

import contextvars
import dataclasses
import inspect
import json
from collections.abc import Callable
from typing import Any

from ptclisp import PtclispError, ToolError, error_from_dict

from ._errors import SubAgentError
from ._llm import LLMResponse, Usage

__all__ = ["CallContext", "EffectLog", "current_call", "idempotency_key"]


@dataclasses.dataclass(frozen=True)
class CallContext:
    """The tool call running on this thread under an ``AgentHost``."""

    run_id: str
    index: int

    @property
    def idempotency_key(self) -> str:
        return f"{self.run_id}:{self.index}"


_CURRENT: contextvars.ContextVar[CallContext | None] = contextvars.ContextVar(
    "ptclisp_host_call", default=None)


def current_call() -> CallContext | None:
    """The hosted tool call running now (``None`` outside an ``AgentHost`` run)."""
    return _CURRENT.get()


def idempotency_key() -> str | None:
    """``"<run_id>:<call index>"`` of the hosted tool call running now: equal on every retry of
    this call (a call in flight at a crash runs again with the same key), different for every
    other call. ``None`` outside an ``AgentHost`` run."""
    ctx = _CURRENT.get()
    return None if ctx is None else ctx.idempotency_key


class EffectLog:
    """Answers recorded effects from the store and records new ones (see the module doc)."""

    def __init__(self, store: Any, run_id: str, base: int) -> None:
        self.store = store
        self.run_id = run_id
        self.next_index = base
        self.recorded = store.effects(run_id, base)
        self.executed: list[int] = []

    def _take(self, kind: str, name: str, args: Any) -> tuple[int, Any]:
        index = self.next_index
        self.next_index += 1
        found = self.recorded.get(index)
        if found is None:
            return index, None
        if (found[0], found[1]) != (kind, name) or _canon(found[2]) != _canon(args):
            raise SubAgentError(
                f"run {self.run_id}: effect {index} was {found[0]} {found[1]} when recorded, "
                f"now {kind} {name}", code="replay_diverged",
                hint="the run did not retrace its recorded effects (nondeterministic code?)")
        return index, found

    # ------------------------------------------------------------ LLM

    def llm(self, name: str, complete: Callable[[], LLMResponse]) -> LLMResponse:
        index, found = self._take("llm", name, None)
        if found is None:
            reply = complete()
            data = {"content": reply.content, "usage": reply.usage.to_dict(),
                    "model": reply.model, "finish_reason": reply.finish_reason,
                    "duration_s": reply.duration_s, "attempts": reply.attempts}
            data = self.store.record_effect(self.run_id, index, "llm", name, None, data)
            self.executed.append(index)
        else:
            data = found[3]
        return LLMResponse(data["content"], Usage.from_dict(data["usage"]), data["model"],
                           data["finish_reason"], data["duration_s"], data["attempts"])

    # ------------------------------------------------------------ tools

    def tool(self, tool: Any, args: dict[str, Any], invoke: Callable[[], Any]) -> Any:
        index, found = self._take("tool", tool.name, args)
        if found is not None:
            return _replayed(found[3])
        token = _CURRENT.set(CallContext(self.run_id, index))
        try:
            result = invoke()
        except Exception as exc:
            error = exc.to_dict() if isinstance(exc, PtclispError) else ToolError(
                f"tool {tool.name} failed: {type(exc).__name__}: {exc}").to_dict()
            self._record(index, tool.name, args, {"error": error})
            raise
        finally:
            _CURRENT.reset(token)
        if inspect.isawaitable(result):
            return self._record_later(index, tool, args, result)
        return self._finish(index, tool, args, result)

    async def _record_later(self, index: int, tool: Any, args: dict[str, Any],
                            awaitable: Any) -> Any:
        try:
            result = await awaitable
        except Exception as exc:
            self._record(index, tool.name, args, {"error": ToolError(
                f"tool {tool.name} failed: {type(exc).__name__}: {exc}").to_dict()})
            raise
        return self._finish(index, tool, args, result)

    def _finish(self, index: int, tool: Any, args: dict[str, Any], result: Any) -> Any:
        if tool.is_async and result is None:  # a deterministic op id: equal on every replay
            result = f"{tool.name}-{self.run_id[:12]}-{index}"
        stored = self._record(index, tool.name, args, {"value": _jsonable(tool.name, result)})
        return _replayed(stored)

    def _record(self, index: int, name: str, args: Any, data: dict[str, Any]) -> Any:
        self.executed.append(index)
        return self.store.record_effect(self.run_id, index, "tool", name, args, data)


def _replayed(data: dict[str, Any]) -> Any:
    if data.get("error") is not None:
        raise error_from_dict(data["error"])
    return data.get("value")


def _jsonable(name: str, value: Any) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise ToolError(f"tool {name} returned data the host cannot checkpoint: {exc}",
                        code="effect_unserializable",
                        hint="hosted tools must return JSON data") from None


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr, separators=(",", ":"))
