"""Reshaping sequences: distinct, dedupe, flatten, interleave, interpose, partitions, take-nth,
replace. Lazy inputs give lazy results; every group built is charged as it is produced."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from .._errors import EvalError
from .._values.types import EMPTY_LIST, LazySeq, List, Vector, equals
from . import _transducers as _xf
from ._registry import builtin
from ._support import (
    SEQUENTIAL,
    charge_items,
    finish,
    is_lazy,
    items,
    seq_source,
    to_int_index,
    type_error,
    type_name,
)

_NO_DEFAULT = object()
_XF = object()  # marks a missing collection: the call asks for a transducer


def _distinct(source: Iterable[Any]) -> Iterator[Any]:
    seen: set[Any] = set()
    for x in source:
        if x not in seen:
            seen.add(x)
            yield x


@builtin("distinct", arglists="([] [coll])",
         doc="The items without duplicates, first occurrence kept.",
         category="collections")
def distinct(coll: Any = _XF) -> Any:
    if coll is _XF:
        return _xf.distinct_xf()
    if is_lazy(coll):
        return finish(_distinct(coll), True)
    xs = items(coll, "distinct")
    charge_items(len(xs))
    return List(dict.fromkeys(xs))


@builtin("distinct?", arglists="([x] [x y & more])", doc="True if no two arguments are equal.",
         category="predicates")
def distinct_p(*xs: Any) -> bool:
    if not xs:
        raise TypeError("distinct? expects at least 1 argument")
    return len(set(xs)) == len(xs)


def _dedupe(source: Iterable[Any]) -> Iterator[Any]:
    previous: Any = _NO_DEFAULT
    for x in source:
        if previous is _NO_DEFAULT or not equals(x, previous):
            yield x
        previous = x


@builtin("dedupe", arglists="([] [coll])", doc="The items with consecutive duplicates removed.",
         category="collections")
def dedupe(coll: Any = _XF) -> Any:
    if coll is _XF:
        return _xf.dedupe_xf()
    return finish(_dedupe(seq_source(coll, "dedupe")), is_lazy(coll))


@builtin("flatten", arglists="([x])",
         doc="The non-sequential leaves of nested vectors/lists/seqs, as one flat seq.",
         category="collections")
def flatten(x: Any) -> List:
    if not isinstance(x, SEQUENTIAL):
        return EMPTY_LIST
    out: list[Any] = []
    stack: list[Iterator[Any]] = [iter(x)]
    charge_items(len(x) if not is_lazy(x) else 0)
    while stack:
        for y in stack[-1]:
            if isinstance(y, SEQUENTIAL):
                charge_items(len(y) if not is_lazy(y) else 0)
                stack.append(iter(y))
                break
            out.append(y)
        else:
            stack.pop()
    return List(out)


def _interleave(sources: list[Iterable[Any]]) -> Iterator[Any]:
    iterators = [iter(s) for s in sources]
    while iterators:
        row = []
        for it in iterators:
            for y in it:
                row.append(y)
                break
            else:
                return
        yield from row


@builtin("interleave", arglists="([& colls])",
         doc="First item of each coll, then second of each, ... until one runs out.",
         category="collections")
def interleave(*colls: Any) -> Any:
    lazy = any(map(is_lazy, colls))
    return finish(_interleave([seq_source(c, "interleave") for c in colls]), lazy)


def _interpose(sep: Any, source: Iterable[Any]) -> Iterator[Any]:
    it = iter(source)
    for x in it:
        yield x
        break
    for x in it:
        yield sep
        yield x


@builtin("interpose", arglists="([sep] [sep coll])", doc="The items with sep between each two.",
         category="collections")
def interpose(sep: Any, coll: Any = _XF) -> Any:
    if coll is _XF:
        return _xf.interpose_xf(sep)
    return finish(_interpose(sep, seq_source(coll, "interpose")), is_lazy(coll))


# ---------------------------------------------------------------- partitions


def _partition(n: int, step: int, pad: Any, source: Iterable[Any],
               keep_partial: bool) -> Iterator[Any]:
    if n <= 0 or step <= 0:
        if n <= 0:
            return
        raise EvalError("partition: step must be positive", code="invalid_args")
    window: list[Any] = []
    skip = 0
    for x in source:
        if skip:
            skip -= 1
            continue
        window.append(x)
        if len(window) == n:
            charge_items(n)
            yield List(window)
            if step >= n:
                window = []
                skip = step - n
            else:
                window = window[step:]
    if window and (keep_partial or pad is not _NO_DEFAULT):
        if pad is not _NO_DEFAULT and not keep_partial:
            window.extend(itertools.islice(seq_source(pad, "partition"), n - len(window)))
        charge_items(len(window))
        yield List(window)


def _partition_args(fname: str, args: tuple[Any, ...]) -> tuple[int, int, Any, Any]:
    if len(args) == 2:
        n, coll = args
        return to_int_index(n, fname), to_int_index(n, fname), _NO_DEFAULT, coll
    if len(args) == 3:
        n, step, coll = args
        return to_int_index(n, fname), to_int_index(step, fname), _NO_DEFAULT, coll
    if len(args) == 4 and fname == "partition":
        n, step, pad, coll = args
        return to_int_index(n, fname), to_int_index(step, fname), pad, coll
    raise TypeError(f"wrong number of arguments ({len(args)}) passed to {fname}")


@builtin("partition", arglists="([n coll] [n step coll] [n step pad coll])",
         doc="Groups of n items (every step items); "
             "an incomplete last group is dropped unless pad fills it.",
         category="collections")
def partition(*args: Any) -> Any:
    n, step, pad, coll = _partition_args("partition", args)
    return finish(_partition(n, step, pad, seq_source(coll, "partition"), False), is_lazy(coll))


@builtin("partition-all", arglists="([n] [n coll] [n step coll])",
         doc="Groups of n items (every step items), keeping an incomplete last group.",
         category="collections")
def partition_all(*args: Any) -> Any:
    if len(args) == 1:
        return _xf.partition_all_xf(to_int_index(args[0], "partition-all"))
    n, step, _, coll = _partition_args("partition-all", args)
    if step < n:
        return finish(_sliding_all(n, step, seq_source(coll, "partition-all")), is_lazy(coll))
    return finish(_partition(n, step, _NO_DEFAULT, seq_source(coll, "partition-all"), True),
                  is_lazy(coll))


def _sliding_all(n: int, step: int, source: Iterable[Any]) -> Iterator[Any]:
    if n <= 0 or step <= 0:
        if n <= 0:
            return
        raise EvalError("partition-all: step must be positive", code="invalid_args")
    xs = tuple(source)
    for i in range(0, len(xs), step):
        charge_items(min(n, len(xs) - i))
        yield List(xs[i:i + n])


def _partition_by(f: Any, source: Iterable[Any]) -> Iterator[Any]:
    group: list[Any] = []
    key: Any = _NO_DEFAULT
    for x in source:
        k = f(x)
        if group and not equals(k, key):
            charge_items(len(group))
            yield List(group)
            group = []
        group.append(x)
        key = k
    if group:
        charge_items(len(group))
        yield List(group)


@builtin("partition-by", arglists="([f] [f coll])",
         doc="Splits coll into runs of consecutive items with equal (f item).",
         category="collections")
def partition_by(f: Any, coll: Any = _XF) -> Any:
    if coll is _XF:
        return _xf.partition_by_xf(f)
    return finish(_partition_by(f, seq_source(coll, "partition-by")), is_lazy(coll))



@builtin("take-nth", arglists="([n coll])", doc="Every nth item of coll, starting with the first.",
         category="collections")
def take_nth(n: Any, coll: Any) -> Any:
    step = to_int_index(n, "take-nth")
    if step <= 0:
        raise EvalError("take-nth: n must be positive", code="invalid_args")
    if is_lazy(coll):
        return LazySeq(itertools.islice(coll, 0, None, min(step, sys.maxsize)))  # wasm: 2**31-1
    xs = items(coll, "take-nth")
    charge_items(len(xs) // step + 1)
    return List(xs[::step])


@builtin("replace", arglists="([smap coll])",
         doc="coll with every item that is a key of map smap replaced by its value.",
         category="collections")
def replace(smap: Any, coll: Any) -> Any:
    from ._colls import get

    if not isinstance(smap, dict) and type(smap) is not Vector:
        type_error(f"replace needs a map (or vector) of replacements, got {type_name(smap)}",
                   hint="for strings use clojure.string/replace")
    xs = items(coll, "replace")
    charge_items(len(xs))
    out = [get(smap, x, x) for x in xs]
    return Vector(out) if type(coll) is Vector else List(out)
