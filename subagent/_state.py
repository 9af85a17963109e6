"""The state of one agent run, as plain data: it lives in ``PendingStep.host_state`` while a run is
suspended, so a run can stop in one process and go on in another.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from ptclisp.host import decode_value, encode_value

from ._step import Step, TokenUsage, Turn

__all__ = ["STATE_KEY", "RunState"]

STATE_KEY = "subagent"
_VERSION = 1


@dataclasses.dataclass
class RunState:
    agent: str
    depth: int
    context: dict[str, Any]
    """The run's inputs (host data): ``data/name`` and ``{{name}}`` placeholders."""
    budget: int
    """Turns allowed so far (``max_turns`` plus one per signature retry granted)."""
    messages: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    turns: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    usage: dict[str, Any] = dataclasses.field(default_factory=lambda: TokenUsage().model_dump())
    definitions: list[str] = dataclasses.field(default_factory=list)
    """Top-level ``def``/``defn`` forms of earlier turns, in order (the prelude)."""
    prelude_calls: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    """The tool calls the prelude makes, with their recorded results (replayed, never re-run)."""
    history: list[Any] = dataclasses.field(default_factory=list)
    """``_codec``-encoded results of the last three turns, newest first (``*1 *2 *3``)."""
    invalid_returns: int = 0
    llm_s: float = 0.0
    run_s: float = 0.0
    elapsed_s: float = 0.0
    open_turn: dict[str, Any] | None = None
    """The turn whose program is suspended (reply, program, usage, durations)."""
    children: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    """Suspended subagents: our op id → ``{"tool", "pending"}`` (the child's step as a dict)."""
    finished_children: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    """Subagents that finished inside an async tool call: our op id → ``{"value"}|{"error"}``."""

    def to_host_state(self, system_prompt: str | None = None) -> dict[str, Any]:
        """The state as plain data. The system prompt (~20 KB, the same for every run of the
        agent) is stored as its SHA-256 when it is ``system_prompt``, the one the agent builds
        (``restore_system_prompt`` puts it back): a nested subagent level then adds its turns
        and journal, not another copy of the prompt."""
        body = dataclasses.asdict(self)
        messages = body["messages"]
        if system_prompt is not None and messages and \
                messages[0] == {"role": "system", "content": system_prompt}:
            body["messages"] = [{"role": "system", "content_sha256": _sha256(system_prompt)},
                                *messages[1:]]
        return {STATE_KEY: {"version": _VERSION, **body}}

    def snapshot(self) -> dict[str, Any]:
        """``to_host_state`` without the deep copy, for a checkpoint after every turn: the lists
        and maps that change later are copied; the entries in them (recorded messages and turns)
        are never changed once recorded. ``from_host_state(snapshot())`` is a working copy."""
        body = {"version": _VERSION, **self.__dict__}  # the fields, in order
        for name in ("messages", "turns", "definitions", "prelude_calls", "history"):
            body[name] = list(body[name])
        for name in ("finished_children", "usage", "context"):
            body[name] = dict(body[name])
        body["children"] = {op: dict(info) for op, info in self.children.items()}
        if self.open_turn is not None:  # a suspended turn's record is completed on resume
            body["open_turn"] = dict(self.open_turn)
        return {STATE_KEY: body}

    def restore_system_prompt(self, system_prompt: str) -> None:
        """Put back a system prompt stored by its hash; the agent must build the same one."""
        from ._errors import SubAgentError

        first = self.messages[0] if self.messages else {}
        if "content_sha256" not in first:
            return
        if first["content_sha256"] != _sha256(system_prompt):
            raise SubAgentError(
                f"agent {self.agent}'s system prompt changed since this step was saved",
                code="pending_error",
                hint="resume with the agent definition (tools, signature, instructions) that "
                "made the step")
        self.messages[0] = {"role": "system", "content": system_prompt}

    @classmethod
    def from_host_state(cls, host_state: dict[str, Any]) -> RunState:
        from ._errors import SubAgentError

        body = dict(host_state.get(STATE_KEY) or {})
        if body.pop("version", None) != _VERSION:
            raise SubAgentError("this pending step was not made by a subagent run (or by another "
                                "version of it)", code="pending_error")
        return cls(**body)

    # ------------------------------------------------------------ accessors

    def token_usage(self) -> TokenUsage:
        return TokenUsage.model_validate(self.usage)

    def add_usage(self, usage: Any) -> None:
        total = self.token_usage()
        total.add(usage)
        self.usage = total.model_dump()

    def remember(self, value: Any) -> None:
        from ptclisp import from_python

        try:
            from_python(value)  # history travels as data/__history_N: it must be data
            encoded = encode_value(value)
        except TypeError:  # e.g. an op handle nobody awaited: keep its printed form
            from ptclisp import pr_str

            encoded = pr_str(value)
        self.history = [encoded, *self.history][:3]

    def history_values(self) -> list[Any]:
        return [decode_value(v) for v in self.history]

    def step(self, status: str, *, return_value: Any = None, fail_value: Any = None,
             error: Any = None) -> Step:
        return Step(
            agent=self.agent,
            status=status,
            return_value=return_value,
            fail_value=fail_value,
            error=error,
            turns=[Turn.model_validate(t) for t in self.turns],
            messages=list(self.messages),
            usage=self.token_usage(),
            duration_s=self.elapsed_s,
            llm_duration_s=self.llm_s,
            run_duration_s=self.run_s,
        )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
