"""Shared internals of the core library: type names, errors, truthiness, seq coercion, charging.

Every function here is on a hot path; they dispatch on ``type(x)`` once, never per element.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn

from .._errors import EvalError
from .._limits import SLOT_BYTES, current_meter
from .._values.types import Char, Keyword, LazySeq, List, Map, Regex, Set, Symbol, Vector
from ._kernels import run_kernel

__all__ = [
    "SEQUENTIAL",
    "Reduced",
    "apply_each",
    "char",
    "charge_copy",
    "charge_items",
    "chars",
    "entries",
    "finish",
    "invalid_args",
    "is_lazy",
    "items",
    "keep_truthy",
    "kernel_for",
    "metered",
    "seq_source",
    "to_int_index",
    "truthy",
    "type_error",
    "type_name",
]

SEQUENTIAL = (Vector, List, LazySeq)

_TYPE_NAMES: dict[type, str] = {
    type(None): "nil",
    bool: "boolean",
    int: "integer",
    float: "float",
    str: "string",
    Char: "character",
    Keyword: "keyword",
    Symbol: "symbol",
    Vector: "vector",
    List: "list",
    LazySeq: "lazy seq",
    Map: "map",
    Set: "set",
    Regex: "regex",
}


def type_name(value: Any) -> str:
    """The ptclisp name of a value's type, for error messages."""
    name = _TYPE_NAMES.get(type(value))
    if name is not None:
        return name
    if isinstance(value, dict):
        return "map"
    if isinstance(value, tuple):
        return "vector"
    if isinstance(value, frozenset):
        return "set"
    return "function" if callable(value) else type(value).__name__


def type_error(message: str, hint: str | None = None) -> NoReturn:
    raise EvalError(message, code="type_error", hint=hint)


def invalid_args(message: str, hint: str | None = None) -> NoReturn:
    raise EvalError(message, code="invalid_args", hint=hint)


def truthy(x: Any) -> bool:
    return x is not None and x is not False


# ---------------------------------------------------------------- characters

_CHAR_CACHE: dict[str, Char] = {}


def char(c: str) -> Char:
    """The (cached) Char for a one-character string."""
    found = _CHAR_CACHE.get(c)
    if found is None:
        found = Char(c)
        if len(_CHAR_CACHE) < 4096:
            _CHAR_CACHE[c] = found
    return found


def chars(s: str) -> tuple[Char, ...]:
    """A string as a tuple of Chars (Clojure strings are sequences of characters)."""
    charge_items(len(s))
    return tuple(map(char, s))


# ---------------------------------------------------------------- charging


def charge_items(n: int) -> None:
    """Charge building a collection of ``n`` slots: memory and one step per slot."""
    m = current_meter()
    m.alloc_items(n)
    m.tick(1 + n)


def charge_copy(n: int) -> None:
    """Charge an update of a persistent collection of size ``n`` (assoc, conj, rest...).

    Clojure shares structure, so such an update allocates O(log n); ptclisp copies the tuple
    or dict. Memory is charged at the persistent cost (a loop that conj-es 10,000 items must
    not exhaust the budget); steps grow with the copy so the host's CPU stays bounded.
    """
    m = current_meter()
    m.alloc(64 + (n >> 3))
    m.tick(1 + (n >> 10))


def metered(source: Iterable[Any]) -> Iterator[Any]:
    """Yield from ``source`` charging a step and a slot per element (for lazy seqs)."""
    m = current_meter()
    for x in source:
        m.tick()
        m.alloc(SLOT_BYTES)
        yield x


def finish(source: Iterable[Any], lazy: bool) -> Any:
    """A LazySeq over ``source`` when the input was lazy, else a realised, charged List."""
    if lazy:
        return LazySeq(metered(source))
    return List(metered(source))


# ---------------------------------------------------------------- seq coercion


def entries(m: dict[Any, Any]) -> tuple[Vector, ...]:
    """A map's entries as ``[k v]`` vectors."""
    charge_items(3 * len(m))
    return tuple(map(Vector, m.items()))


def _not_seqable(value: Any, fname: str) -> NoReturn:
    kind = type_name(value)
    article = "an" if kind[0] in "aeiou" else "a"
    type_error(
        f"{fname}: cannot make a sequence from {article} {kind}",
        hint="pass a collection (vector, list, map, set), a string or nil",
    )


def items(coll: Any, fname: str = "seq") -> tuple[Any, ...]:
    """Any seqable as a realised tuple (strings → Chars, maps → entries, nil → empty)."""
    t = type(coll)
    if t is Vector or t is List:
        return coll
    if coll is None:
        return ()
    if t is LazySeq:
        return coll.realized()
    if t is Map:
        return entries(coll)
    if t is Set:
        return tuple(coll)
    if t is str:
        return chars(coll)
    if isinstance(coll, tuple):
        return coll
    if isinstance(coll, dict):
        return entries(coll)
    if isinstance(coll, frozenset):
        return tuple(coll)
    _not_seqable(coll, fname)


def is_lazy(coll: Any) -> bool:
    return type(coll) is LazySeq


def seq_source(coll: Any, fname: str = "seq") -> Iterable[Any]:
    """Something iterable over the elements without realising a lazy seq."""
    if type(coll) is LazySeq:
        return coll
    return items(coll, fname)


def to_int_index(value: Any, fname: str) -> int:
    """An integer argument (floats with an integral value are accepted, as Clojure does)."""
    t = type(value)
    if t is int:
        return value
    if t is float and value == value and value not in (float("inf"), float("-inf")):
        return int(value)
    type_error(f"{fname}: expected an integer, got a {type_name(value)}")


def call_pred(pred: Callable[..., Any]) -> Callable[[Any], bool]:
    """``pred`` as a Python predicate with Clojure truthiness."""

    def test(x: Any) -> bool:
        r = pred(x)
        return r is not None and r is not False

    return test


class Reduced:
    """Wraps the value ``reduced`` returns: reduce (and transducers) stop and yield it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"#reduced[{self.value!r}]"


def apply_each(f: Callable[[Any], Any], xs: tuple[Any, ...]) -> list[Any]:
    """``[f(x) for x in xs]``: keyword lookups at C speed, source fns through their kernel."""
    if type(f) is Keyword:
        return _lookup_each(f, xs)
    kernel = kernel_for(f, "each", xs)
    if kernel is not None:
        return run_kernel(kernel, xs)
    return [f(x) for x in xs]


def keep_truthy(pred: Callable[[Any], Any], xs: tuple[Any, ...], keep: bool = True) -> list[Any]:
    """The items for which ``pred`` is truthy (``keep``) or falsy (not ``keep``)."""
    if type(pred) is Keyword:
        tests = _lookup_each(pred, xs)
        if keep:
            return [x for x, r in zip(xs, tests) if r is not None and r is not False]
        return [x for x, r in zip(xs, tests) if r is None or r is False]
    kernel = kernel_for(pred, "keep", xs)
    if kernel is not None:
        return run_kernel(kernel, xs, keep)
    if keep:
        return [x for x in xs if (r := pred(x)) is not None and r is not False]
    return [x for x in xs if (r := pred(x)) is None or r is False]


def kernel_for(f: Any, kind: str, xs: tuple[Any, ...]) -> Callable[..., Any] | None:
    """The ``kind`` loop of a program's fn (see ``_compile_source``) for looping over ``xs``,
    if it has one and it pays; None: call ``f`` per item."""
    source = getattr(f, "ptclisp_kernels", None)
    return None if source is None else source.kernel(kind, len(xs))


def _lookup_each(key: Keyword, xs: tuple[Any, ...]) -> list[Any]:
    """``(key x)`` for each item; one C loop when every item is a map (the usual table)."""
    try:
        return list(map(dict.get, xs, itertools.repeat(key)))
    except TypeError:  # an item is not a map: (:k 5) is nil, (:k #{:k}) is :k
        return [x.get(key) if type(x) is Map else key(x) for x in xs]
