"""What an agent run gives back: ``Step``, made of ``Turn``s with their ``ToolCallRecord``s.

All plain data (pydantic models of JSON-like values): a ``Step`` can be logged, stored, sent over
the wire (``model_dump(mode="json")``) and rebuilt (``Step.model_validate``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from ptclisp import PtclispError, error_from_dict

from ._llm import Usage, add_costs

__all__ = ["ErrorField", "Step", "StepStatus", "TokenUsage", "ToolCallRecord", "Turn",
           "TurnStatus"]


def _to_error(value: Any) -> Any:
    if value is None or isinstance(value, PtclispError):
        return value
    if isinstance(value, dict):
        return error_from_dict(value)
    raise ValueError(f"expected a PtclispError or its to_dict(), got {type(value).__name__}")


ErrorField = Annotated[
    PtclispError,
    BeforeValidator(_to_error),
    PlainSerializer(lambda e: e.to_dict(), return_type=dict[str, Any]),
]
"""A ``PtclispError`` in a model: the same type as ``ptclisp.Result.error``; dumps as its
``to_dict()`` and is rebuilt from one (``model_validate``)."""

StepStatus = Literal["ok", "failed", "error"]
TurnStatus = Literal["continue", "returned", "failed", "error", "invalid_return", "no_program",
                     "pending"]


class TokenUsage(BaseModel):
    """Token counts summed over LLM calls."""

    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    estimated: bool = False
    """Some counts were approximated (a client that reports none, e.g. the scripted LLM)."""
    cache_read_tokens: int = 0
    """Input tokens read from the provider's prompt cache (part of ``input_tokens``)."""
    cache_write_tokens: int = 0
    """Input tokens written to the prompt cache (part of ``input_tokens``)."""
    cost_usd: float | None = None
    """Dollars by the price table (``subagent.PRICES``); ``None`` when no model had a price."""

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def add(self, usage: Usage | TokenUsage) -> None:
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.requests += usage.requests
        self.estimated = self.estimated or usage.estimated
        self.cache_read_tokens += usage.cache_read_tokens
        self.cache_write_tokens += usage.cache_write_tokens
        self.cost_usd = add_costs(self.cost_usd, usage.cost_usd)


class ToolCallRecord(BaseModel):
    """One tool call a turn's program made."""

    name: str
    args: dict[str, Any]
    result: Any = None
    error: dict[str, Any] | None = None
    """``{"code", "message", "hint", ...}`` when the tool failed."""
    duration_s: float = 0.0
    op_id: str | None = None
    """Set for an async tool: the operation it started."""


class Turn(BaseModel):
    """One LLM reply and what running its program did."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    number: int
    """1-based."""
    reply: str
    """The LLM's full reply."""
    program: str | None = None
    """The program extracted from the reply (``None``: the reply had none)."""
    status: TurnStatus
    result: Any = None
    """The value of the program (host data) when it neither returned nor failed."""
    error: ErrorField | None = None
    """The error fed back to the LLM (a ``PtclispError``: ``code``, ``message``, ``hint``,
    ``line``, ``column``)."""
    feedback: str | None = None
    """The message sent back to the LLM after this turn."""
    output: str = ""
    """What the program printed."""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    steps: int = 0
    llm_duration_s: float = 0.0
    run_duration_s: float = 0.0


class Step(BaseModel):
    """The outcome of ``SubAgent.run``.

    ``status`` is ``"ok"`` (the program returned ``return_value``, validated against the
    signature), ``"failed"`` (the program called ``(fail v)``: ``fail_value``) or ``"error"``
    (``error`` says why: ``max_turns``, ``invalid_return`` retries spent, an LLM failure, ...).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    agent: str
    status: StepStatus
    return_value: Any = None
    fail_value: Any = None
    error: ErrorField | None = None
    """Why the run stopped when ``status == "error"``: a ``PtclispError`` (its subclass follows
    the code: ``LLMError``, ``SubAgentError``, ...), like ``ptclisp.Result.error``."""
    turns: list[Turn] = Field(default_factory=list)
    messages: list[dict[str, Any]] = Field(default_factory=list)
    """The conversation in OpenAI chat format (system, user, assistant, ...)."""
    usage: TokenUsage = Field(default_factory=TokenUsage)
    duration_s: float = 0.0
    llm_duration_s: float = 0.0
    run_duration_s: float = 0.0
    """Time in the interpreter (tool time included)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def tool_calls(self) -> list[ToolCallRecord]:
        """Every tool call of every turn, in order."""
        return [call for turn in self.turns for call in turn.tool_calls]

    @property
    def value(self) -> Any:
        """``return_value`` when ok, ``fail_value`` when failed, else ``None``."""
        return self.return_value if self.status == "ok" else self.fail_value
