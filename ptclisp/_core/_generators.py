"""Sequence producers: range, repeat, iterate, cycle, repeatedly.

The infinite forms are ``LazySeq``s that charge a step and a slot per element realised, so
``(count (range))`` ends at the step or memory limit instead of hanging the host. The finite
forms are charged in full before they are built: ``(range 100000000)`` fails up front.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

from .._errors import EvalError
from .._values.types import EMPTY_LIST, LazySeq, List
from ._registry import builtin
from ._support import charge_items, items, metered, type_error, type_name

_ABSENT = object()


def _number(fname: str, x: Any) -> Any:
    if type(x) is int or type(x) is float:
        return x
    type_error(f"{fname}: expected a number, got {type_name(x)}")


def _float_range(start: Any, end: Any, step: Any) -> Iterator[Any]:
    x = start
    if step > 0:
        while x < end:
            yield x
            x += step
    else:
        while x > end:
            yield x
            x += step


def _range_size(start: Any, end: Any, step: Any) -> int:
    if (step > 0 and start >= end) or (step < 0 and start <= end):
        return 0
    return max(0, math.ceil((end - start) / step))


@builtin("range", arglists="([] [end] [start end] [start end step])",
         doc="Numbers from start (default 0) up to but not including end, by step (default 1); "
             "infinite with no args.",
         category="sequences")
def range_(*args: Any) -> Any:
    if not args:
        return LazySeq(metered(itertools.count()))
    if len(args) > 3:
        raise TypeError(f"wrong number of arguments ({len(args)}) passed to range")
    start, end, step = 0, None, 1
    if len(args) == 1:
        end = args[0]
    elif len(args) == 2:
        start, end = args
    else:
        start, end, step = args
    for x in (start, end, step):
        _number("range", x)
    if step == 0:
        if start == end:
            return EMPTY_LIST
        return LazySeq(metered(itertools.repeat(start)))
    if math.isinf(end) if type(end) is float else False:
        if (end > 0) == (step > 0):
            return LazySeq(metered(itertools.count(start, step)))
        return EMPTY_LIST
    if end != end or start != start or step != step:
        return EMPTY_LIST
    size = _range_size(start, end, step)
    charge_items(size)
    if type(start) is int and type(end) is int and type(step) is int:
        return List(range(start, end, step))
    return List(_float_range(start, end, step))


@builtin("repeat", arglists="([x] [n x])", doc="n copies of x (infinitely many without n).",
         category="sequences")
def repeat(*args: Any) -> Any:
    if len(args) == 1:
        return LazySeq(metered(itertools.repeat(args[0])))
    if len(args) != 2:
        raise TypeError(f"wrong number of arguments ({len(args)}) passed to repeat")
    n, x = args
    if type(n) is not int:
        type_error(f"repeat: count must be an integer, got {type_name(n)}")
    n = max(0, n)
    charge_items(n)
    return List(itertools.repeat(x, n))


def _iterate(f: Any, x: Any) -> Iterator[Any]:
    while True:
        yield x
        x = f(x)


@builtin("iterate", arglists="([f x])", doc="Infinite lazy seq x, (f x), (f (f x)), ...",
         category="sequences")
def iterate(f: Any, x: Any) -> LazySeq:
    return LazySeq(metered(_iterate(f, x)))


@builtin("cycle", arglists="([coll])", doc="Infinite lazy seq repeating the items of coll.",
         category="sequences")
def cycle(coll: Any) -> Any:
    xs = items(coll, "cycle")
    if not xs:
        return EMPTY_LIST
    return LazySeq(metered(itertools.cycle(xs)))


def _repeatedly(f: Any) -> Iterator[Any]:
    while True:
        yield f()


@builtin("repeatedly", arglists="([f] [n f])",
         doc="Seq of the results of calling (f) n times (lazy and infinite without n).",
         category="sequences")
def repeatedly(*args: Any) -> Any:
    if len(args) == 1:
        return LazySeq(metered(_repeatedly(args[0])))
    if len(args) != 2:
        raise TypeError(f"wrong number of arguments ({len(args)}) passed to repeatedly")
    n, f = args
    if type(n) is not int:
        raise EvalError("repeatedly: count must be an integer", code="type_error")
    charge_items(max(0, n))
    return List(f() for _ in range(max(0, n)))
