"""sort and sort-by: stable, Clojure ``compare`` order by default, any comparator fn accepted.

Homogeneous numbers/strings/keywords (the common case) sort natively; anything else goes through
``compare_values`` — identical order, just slower. A comparator may return a number (like
``compare``) or a boolean (like ``<``), as Clojure functions used as comparators do.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from .._values import Keyword, List, Vector
from ._numbers import compare, compare_values, gt, lt
from ._registry import builtin
from ._support import apply_each, items, type_error, type_name

from .._limits import current_meter

_NATIVE_KINDS = (frozenset({int}), frozenset({float}), frozenset({int, float}),
                 frozenset({str}), frozenset({Keyword}))
_ASC = Keyword("asc")
_DESC = Keyword("desc")


def _natural_order(keys: list[Any] | tuple[Any, ...], descending: bool) -> list[int]:
    indices = range(len(keys))
    kinds = frozenset(map(type, keys))
    if kinds in _NATIVE_KINDS and not (float in kinds and any(k != k for k in keys)):
        return sorted(indices, key=keys.__getitem__, reverse=descending)
    if kinds == {Vector} and len(set(map(len, keys))) == 1:
        try:
            return sorted(indices, key=keys.__getitem__, reverse=descending)
        except TypeError:
            pass
    cmp = functools.cmp_to_key(compare_values)
    return sorted(indices, key=lambda i: cmp(keys[i]), reverse=descending)


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


def _all_numbers(keys: Any) -> bool:
    return all(type(k) is int or type(k) is float for k in keys)


def _order(keys: list[Any] | tuple[Any, ...], comparator: Any) -> list[int]:
    n = len(keys)
    current_meter().tick(1 + n * max(1, math.ceil(math.log2(n + 1))))
    if comparator is None or comparator is compare or comparator is _ASC:
        return _natural_order(keys, False)
    if comparator is _DESC:
        return _natural_order(keys, True)
    if (comparator is lt or comparator is gt) and _all_numbers(keys):
        return _natural_order(keys, comparator is gt)
    if not callable(comparator):
        type_error(f"sort: a comparator must be a function, got {type_name(comparator)}")
    cmp = functools.cmp_to_key(_as_comparison(comparator))
    return sorted(range(n), key=lambda i: cmp(keys[i]))


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
    return List([xs[i] for i in _order(xs, comparator)])


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
    keys = apply_each(keyfn, xs)
    return List([xs[i] for i in _order(keys, comparator)])
