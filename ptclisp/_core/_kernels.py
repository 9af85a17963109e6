"""Running a program fn's loop kernels: batches charged like one call per item.

The compiler (``_compiler/source.py``) turns small fns into *kernels* — one fn's body inlined in
a loop over a batch of items. The builtins that loop (``filter``, ``map``, ``reduce``, ``some``
…) run those kernels through these functions, which charge one step per item before each batch,
refund the items a batch never started, and enter one level of depth around the loop, so steps
and depth match calling the fn on every item. They live in the core library, below the compiler,
because the builtins call them; the compiler only produces what they run.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from .._limits import current_meter

__all__ = ["NOT_FOUND", "run_find", "run_fold", "run_kernel"]


class _Unset:
    """A value no expression yields: ``(x := e) is not UNSET`` binds a let local in an and-chain;
    ``find`` returns it for "no such item"."""

    __slots__ = ()


NOT_FOUND: Any = _Unset()


_BATCH = 4096
"""Items per kernel batch: the clock and step budget are checked between batches."""


def run_kernel(kernel: Callable[..., list[Any]], xs: tuple[Any, ...], *args: Any,
               enter: bool = True) -> list[Any]:
    """``kernel`` (keep, each, for) over ``xs`` in batches, charged like one fn call per item
    (``enter``: one level of depth around the loop; a ``for`` body is not a call)."""
    meter = current_meter()
    if enter and not _enter(meter, len(xs)):
        return []
    if len(xs) <= _BATCH:
        out = _run_batch(meter, kernel, xs, args)
    else:
        out = []
        for start in range(0, len(xs), _BATCH):
            out += _run_batch(meter, kernel, xs[start:start + _BATCH], args)
    if enter:
        meter.depth -= 1  # an exception ends the run: no finally, as for every call
    return out


def run_fold(fold: Callable[..., Any], acc: Any, xs: tuple[Any, ...]) -> Any:
    """``(reduce f acc xs)`` by the fold kernel; a ``Reduced`` result is returned as it is."""
    from ._support import Reduced  # _support loops by run_kernel: import when first folding


    meter = current_meter()
    if not _enter(meter, len(xs)):
        return acc
    for start in range(0, len(xs), _BATCH):
        part = xs if len(xs) <= _BATCH else xs[start:start + _BATCH]
        acc = _run_batch(meter, fold, part, (acc,), may_stop=True)
        if type(acc) is Reduced:
            break
    meter.depth -= 1
    return acc


def run_find(find: Callable[..., Any], xs: tuple[Any, ...], want: bool) -> Any:
    """The first ``(f x)`` whose truth is ``want`` (some: True, every?: False).

    ``NOT_FOUND`` if there is none.
    """
    meter = current_meter()
    if not _enter(meter, len(xs)):
        return NOT_FOUND
    found = NOT_FOUND
    for start in range(0, len(xs), _BATCH):
        part = xs if len(xs) <= _BATCH else xs[start:start + _BATCH]
        found = _run_batch(meter, find, part, (want,), may_stop=True)
        if found is not NOT_FOUND:
            break
    meter.depth -= 1
    return found


def _enter(meter: Any, count: int) -> bool:
    """Enter the level the loop's ``count`` calls run at, as the first call would: at the
    depth limit that call's step is charged before its depth check fails, and with no item
    no call is made, so nothing is checked (False: nothing to run)."""
    if meter.depth >= meter.limits.max_depth:
        if not count:
            return False
        meter.tick(1)
    meter.enter()
    return True


def _run_batch(meter: Any, kernel: Callable[..., Any], part: tuple[Any, ...],
               args: tuple[Any, ...], may_stop: bool = False) -> Any:
    """One batch: charged up front; the items never started are refunded (after an error, or
    when a fold ``may_stop`` at a reduced value), so the steps are those of the calls made.
    The kernel gets the batch and an iterator over it: the exact loop runs over the iterator,
    whose length hint then counts the items not started."""
    meter.tick(len(part))
    items = iter(part)
    try:
        result = kernel(part, items, *args)
    except BaseException:
        meter.fuel += operator.length_hint(items)
        raise
    if may_stop:
        meter.fuel += operator.length_hint(items)
    return result
