"""Small runtime helpers shared by compiled code: sequence walking and destructuring.

These implement Clojure's behaviour for the places the evaluator itself walks values: ``for`` and
``doseq`` iterate a map as ``[k v]`` entries and a string as characters, and destructuring uses
``nth`` that gives nil past the end and ``get`` that gives nil for a missing key.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from .._errors import EvalError
from .._values.types import Char, LazySeq, List, Map, Vector

__all__ = [
    "MISSING", "RECUR", "as_map", "get_key", "is_missing", "iter_seq", "nth_or_nil", "nthnext",
]

MISSING: Any = object()


class _Recur:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<recur>"


RECUR: Any = _Recur()
"""What ``recur`` returns: the enclosing ``loop``/``fn`` runs its body again."""


def iter_seq(coll: Any) -> Iterable[Any]:
    """Iterate ``coll`` as Clojure's ``seq`` would: nil is empty, maps give [k v] entries."""
    if isinstance(coll, (tuple, LazySeq, frozenset, range)):
        return coll
    if coll is None:
        return ()
    if isinstance(coll, dict):
        return (Vector(kv) for kv in coll.items())
    if isinstance(coll, str):
        return map(Char, coll)
    raise EvalError(
        f"don't know how to create a sequence from {type_name(coll)}",
        code="type_error",
        hint="iterate over a vector, list, map, set, string or nil",
    )


def type_name(value: Any) -> str:
    """The name an error message uses for a value's type."""
    if value is None:
        return "nil"
    names = {bool: "boolean", int: "integer", float: "float", str: "string", Char: "character"}
    name = names.get(type(value))
    if name:
        return name
    if isinstance(value, dict):
        return "map"
    if isinstance(value, Vector):
        return "vector"
    if isinstance(value, (List, LazySeq)):
        return "list"
    if isinstance(value, frozenset):
        return "set"
    if callable(value):
        return "function"
    return type(value).__name__.lower()


def nth_or_nil(coll: Any, index: int) -> Any:
    """Positional destructuring: element ``index`` or nil past the end."""
    if isinstance(coll, tuple):
        return coll[index] if index < len(coll) else None
    if coll is None:
        return None
    if isinstance(coll, str):
        return Char(coll[index]) if index < len(coll) else None
    if isinstance(coll, LazySeq):
        return next(islice(iter(coll), index, None), None)
    raise EvalError(
        f"cannot destructure {type_name(coll)} as a vector",
        code="type_error",
        hint="vector patterns [a b] need a vector, list or string; use {:keys [...]} for maps",
    )


def nthnext(coll: Any, index: int) -> Any:
    """``& rest`` destructuring: the elements after ``index``, nil when there are none."""
    if coll is None:
        return None
    if isinstance(coll, LazySeq):
        it: Iterator[Any] = iter(coll)
        for _ in range(index):
            if next(it, MISSING) is MISSING:
                return None
        rest = LazySeq(it)
        return rest if rest else None
    if isinstance(coll, str):
        coll = tuple(map(Char, coll))
    if not isinstance(coll, tuple):
        nth_or_nil(coll, 0)  # raises the type error
    return List(coll[index:]) if index < len(coll) else None


def as_map(value: Any) -> Any:
    """Map destructuring of a sequence of key/value pairs (``& {:keys [...]}``) builds a map."""
    if isinstance(value, (tuple, LazySeq)) and not isinstance(value, dict):
        items = list(value)
        if len(items) == 1 and isinstance(items[0], dict):
            return items[0]
        return Map(zip(items[::2], items[1::2]))
    return value


def get_key(coll: Any, key: Any) -> Any:
    """Map destructuring lookup: the value or ``MISSING``."""
    if isinstance(coll, dict):
        return coll.get(key, MISSING)
    if isinstance(coll, frozenset):
        return key if key in coll else MISSING
    return MISSING


def is_missing(value: Any) -> bool:
    return value is MISSING


def missing_to_nil(value: Any) -> Any:
    return None if value is MISSING else value
