"""Sequence access and reshaping: first/rest/nth, take/drop, partition, concat, flatten, ...

Finite inputs give realised ``List``s; a ``LazySeq`` input gives a ``LazySeq`` (so
``(take 5 (drop 10 (range)))`` works). Every result is charged before or while it is built.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from .._errors import EvalError
from .._limits import current_meter
from .._values.types import EMPTY_LIST, LazySeq, List, Map, Set, Vector, charge_reread
from . import _transducers as _xf
from ._registry import builtin
from ._support import (
    char,
    charge_copy,
    charge_items,
    finish,
    is_lazy,
    items,
    seq_source,
    to_int_index,
    type_error,
    type_name,
)

# ---------------------------------------------------------------- size and emptiness


@builtin("count", arglists="([coll])", doc="Number of items (characters of a string; 0 for nil).",
         category="collections")
def count(coll: Any) -> int:
    if coll is None:
        return 0
    if isinstance(coll, (tuple, dict, frozenset, str, LazySeq)):
        return len(coll)
    type_error(f"count not supported on {type_name(coll)}",
               hint="count takes a collection, a string or nil")


@builtin("empty?", arglists="([coll])", doc="True if coll is nil or has no items.",
         category="collections")
def empty_p(coll: Any) -> bool:
    if type(coll) is str:  # the usual case first (a word, a line)
        return not coll
    if coll is None:
        return True
    if isinstance(coll, (tuple, dict, frozenset, str)):
        return len(coll) == 0
    if type(coll) is LazySeq:
        return not coll
    type_error(f"empty? not supported on {type_name(coll)}")


@builtin("not-empty", arglists="([coll])", doc="coll, or nil if it is empty.",
         category="collections")
def not_empty(coll: Any) -> Any:
    return None if empty_p(coll) else coll


@builtin("seq", arglists="([coll])", doc="A sequence of the items of coll, or nil if it is empty.",
         category="collections")
def seq(coll: Any) -> Any:
    t = type(coll)
    if t is List:
        return coll if coll else None
    if t is LazySeq:
        return coll if coll else None
    xs = items(coll, "seq")
    if not xs:
        return None
    if type(xs) is List:
        return xs
    charge_copy(len(xs))
    return List(xs)


# ---------------------------------------------------------------- element access


@builtin("first", arglists="([coll])", doc="The first item, or nil.", category="collections")
def first(coll: Any) -> Any:
    t = type(coll)
    if t is Vector or t is List:
        return coll[0] if coll else None
    if coll is None:
        return None
    if t is LazySeq:
        return coll.first()
    if t is str:
        return char(coll[0]) if coll else None
    if t is Map:
        return Vector(next(iter(coll.items()))) if coll else None
    if t is Set:
        return next(iter(coll), None)
    xs = items(coll, "first")
    return xs[0] if xs else None


@builtin("second", arglists="([coll])", doc="The second item, or nil.", category="collections")
def second(coll: Any) -> Any:
    if type(coll) is Vector or type(coll) is List:
        return coll[1] if len(coll) > 1 else None
    return nth(coll, 1, None)


@builtin("last", arglists="([coll])", doc="The last item, or nil.", category="collections")
def last(coll: Any) -> Any:
    xs = items(coll, "last")
    return xs[-1] if xs else None


@builtin("ffirst", arglists="([coll])", doc="(first (first coll)).", category="collections")
def ffirst(coll: Any) -> Any:
    return first(first(coll))


@builtin("fnext", arglists="([coll])", doc="(first (next coll)).", category="collections")
def fnext(coll: Any) -> Any:
    return second(coll)


@builtin("nfirst", arglists="([coll])", doc="(next (first coll)).", category="collections")
def nfirst(coll: Any) -> Any:
    return next_(first(coll))


@builtin("nnext", arglists="([coll])", doc="(next (next coll)).", category="collections")
def nnext(coll: Any) -> Any:
    return next_(next_(coll))


def _index_error(i: Any, size: int) -> EvalError:
    return EvalError(f"index {i} out of bounds for a collection of {size}",
                     code="index_out_of_bounds",
                     hint="use (get coll i) or (nth coll i default) to get nil/default instead")


_NO_DEFAULT = object()
_XF = object()  # marks a missing collection: the call asks for a transducer


@builtin("nth", arglists="([coll index] [coll index not-found])",
         doc="The item at index; out of range is an error unless not-found is given.",
         category="collections")
def nth(coll: Any, index: Any, not_found: Any = _NO_DEFAULT) -> Any:
    i = to_int_index(index, "nth")
    t = type(coll)
    if t is Vector or t is List or t is str:
        if 0 <= i < len(coll):
            return char(coll[i]) if t is str else coll[i]
        if not_found is not _NO_DEFAULT:
            return not_found
        raise _index_error(i, len(coll))
    if coll is None:
        return None if not_found is _NO_DEFAULT else not_found
    if t is LazySeq:
        if i >= 0:
            found = _lazy_nth(coll, i)
            if found is not _NO_DEFAULT:
                return found
        if not_found is not _NO_DEFAULT:
            return not_found
        raise _index_error(i, len(coll))
    if isinstance(coll, tuple):
        return nth(Vector(coll), i, not_found)
    type_error(f"nth not supported on {type_name(coll)}",
               hint="nth needs a vector, list, seq or string; use get for maps")


def _lazy_nth(coll: LazySeq, i: int) -> Any:
    """Item ``i`` of a lazy seq, or ``_NO_DEFAULT`` past its end. ``islice`` takes indexes up to
    ``sys.maxsize`` only — 2**31 - 1 in the wasm tier's 32-bit guest — so a bigger one walks in
    pieces (each item charged as it is realized: the run ends at a limit long before)."""
    it = iter(coll)
    while i > sys.maxsize:
        if next(itertools.islice(it, sys.maxsize - 1, None), _NO_DEFAULT) is _NO_DEFAULT:
            return _NO_DEFAULT
        i -= sys.maxsize
    return next(itertools.islice(it, i, None), _NO_DEFAULT)


# ---------------------------------------------------------------- rest / next / drop


class _LazyTail:
    """Iterates a LazySeq from an offset, sharing its cache (rest of rest of ... stays flat)."""

    __slots__ = ("i", "root", "start")

    def __init__(self, root: LazySeq, start: int) -> None:
        self.root, self.start, self.i = root, start, start

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        root = self.root
        cache = root._cache
        while len(cache) <= self.i:
            if not root.pull():
                raise StopIteration
        if root._busy:
            charge_reread()
        x = cache[self.i]
        self.i += 1
        return x


class _TupleTail:
    """Iterates a vector or list from an offset without copying it: the ``rest`` of a long one
    is a lazy seq over this, and its ``rest`` again an offset (a loop over ``next`` stays O(n))."""

    __slots__ = ("i", "root", "start")

    def __init__(self, root: tuple[Any, ...], start: int) -> None:
        self.root, self.start, self.i = root, start, start

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        i = self.i
        if i >= len(self.root):
            raise StopIteration
        self.i = i + 1
        return self.root[i]


_TAILS = (_LazyTail, _TupleTail)
_COPY_MAX = 32  # rest of a shorter vector or list copies it: a small tuple beats a lazy seq


def _lazy_drop(coll: LazySeq, n: int) -> LazySeq:
    # A tail of a tail is a tail of the same root: the items the outer seq cached are the
    # root's from the same offset, so nothing is lost by starting over from the root.
    source = coll._source
    if type(source) in _TAILS:
        tail: Any = source
        return LazySeq(type(tail)(tail.root, tail.start + n))
    return LazySeq(_LazyTail(coll, n))


@builtin("rest", arglists="([coll])", doc="The items after the first, as a (possibly empty) seq.",
         category="collections")
def rest(coll: Any) -> Any:
    t = type(coll)
    if t is LazySeq:
        return _lazy_drop(coll, 1)
    xs = items(coll, "rest")
    if len(xs) <= 1:
        return EMPTY_LIST
    if len(xs) > _COPY_MAX and (t is Vector or t is List):
        current_meter().tick(1)
        return LazySeq(_TupleTail(xs, 1))
    charge_copy(len(xs))
    return List(xs[1:])


@builtin("next", arglists="([coll])", doc="The items after the first, or nil if there are none.",
         category="collections")
def next_(coll: Any) -> Any:
    r = rest(coll)
    return r if r else None


@builtin("butlast", arglists="([coll])", doc="All but the last item, or nil.",
         category="collections")
def butlast(coll: Any) -> Any:
    xs = items(coll, "butlast")
    if len(xs) <= 1:
        return None
    charge_copy(len(xs))
    return List(xs[:-1])


@builtin("take", arglists="([n] [n coll])", doc="The first n items.", category="collections")
def take(n: Any, coll: Any = _XF) -> Any:
    if coll is _XF:
        return _xf.take_xf(max(0, to_int_index(n, "take")))
    n = max(0, to_int_index(n, "take"))
    if is_lazy(coll):  # islice stops at sys.maxsize (2**31 - 1 in wasm): never reached
        return LazySeq(itertools.islice(coll, min(n, sys.maxsize)))
    xs = items(coll, "take")
    charge_items(min(n, len(xs)))
    return List(xs[:n])


@builtin("drop", arglists="([n] [n coll])", doc="All but the first n items.",
         category="collections")
def drop(n: Any, coll: Any = _XF) -> Any:
    if coll is _XF:
        return _xf.drop_xf(max(0, to_int_index(n, "drop")))
    n = max(0, to_int_index(n, "drop"))
    if is_lazy(coll):
        return _lazy_drop(coll, n) if n else coll
    xs = items(coll, "drop")
    charge_items(max(0, len(xs) - n))
    return List(xs[n:])


@builtin("nthrest", arglists="([coll n])",
         doc="coll without its first n items (coll itself if n <= 0).", category="collections")
def nthrest(coll: Any, n: Any) -> Any:
    if to_int_index(n, "nthrest") <= 0 or empty_p(coll):
        return coll  # Clojure returns coll itself when there is nothing to drop
    return drop(n, coll)


@builtin("nthnext", arglists="([coll n])", doc="(seq (drop n coll)): nil when nothing is left.",
         category="collections")
def nthnext(coll: Any, n: Any) -> Any:
    r = drop(n, coll)
    return r if r else None


@builtin("take-last", arglists="([n coll])", doc="The last n items, or nil.",
         category="collections")
def take_last(n: Any, coll: Any) -> Any:
    n = to_int_index(n, "take-last")
    xs = items(coll, "take-last")
    if n <= 0 or not xs:
        return None
    charge_items(min(n, len(xs)))
    return List(xs[-n:])


@builtin("drop-last", arglists="([coll] [n coll])", doc="All but the last n (default 1) items.",
         category="collections")
def drop_last(a: Any, b: Any = _NO_DEFAULT) -> Any:
    n, coll = (1, a) if b is _NO_DEFAULT else (to_int_index(a, "drop-last"), b)
    xs = items(coll, "drop-last")
    keep = max(0, len(xs) - max(0, n))
    charge_items(keep)
    return List(xs[:keep])


def _take_while(pred: Any, source: Iterable[Any]) -> Iterator[Any]:
    for x in source:
        r = pred(x)
        if r is None or r is False:
            return
        yield x


def _drop_while(pred: Any, source: Iterable[Any]) -> Iterator[Any]:
    it = iter(source)
    for x in it:
        r = pred(x)
        if r is None or r is False:
            yield x
            break
    yield from it


@builtin("take-while", arglists="([pred] [pred coll])",
         doc="The leading items for which pred is truthy.",
         category="collections")
def take_while(pred: Any, coll: Any = _XF) -> Any:
    if coll is _XF:
        return _xf.take_while_xf(pred)
    return finish(_take_while(pred, seq_source(coll, "take-while")), is_lazy(coll))


@builtin("drop-while", arglists="([pred] [pred coll])",
         doc="The items from the first one for which pred is falsy.", category="collections")
def drop_while(pred: Any, coll: Any = _XF) -> Any:
    if coll is _XF:
        return _xf.drop_while_xf(pred)
    return finish(_drop_while(pred, seq_source(coll, "drop-while")), is_lazy(coll))


@builtin("split-at", arglists="([n coll])", doc="[(take n coll) (drop n coll)].",
         category="collections")
def split_at(n: Any, coll: Any) -> Vector:
    return Vector((take(n, coll), drop(n, coll)))


@builtin("split-with", arglists="([pred coll])",
         doc="[(take-while pred coll) (drop-while pred coll)].", category="collections")
def split_with(pred: Any, coll: Any) -> Vector:
    return Vector((take_while(pred, coll), drop_while(pred, coll)))


# ---------------------------------------------------------------- building sequences


@builtin("cons", arglists="([x coll])", doc="A seq of x followed by the items of coll.",
         category="collections")
def cons(x: Any, coll: Any) -> Any:
    if is_lazy(coll):
        return LazySeq(itertools.chain((x,), coll))
    xs = items(coll, "cons")
    charge_copy(len(xs))
    return List((x, *xs))


@builtin("concat", arglists="([& colls])", doc="A seq of the items of each coll in turn.",
         category="collections")
def concat(*colls: Any) -> Any:
    if any(type(c) is LazySeq for c in colls):
        return LazySeq(itertools.chain.from_iterable(seq_source(c, "concat") for c in colls))
    parts = [items(c, "concat") for c in colls]
    charge_items(sum(map(len, parts)))
    return List(itertools.chain.from_iterable(parts))


@builtin("reverse", arglists="([coll])", doc="The items in reverse order.", category="collections")
def reverse(coll: Any) -> List:
    xs = items(coll, "reverse")
    charge_items(len(xs))
    return List(reversed(xs))


@builtin("rseq", arglists="([v])",
         doc="The items of vector v in reverse order, or nil if it is empty.",
         category="collections")
def rseq(v: Any) -> Any:
    if type(v) is not Vector:
        type_error(f"rseq needs a vector, got {type_name(v)}")
    return reverse(v) if v else None
