"""sort and sort-by: stable, Clojure ``compare`` order by default, any comparator fn accepted.

Homogeneous numbers/strings/keywords (the common case) sort natively, also when some keys are nil
(nil-keyed items go first, in order); anything else goes through ``compare_values`` — identical
order, just slower. Items are sorted directly, paired with their precomputed keys. A comparator
may return a number (like ``compare``) or a boolean (like ``<``), as Clojure functions used as
comparators do.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

from .._limits import current_meter
from .._values.types import Char, Keyword, List, Symbol, Vector
from ._numbers import compare, compare_values, gt, lt
from ._registry import builtin
from ._support import apply_each, charge_items, items, type_error, type_name

_NATIVE_KINDS = (frozenset({int}), frozenset({float}), frozenset({int, float}),
                 frozenset({str}), frozenset({Keyword}))
_NUMBER_KINDS = frozenset({int, float})
_NIL = type(None)
_NIL_KIND = frozenset({_NIL})
_ASC = Keyword("asc")
_DESC = Keyword("desc")


def _has_nan(keys: Sequence[Any]) -> bool:
    """Whether some key is NaN: a C-level sum first (NaN propagates through it), the exact
    check only when the sum is NaN or overflows (a NaN key, inf + -inf, a huge int)."""
    try:
        total = sum(keys)
    except OverflowError:
        total = math.nan
    return math.isnan(total) and any(k != k for k in keys)


def _sorted(xs: Sequence[Any], keys: Sequence[Any], key: Callable[[Any], Any] | None = None,
            reverse: bool = False) -> list[Any]:
    """The items of ``xs`` stably ordered by ``keys`` (the i-th key is the i-th item's; ``keys``
    is ``xs`` itself for sort), each key wrapped by ``key`` if given.

    The items are sorted directly rather than through a list of indices: ``list.sort`` computes
    its keys once per item, first to last, so handing out the precomputed keys in turn from a
    C-level ``next`` pairs every item with its own key, and no reorder pass is needed.
    """
    if keys is xs:
        return sorted(xs, key=key, reverse=reverse)
    ordered_keys = iter(keys) if key is None else map(key, keys)
    return sorted(xs, key=functools.partial(next, ordered_keys), reverse=reverse)


def _natural_order(xs: Sequence[Any], keys: Sequence[Any], descending: bool,
                   kinds: frozenset[type] | None = None) -> list[Any]:
    if kinds is None:
        kinds = frozenset(map(type, keys))
    if kinds in _NATIVE_KINDS and not (float in kinds and _has_nan(keys)):
        return _native_order(xs, keys, descending, kinds)
    if _NIL in kinds and kinds - _NIL_KIND in _NATIVE_KINDS:
        ordered = _nil_first(xs, keys, descending, kinds - _NIL_KIND)
        if ordered is not None:
            return ordered
    if kinds == {Vector} and len(set(map(len, keys))) == 1 and _flat(keys):
        try:
            return _sorted(xs, keys, reverse=descending)
        except TypeError:
            pass
    return _sorted(xs, keys, functools.cmp_to_key(compare_values), descending)


def _flat(keys: Sequence[Any]) -> bool:
    """Vectors of atoms only: Python's tuple order walks nested vectors in C, unmetered."""
    atoms = _ATOM_TYPES
    return all(atoms.issuperset(map(type, k)) for k in keys)


_ATOM_TYPES = frozenset({int, float, str, bool, type(None), Keyword, Symbol, Char})


def _native_order(xs: Sequence[Any], keys: Sequence[Any], descending: bool,
                  kinds: frozenset[type], by_compare: bool = False) -> list[Any]:
    if Keyword in kinds:
        # Keywords compare in Python code: sort by tuples giving the same order, compared in C.
        as_tuple = _compare_tuple if by_compare else _lt_tuple
        tuples = {k: as_tuple(k) for k in set(keys)}
        return _sorted(xs, keys, tuples.__getitem__, descending)
    return _sorted(xs, keys, reverse=descending)


def _lt_tuple(k: Keyword) -> tuple[str, str]:
    """The order of ``Keyword.__lt__``, which a sort of keywords alone has always used."""
    return (k.ns or "", k.name)


def _compare_tuple(k: Keyword) -> tuple[bool, str, str]:
    """The order of ``compare`` (no namespace first): it differs from ``Keyword.__lt__`` only
    for a namespace of "", as ``(keyword "" "a")`` makes."""
    return (k.ns is not None, k.ns or "", k.name)


def _nil_first(xs: Sequence[Any], keys: Sequence[Any], descending: bool,
               kinds: frozenset[type]) -> list[Any] | None:
    """compare puts nil before everything else and ties it with nil, so a stable sort keeps the
    nil-keyed items in their order at the front (at the back when descending) and sorts the rest
    natively. None when the rest holds a NaN: compare's order is then not a total one, and only
    the comparison-by-comparison sort gives the same result."""
    present = list(map(operator.is_not, keys, itertools.repeat(None)))
    rest_keys = list(itertools.compress(keys, present))
    if float in kinds and _has_nan(rest_keys):
        return None
    rest = rest_keys if keys is xs else list(itertools.compress(xs, present))
    nils = list(itertools.compress(xs, map(operator.not_, present)))
    ordered = _native_order(rest, rest_keys, descending, kinds, by_compare=True)
    return ordered + nils if descending else nils + ordered


def _as_comparison(fn: Callable[..., Any]) -> Callable[[Any, Any], int]:
    def comparison(a: Any, b: Any) -> int:
        r = fn(a, b)
        t = type(r)
        if t is int or t is float:
            return (r > 0) - (r < 0)
        if r is None or t is bool:
            if r:
                return -1
            r2 = fn(b, a)
            return 1 if r2 is not None and r2 is not False else 0
        type_error(f"a comparator must return a number or a boolean, got {type_name(r)}")

    return comparison


def _in_order(xs: Sequence[Any], keys: Sequence[Any], comparator: Any) -> List:
    n = len(keys)
    current_meter().tick(1 + n * max(1, math.ceil(math.log2(n + 1))))
    if comparator is None or comparator is compare or comparator is _ASC:
        return List(_natural_order(xs, keys, False))
    if comparator is _DESC:
        return List(_natural_order(xs, keys, True))
    if comparator is lt or comparator is gt:
        kinds = frozenset(map(type, keys))
        if kinds <= _NUMBER_KINDS:
            return List(_natural_order(xs, keys, comparator is gt, kinds))
    if not callable(comparator):
        type_error(f"sort: a comparator must be a function, got {type_name(comparator)}")
    return List(_sorted(xs, keys, functools.cmp_to_key(_as_comparison(comparator))))


@builtin("sort", arglists="([coll] [comp coll])",
         doc="The items in order (stable), by compare or by the comparator comp (e.g. >).",
         category="sequences")
def sort(*args: Any) -> List:
    if len(args) == 1:
        comparator, coll = None, args[0]
    elif len(args) == 2:
        comparator, coll = args
    else:
        raise TypeError(f"wrong number of arguments ({len(args)}) passed to sort")
    xs = items(coll, "sort")
    charge_items(len(xs))  # the sorted list
    return _in_order(xs, xs, comparator)


@builtin("sort-by", arglists="([keyfn coll] [keyfn comp coll])",
         doc="The items ordered (stably) by (keyfn item), by compare or the comparator comp.",
         category="sequences")
def sort_by(keyfn: Any, *args: Any) -> List:
    if len(args) == 1:
        comparator, coll = None, args[0]
    elif len(args) == 2:
        comparator, coll = args
    else:
        raise TypeError(f"wrong number of arguments ({len(args) + 1}) passed to sort-by")
    xs = items(coll, "sort-by")
    charge_items(2 * len(xs))  # the keys and the sorted list
    return _in_order(xs, apply_each(keyfn, xs), comparator)
