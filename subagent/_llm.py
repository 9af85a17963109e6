"""What an LLM client is: the ``LLM`` protocol, its response, token usage, retry and rate limits.

Every client — OpenAI-compatible, Anthropic, scripted — takes OpenAI-format messages
(``[{"role": "system"|"user"|"assistant", "content": str}]``) and returns an ``LLMResponse``.
``on_token`` receives text fragments as they stream in (clients that do not stream call it once
with the whole reply).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "LLM",
    "LLMResponse",
    "Message",
    "TokenCallback",
    "Usage",
]

Message = dict[str, Any]
TokenCallback = Callable[[str], None]


@dataclasses.dataclass
class Usage:
    """Token counts of one or more calls. ``estimated`` is true when they were approximated
    (4 characters a token).

    ``input_tokens`` counts every input token, cached ones included; ``cache_read_tokens`` of them
    were read from the provider's prompt cache and ``cache_write_tokens`` written to it.
    ``cost_usd`` is what the calls cost by the price table (``subagent.PRICES``); ``None`` when no
    call's model had a price.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    estimated: bool = False
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.requests += other.requests
        self.estimated = self.estimated or other.estimated
        self.cache_read_tokens += getattr(other, "cache_read_tokens", 0)
        self.cache_write_tokens += getattr(other, "cache_write_tokens", 0)
        self.cost_usd = add_costs(self.cost_usd, getattr(other, "cost_usd", None))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def add_costs(a: float | None, b: float | None) -> float | None:
    """Sum of two costs where ``None`` means unknown (a sum is known if either part is)."""
    if a is None:
        return b
    return a if b is None else a + b


@dataclasses.dataclass
class LLMResponse:
    """One completion."""

    content: str
    usage: Usage = dataclasses.field(default_factory=Usage)
    model: str | None = None
    finish_reason: str | None = None
    duration_s: float = 0.0
    attempts: int = 1
    """HTTP attempts it took (1 without retries)."""


@runtime_checkable
class LLM(Protocol):
    """Anything that turns messages into a reply. ``name`` labels telemetry."""

    name: str

    def complete(self, messages: list[Message], *, on_token: TokenCallback | None = None
                 ) -> LLMResponse: ...

    async def acomplete(self, messages: list[Message], *,
                        on_token: TokenCallback | None = None) -> LLMResponse: ...


def estimate_tokens(text: str) -> int:
    """A rough count (4 characters a token) for clients that report none."""
    return max(1, (len(text) + 3) // 4) if text else 0
