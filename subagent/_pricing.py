"""What LLM calls cost: a price table per model that applications extend or override.

Prices are US dollars per million tokens. ``price_for(model)`` finds the entry for a model name:
the exact name, else the longest registered prefix (``"gpt-4o-mini-2024-07-18"`` →
``"gpt-4o-mini"``). A model without an entry costs ``None`` (unknown), never a guess.

The built-in entries are list prices published by the providers when this table was written;
they change — register your own (``register_price``) for what you actually pay.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

__all__ = ["PRICES", "Price", "cost_of", "price_for", "register_price"]


@dataclasses.dataclass(frozen=True)
class Price:
    """US dollars per million tokens. Cache prices default to the input price."""

    input: float
    output: float
    cache_read: float | None = None
    """Input tokens read from the provider's prompt cache."""
    cache_write: float | None = None
    """Input tokens written to the prompt cache (Anthropic charges extra for these)."""

    def cost(self, usage: Any) -> float:
        """Dollars for ``usage`` (a ``Usage``: ``input_tokens`` include the cached ones)."""
        read = usage.cache_read_tokens
        write = usage.cache_write_tokens
        plain = max(0, usage.input_tokens - read - write)
        total = (plain * self.input + usage.output_tokens * self.output
                 + read * (self.input if self.cache_read is None else self.cache_read)
                 + write * (self.input if self.cache_write is None else self.cache_write))
        return total / 1_000_000


PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(0.15, 0.60, cache_read=0.075),
    "gpt-4o": Price(2.50, 10.00, cache_read=1.25),
    "gpt-4.1-mini": Price(0.40, 1.60, cache_read=0.10),
    "gpt-4.1": Price(2.00, 8.00, cache_read=0.50),
    "o3-mini": Price(1.10, 4.40, cache_read=0.55),
    "claude-3-5-haiku": Price(0.80, 4.00, cache_read=0.08, cache_write=1.00),
    "claude-3-5-sonnet": Price(3.00, 15.00, cache_read=0.30, cache_write=3.75),
    "claude-sonnet-4": Price(3.00, 15.00, cache_read=0.30, cache_write=3.75),
    "claude-opus-4": Price(15.00, 75.00, cache_read=1.50, cache_write=18.75),
}
"""Model name (or name prefix) → ``Price``. Edit through ``register_price`` (thread-safe)."""

_lock = threading.Lock()


def register_price(model: str, price: Price) -> None:
    """Add or replace the price of ``model`` (a full name or a prefix)."""
    if not isinstance(price, Price):
        from ptclisp import HostInputError

        raise HostInputError(f"register_price(price): expected a Price, got "
                             f"{type(price).__name__}", hint="Price(input=0.15, output=0.60)")
    with _lock:
        PRICES[model] = price


def price_for(model: str | None) -> Price | None:
    """The price of ``model``: its exact entry, else the longest matching prefix, else None."""
    if not model:
        return None
    with _lock:
        if model in PRICES:
            return PRICES[model]
        matches = [name for name in PRICES if model.startswith(name)]
        return PRICES[max(matches, key=len)] if matches else None


def cost_of(model: str | None, usage: Any) -> float | None:
    """Dollars for ``usage`` on ``model``; None when the model has no price."""
    price = price_for(model)
    return None if price is None else price.cost(usage)
