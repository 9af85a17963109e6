"""Memos keyed by an object's identity: for objects whose hash is costly (a ``Signature`` hashes
recursively) or that hash by structure when identity is what matters (an AST node). Each entry
holds its object, so the id cannot be reused by another object while the entry lives."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["by_identity"]

K = TypeVar("K")
V = TypeVar("V")


def by_identity(cache: dict[int, tuple[K, V]], obj: K, build: Callable[[K], V],
                size: int) -> V:
    """``build(obj)``, memoized in ``cache`` by ``id(obj)``; the cache is emptied when it holds
    ``size`` entries (bounded, with no bookkeeping on a hit)."""
    hit = cache.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    value = build(obj)
    if len(cache) >= size:
        cache.clear()
    cache[id(obj)] = (obj, value)
    return value
