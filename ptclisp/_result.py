"""What a run gives back: ``Result`` and the ``ToolCall`` records inside it."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from ._errors import PtclispError, error_from_dict
from ._values import codec as _codec

__all__ = ["Result", "Status", "ToolCall"]

Status = Literal["ok", "failed", "error"]


@dataclasses.dataclass
class ToolCall:
    """One tool call a program made, as the host saw it."""

    name: str
    args: dict[str, Any]
    """Arguments as host data (string keys, JSON-like values)."""
    result: Any = None
    """The tool's return value as host data (None when it raised)."""
    error: dict[str, Any] | None = None
    """``PtclispError.to_dict()`` of the failure, when the tool failed."""
    duration_s: float = 0.0
    op_id: str | None = None
    """For an async tool: the id of the operation it started."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToolCall:
        return cls(**data)


@dataclasses.dataclass
class Result:
    """The outcome of one run.

    ``status`` is ``"ok"`` (the last form's value or ``(return v)``), ``"failed"`` (the program
    called ``(fail v)``: ``value`` is the failure value) or ``"error"`` (``error`` says why).
    """

    status: Status
    value: Any = None
    returned: bool = False
    """True when the program ended with ``(return v)`` rather than by reaching its last form."""
    output: str = ""
    tool_calls: list[ToolCall] = dataclasses.field(default_factory=list)
    steps: int = 0
    memory: int = 0
    """Estimated bytes of values the program created."""
    duration_s: float = 0.0
    error: PtclispError | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON- and msgpack-safe); values keep their ptclisp types."""
        return {
            "status": self.status,
            "value": _codec.encode(self.value),
            "returned": self.returned,
            "output": self.output,
            "tool_calls": [c.to_dict() for c in self.tool_calls],
            "steps": self.steps,
            "memory": self.memory,
            "duration_s": self.duration_s,
            "error": self.error.to_dict() if self.error is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        error = data.get("error")
        return cls(
            status=data["status"],
            value=_codec.decode(data.get("value")),
            returned=bool(data.get("returned", False)),
            output=data.get("output", ""),
            tool_calls=[ToolCall.from_dict(c) for c in data.get("tool_calls", [])],
            steps=data.get("steps", 0),
            memory=data.get("memory", 0),
            duration_s=data.get("duration_s", 0.0),
            error=error_from_dict(error) if error is not None else None,
        )
