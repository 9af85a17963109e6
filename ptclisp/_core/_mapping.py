"""Higher-order sequence functions: map, filter, reduce, some/every?, apply, group-by, ...

Hot paths: one type dispatch per call, then a C-level loop (``map``, list comprehension) over a
tuple. Steps and memory are charged once per call in proportion to the input size; the user
function charges its own calls.
"""

from __future__ import annotations

import functools
import itertools
import operator
import sys
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .._limits import current_meter
from .._values.types import LazySeq, List, Map, Vector
from . import _transducers as _xf
from ._kernels import NOT_FOUND, run_find, run_fold
from ._numbers import add as _add
from ._registry import builtin
from ._support import (
    Reduced,
    apply_each,
    charge_items,
    finish,
    is_lazy,
    items,
    keep_truthy,
    kernel_for,
    metered,
    seq_source,
    truthy,
    type_error,
)


def _sources(fname: str, colls: tuple[Any, ...]) -> tuple[list[Any], bool]:
    lazy = any(type(c) is LazySeq for c in colls)
    if lazy:
        return [seq_source(c, fname) for c in colls], True
    return [items(c, fname) for c in colls], False


# Runs an iterator to its end at C speed, keeping nothing.
_consume: Callable[[Iterable[Any]], None] = deque(maxlen=0).extend

_XF = object()  # marks a missing collection: the call asks for a transducer


@builtin("map", arglists="([f] [f coll] [f c1 c2 & colls])",
         doc="Seq of (f item) for each item; with several colls, f takes one item of each "
             "and it stops at the shortest.",
         category="sequences")
def map_(f: Any, *colls: Any) -> Any:
    if len(colls) == 1:
        coll = colls[0]
        if type(coll) is LazySeq:
            return LazySeq(metered(map(f, coll)))
        xs = items(coll, "map")
        charge_items(len(xs))
        return List(apply_each(f, xs))
    if not colls:
        return _xf.map_xf(f)
    sources, lazy = _sources("map", colls)
    if lazy:
        return LazySeq(metered(map(f, *sources)))
    charge_items(min(map(len, sources)))
    return List([f(*row) for row in zip(*sources)])


@builtin("mapv", arglists="([f coll] [f c1 c2 & colls])", doc="Like map, but returns a vector.",
         category="sequences")
def mapv(f: Any, *colls: Any) -> Vector:
    if len(colls) == 1 and type(colls[0]) is not LazySeq:
        xs = items(colls[0], "mapv")
        charge_items(len(xs))
        return Vector(apply_each(f, xs))
    return Vector(map_(f, *colls))


@builtin("map-indexed", arglists="([f] [f coll])", doc="Seq of (f index item).",
         category="sequences")
def map_indexed(f: Any, coll: Any = _XF) -> Any:
    if coll is _XF:
        return _xf.indexed_xf(f, False)
    if is_lazy(coll):
        return LazySeq(metered(map(f, itertools.count(), coll)))
    xs = items(coll, "map-indexed")
    charge_items(len(xs))
    return List([f(i, x) for i, x in enumerate(xs)])


@builtin("mapcat", arglists="([f] [f coll] [f c1 c2 & colls])",
         doc="Concatenation of the seqs (f item) returns.", category="sequences")
def mapcat(f: Any, *colls: Any) -> Any:
    if not colls:
        return _xf.mapcat_xf(f)
    sources, lazy = _sources("mapcat", colls)
    if lazy:
        results = map(f, *sources)
        return LazySeq(metered(itertools.chain.from_iterable(
            seq_source(r, "mapcat") for r in results)))
    parts = [items(f(*row), "mapcat") for row in zip(*sources)]
    charge_items(sum(map(len, parts)))
    return List(itertools.chain.from_iterable(parts))


@builtin("filter", arglists="([pred] [pred coll])",
         doc="Seq of the items for which pred is truthy.",
         category="sequences")
def filter_(pred: Any, coll: Any = _XF) -> Any:
    if coll is _XF:
        return _xf.filter_xf(pred)
    if type(coll) is LazySeq:
        return LazySeq(metered(x for x in coll if (r := pred(x)) is not None and r is not False))
    xs = items(coll, "filter")
    charge_items(len(xs))
    return List(keep_truthy(pred, xs))


@builtin("filterv", arglists="([pred coll])", doc="Like filter, but returns a vector.",
         category="sequences")
def filterv(pred: Any, coll: Any) -> Vector:
    xs = items(coll, "filterv")
    charge_items(len(xs))
    return Vector(keep_truthy(pred, xs))


@builtin("remove", arglists="([pred] [pred coll])", doc="Seq of the items for which pred is falsy.",
         category="sequences")
def remove(pred: Any, coll: Any = _XF) -> Any:
    if coll is _XF:
        return _xf.remove_xf(pred)
    if type(coll) is LazySeq:
        return LazySeq(metered(x for x in coll if (r := pred(x)) is None or r is False))
    xs = items(coll, "remove")
    charge_items(len(xs))
    return List(keep_truthy(pred, xs, keep=False))


@builtin("keep", arglists="([f] [f coll])",
         doc="Seq of the non-nil results of (f item) (false is kept).",
         category="sequences")
def keep(f: Any, coll: Any = _XF) -> Any:
    if coll is _XF:
        return _xf.keep_xf(f)
    if type(coll) is LazySeq:
        return LazySeq(metered(r for r in map(f, coll) if r is not None))
    xs = items(coll, "keep")
    charge_items(len(xs))
    return List([r for x in xs if (r := f(x)) is not None])


@builtin("keep-indexed", arglists="([f] [f coll])",
         doc="Seq of the non-nil results of (f index item).",
         category="sequences")
def keep_indexed(f: Any, coll: Any = _XF) -> Any:
    if coll is _XF:
        return _xf.indexed_xf(f, True)
    source = seq_source(coll, "keep-indexed")
    return finish((r for r in map(f, itertools.count(), source) if r is not None), is_lazy(coll))


# ---------------------------------------------------------------- reduce


@builtin("reduced", arglists="([x])", doc="Wraps x so that reduce stops and returns x.",
         category="sequences")
def reduced(x: Any) -> Reduced:
    return Reduced(x)


@builtin("reduced?", arglists="([x])", doc="True if x is the result of reduced.",
         category="predicates")
def reduced_p(x: Any) -> bool:
    return type(x) is Reduced


def _reduce_source(coll: Any) -> Iterable[Any]:
    if type(coll) is LazySeq:
        return metered(coll)
    xs = items(coll, "reduce")
    current_meter().tick(1 + len(xs))
    return xs


@builtin("reduce", arglists="([f coll] [f init coll])",
         doc="Folds coll with (f acc item), starting from init or the first item; "
             "(f) if coll is empty.",
         category="sequences")
def reduce_(f: Any, *args: Any) -> Any:
    if f is _add and args and type(args[-1]) in (Vector, List):
        total = _sum_numbers(args)
        if total is not _NOTHING:
            return total
    if type(args[-1]) in (Vector, List) and len(args) <= 2:
        fold = kernel_for(f, "fold", args[-1])
        if fold is not None:
            return _fold(f, fold, args)
    if len(args) == 1:
        it = iter(_reduce_source(args[0]))
        acc = next(it, _NOTHING)
        if acc is _NOTHING:
            return f()
    elif len(args) == 2:
        acc = args[0]
        it = iter(_reduce_source(args[1]))
    else:
        raise TypeError(f"wrong number of arguments ({len(args) + 1}) passed to reduce")
    for x in it:
        acc = f(acc, x)
        if type(acc) is Reduced:
            return acc.value
    return acc


def _fold(f: Any, fold: Any, args: tuple[Any, ...]) -> Any:
    """reduce by a source fn's fold kernel (see ``_compile_source``): the same steps as calls."""
    xs = args[-1]
    current_meter().tick(1 + len(xs))
    if len(args) == 2:
        acc = run_fold(fold, args[0], xs)
    elif xs:
        acc = run_fold(fold, xs[0], xs[1:])
    else:
        return f()
    return acc.value if type(acc) is Reduced else acc


_NOTHING = object()


_NUMBER_TYPES = frozenset({int, float})


def _sum_numbers(args: tuple[Any, ...]) -> Any:
    """(reduce + xs) over numbers at C speed; _NOTHING when some item is not a number."""
    xs = args[-1]
    init = args[0] if len(args) == 2 else 0
    if len(args) > 2 or not set(map(type, xs)) <= _NUMBER_TYPES:
        return _NOTHING
    if type(init) is not int and type(init) is not float:
        return _NOTHING
    current_meter().tick(1 + len(xs))
    if len(args) == 1:
        if not xs:
            return 0
        init, xs = xs[0], xs[1:]  # (reduce + [-0.0]) is -0.0: start from the first item
    if _SUM_IS_SEQUENTIAL:
        return sum(xs, init)
    return functools.reduce(operator.add, xs, init)


# Before 3.12, sum() adds floats one after the other, as the generic loop does; from 3.12 it
# compensates rounding errors (a different result), so the plain fold is used there.
_SUM_IS_SEQUENTIAL = sys.version_info < (3, 12)


def _reductions(f: Any, init: Any, source: Iterable[Any]) -> Iterator[Any]:
    it = iter(source)
    acc = init
    if acc is _NOTHING:
        acc = next(it, _NOTHING)
        if acc is _NOTHING:
            yield f()
            return
    yield acc
    for x in it:
        acc = f(acc, x)
        if type(acc) is Reduced:
            yield acc.value
            return
        yield acc


@builtin("reductions", arglists="([f coll] [f init coll])",
         doc="Seq of the intermediate values of (reduce f init coll).", category="sequences")
def reductions(f: Any, *args: Any) -> Any:
    init, coll = (_NOTHING, args[0]) if len(args) == 1 else args
    return finish(_reductions(f, init, seq_source(coll, "reductions")), is_lazy(coll))


@builtin("reduce-kv", arglists="([f init m])", doc="Folds map m with (f acc key value).",
         category="maps")
def reduce_kv(f: Any, init: Any, m: Any) -> Any:
    if m is None:
        return init
    if isinstance(m, dict):
        pairs: Iterable[tuple[Any, Any]] = m.items()
    elif type(m) is Vector:
        pairs = enumerate(m)
    else:
        type_error("reduce-kv needs a map or a vector")
    current_meter().tick(1 + len(m))
    acc = init
    for k, v in pairs:
        acc = f(acc, k, v)
        if type(acc) is Reduced:
            return acc.value
    return acc


# ---------------------------------------------------------------- searching


@builtin("some", arglists="([pred coll])", doc="The first truthy (pred item), or nil.",
         category="sequences")
def some(pred: Any, coll: Any) -> Any:
    found = _first_of_truth(pred, coll, True)
    return None if found is NOT_FOUND else found


@builtin("every?", arglists="([pred coll])", doc="True if (pred item) is truthy for every item.",
         category="sequences")
def every_p(pred: Any, coll: Any) -> bool:
    return _first_of_truth(pred, coll, False) is NOT_FOUND


def _first_of_truth(pred: Any, coll: Any, want: bool) -> Any:
    """The first ``(pred x)`` whose truthiness is ``want``, or ``NOT_FOUND``: by pred's find
    kernel when it has one worth using (see ``_compile_source``), else call by call."""
    if type(coll) is Vector or type(coll) is List:
        find = kernel_for(pred, "find", coll)
        if find is not None:
            current_meter().tick(1 + len(coll))  # as _reduce_source charges
            return run_find(find, coll, want)
    for x in _reduce_source(coll):
        r = pred(x)
        if (r is not None and r is not False) is want:
            return r
    return NOT_FOUND


@builtin("not-every?", arglists="([pred coll])", doc="(not (every? pred coll)).",
         category="sequences")
def not_every_p(pred: Any, coll: Any) -> bool:
    return not every_p(pred, coll)


@builtin("not-any?", arglists="([pred coll])", doc="(not (some pred coll)).", category="sequences")
def not_any_p(pred: Any, coll: Any) -> bool:
    return some(pred, coll) is None


# ---------------------------------------------------------------- apply, grouping, misc


@builtin("apply", arglists="([f args] [f x & args])",
         doc="Calls f with the given arguments followed by the items of the last one.",
         category="functions")
def apply(f: Any, *args: Any) -> Any:
    if not args:
        raise TypeError("wrong number of arguments (1) passed to apply")
    spread = items(args[-1], "apply")
    current_meter().tick(1 + len(spread))
    return f(*args[:-1], *spread)


@builtin("group-by", arglists="([f coll])",
         doc="Map from (f item) to the vector of items with that key, in order.",
         category="sequences")
def group_by(f: Any, coll: Any) -> Map:
    xs = items(coll, "group-by")
    charge_items(len(xs) + len(xs) // 4)
    # A C-level loop: the defaultdict makes each new key's list, then each item joins its group.
    groups: defaultdict[Any, list[Any]] = defaultdict(list)
    _consume(map(list.append, map(groups.__getitem__, apply_each(f, xs)), xs))
    return Map(zip(groups, map(Vector, groups.values())))


@builtin("frequencies", arglists="([coll])", doc="Map from each distinct item to its count.",
         category="sequences")
def frequencies(coll: Any) -> Map:
    xs = items(coll, "frequencies")
    charge_items(len(xs))
    return Map(Counter(xs))  # Counter counts in C and keeps first-seen order, as Map needs


def _extreme_key(fname: str, k: Any, args: tuple[Any, ...], greater: bool) -> Any:
    from ._numbers import ge, gt, le, lt

    if len(args) == 1:
        return args[0]
    strict, loose = (gt, ge) if greater else (lt, le)
    x, y = args[0], args[1]
    kx, ky = k(x), k(y)
    best, kb = (x, kx) if strict(kx, ky) else (y, ky)
    for w in args[2:]:
        kw = k(w)
        if loose(kw, kb):
            best, kb = w, kw
    return best


@builtin("max-key", arglists="([k x] [k x y & more])",
         doc="The argument x for which (k x) is greatest (the last one on ties).",
         category="sequences")
def max_key(k: Any, x: Any, *more: Any) -> Any:
    return _extreme_key("max-key", k, (x, *more), True)


@builtin("min-key", arglists="([k x] [k x y & more])",
         doc="The argument x for which (k x) is least (the last one on ties).",
         category="sequences")
def min_key(k: Any, x: Any, *more: Any) -> Any:
    return _extreme_key("min-key", k, (x, *more), False)


@builtin("tree-seq", arglists="([branch? children root])",
         doc="Depth-first seq of the nodes of a tree: "
             "(children node) is called when (branch? node).",
         category="sequences")
def tree_seq(branch: Any, children: Any, root: Any) -> List:
    m = current_meter()
    out: list[Any] = []
    stack = [root]
    while stack:
        node = stack.pop()
        m.tick()
        m.alloc(8)
        out.append(node)
        if truthy(branch(node)):
            kids = items(children(node), "tree-seq")
            stack.extend(reversed(kids))
    return List(out)


@builtin("run!", arglists="([f coll])",
         doc="Calls (f item) for each item, for effects; returns nil.",
         category="sequences")
def run_bang(f: Any, coll: Any) -> None:
    for x in _reduce_source(coll):
        f(x)


@builtin("doall", arglists="([coll])", doc="Realises a lazy seq fully and returns it.",
         category="sequences")
def doall(coll: Any) -> Any:
    if type(coll) is LazySeq:
        coll.realized()
    return coll


@builtin("dorun", arglists="([coll])", doc="Realises a lazy seq fully; returns nil.",
         category="sequences")
def dorun(coll: Any) -> None:
    doall(coll)
