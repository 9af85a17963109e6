"""What an LLM client is: the ``LLM`` protocol, its response, token usage, retry and rate limits.

Every client — OpenAI-compatible, Anthropic, scripted — takes OpenAI-format messages
(``[{"role": "system"|"user"|"assistant", "content": str}]``) and returns an ``LLMResponse``.
``on_token`` receives text fragments as they stream in (clients that do not stream call it once
with the whole reply).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "LLM",
    "LLMResponse",
    "Message",
    "RateLimiter",
    "RetryPolicy",
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


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """Retries for transient failures: connection errors, timeouts, 408/429/5xx/529.

    The delay before retry ``n`` (0-based) is ``min(max_delay_s, base_delay_s * 2**n)`` scaled by
    a random factor in ``[1 - jitter, 1]`` ("equal jitter" keeps a floor so retries do not
    stampede); a server's ``Retry-After`` (seconds) takes precedence, capped at ``max_delay_s``.
    """

    max_retries: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    jitter: float = 0.5
    retry_statuses: frozenset[int] = frozenset({408, 409, 429, 500, 502, 503, 504, 529})

    def delay(self, attempt: int, retry_after: str | None = None,
              rng: random.Random | None = None) -> float:
        if retry_after is not None:
            try:
                return max(0.0, min(self.max_delay_s, float(retry_after)))
            except ValueError:
                pass  # an HTTP date: fall back to our own backoff
        backoff = min(self.max_delay_s, self.base_delay_s * 2**attempt)
        factor = 1.0 - self.jitter * (rng or random).random()
        return backoff * factor


class RateLimiter:
    """A token bucket shared by every call through one client (threads and tasks alike).

    ``requests_per_minute`` sets the refill rate; ``burst`` how many may go at once. ``clock`` and
    ``sleep`` are injectable so the bucket can be tested without waiting.
    """

    def __init__(
        self,
        requests_per_minute: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if requests_per_minute <= 0 or burst < 1:
            raise ValueError("requests_per_minute must be > 0 and burst >= 1")
        self.rate = requests_per_minute / 60.0
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def _reserve(self) -> float:
        """Take a token; returns how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        """Block until a request may go; returns the seconds waited."""
        wait = self._reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    async def aacquire(self) -> float:
        wait = self._reserve()
        if wait > 0:
            await asyncio.sleep(wait)
        return wait


def estimate_tokens(text: str) -> int:
    """A rough count (4 characters a token) for clients that report none."""
    return max(1, (len(text) + 3) // 4) if text else 0
