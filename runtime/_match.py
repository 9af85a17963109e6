"""Message-shape patterns for selective receive.

A pattern is one of:

* ``ANY`` — matches every message;
* a class — ``isinstance(message, cls)``;
* a tuple — the message is a tuple of the same length whose items match item by item;
* a dict — the message is a mapping holding each key with a matching value (extra keys allowed);
* any other callable — a predicate, ``pattern(message)`` is truthy;
* anything else — ``message == pattern``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ANY", "matches"]


class _Any:
    __slots__ = ()

    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()
"""Wildcard pattern: matches any message (or any item inside a tuple/dict pattern)."""


def matches(pattern: Any, message: Any) -> bool:
    """Whether ``message`` has the shape ``pattern`` describes."""
    if pattern is ANY:
        return True
    if isinstance(pattern, type):
        return isinstance(message, pattern)
    if isinstance(pattern, tuple):
        return (
            isinstance(message, tuple)
            and len(message) == len(pattern)
            and all(matches(p, m) for p, m in zip(pattern, message))
        )
    if isinstance(pattern, dict):
        return isinstance(message, Mapping) and all(
            key in message and matches(p, message[key]) for key, p in pattern.items()
        )
    if callable(pattern):
        return bool(pattern(message))
    return bool(pattern == message)


def matches_any(patterns: tuple[Any, ...], message: Any) -> bool:
    """Whether ``message`` matches at least one of ``patterns``."""
    for pattern in patterns:  # noqa: SIM110 - hot path: a loop beats any() over a generator
        if matches(pattern, message):
            return True
    return False
