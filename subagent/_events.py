"""The event stream of a run: ``async for event in agent.iter(llm=..., context=...)``.

Events, in order: ``TurnStart`` → ``Token``* → ``ToolStart``/``ToolEnd``* → ``TurnEnd``, turn
after turn, then exactly one ``Done`` (a ``Step``) or ``Pending`` (a ``PendingStep``). Each has a
``kind`` string for ``match``/logging: ``turn_start``, ``token``, ``tool_start``, ``tool_end``,
``turn_end``, ``done``, ``pending``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from ._ptc import PendingStep
from ._step import Step, ToolCallRecord, Turn

__all__ = ["Done", "Event", "Pending", "Token", "ToolEnd", "ToolStart", "TurnEnd", "TurnStart"]


@dataclasses.dataclass(frozen=True)
class TurnStart:
    kind: ClassVar[str] = "turn_start"
    number: int
    """1-based turn number (subagents' turns appear too: see ``agent``)."""
    agent: str


@dataclasses.dataclass(frozen=True)
class Token:
    kind: ClassVar[str] = "token"
    text: str


@dataclasses.dataclass(frozen=True)
class ToolStart:
    kind: ClassVar[str] = "tool_start"
    name: str
    args: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class ToolEnd:
    kind: ClassVar[str] = "tool_end"
    call: ToolCallRecord


@dataclasses.dataclass(frozen=True)
class TurnEnd:
    kind: ClassVar[str] = "turn_end"
    turn: Turn


@dataclasses.dataclass(frozen=True)
class Done:
    kind: ClassVar[str] = "done"
    step: Step


@dataclasses.dataclass(frozen=True)
class Pending:
    kind: ClassVar[str] = "pending"
    pending: PendingStep


Event = TurnStart | Token | ToolStart | ToolEnd | TurnEnd | Done | Pending
