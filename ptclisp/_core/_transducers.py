"""Transducers: ``(map f)``, ``(filter p)``, ``(take n)``, ... and into/transduce/sequence.

A transducer is a function from a reducing function ``rf`` to a new reducing function, where a
reducing function has three arities: ``(rf)`` init, ``(rf acc)`` completion and ``(rf acc x)``
step. They compose with ``comp`` (left to right over the data), as in Clojure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._errors import EvalError
from .._limits import current_meter
from .._values.types import LazySeq, List, Vector
from ._registry import builtin
from ._support import Reduced, charge_items, items, metered

Rf = Callable[..., Any]
Xf = Callable[[Rf], Rf]


def _stepper(make_step: Callable[[Rf], Callable[[Any, Any], Any]]) -> Xf:
    """A transducer from a factory of its 2-arity step (init/completion pass through)."""

    def transducer(rf: Rf) -> Rf:
        step2 = make_step(rf)

        def step(*args: Any) -> Any:
            if len(args) == 2:
                return step2(args[0], args[1])
            return rf(*args)

        return step

    return transducer


def map_xf(f: Any) -> Xf:
    return _stepper(lambda rf: lambda acc, x: rf(acc, f(x)))


def filter_xf(pred: Any) -> Xf:
    def make(rf: Rf) -> Callable[[Any, Any], Any]:
        def step(acc: Any, x: Any) -> Any:
            r = pred(x)
            return acc if r is None or r is False else rf(acc, x)

        return step

    return _stepper(make)


def remove_xf(pred: Any) -> Xf:
    def make(rf: Rf) -> Callable[[Any, Any], Any]:
        def step(acc: Any, x: Any) -> Any:
            r = pred(x)
            return rf(acc, x) if r is None or r is False else acc

        return step

    return _stepper(make)


def keep_xf(f: Any) -> Xf:
    def make(rf: Rf) -> Callable[[Any, Any], Any]:
        def step(acc: Any, x: Any) -> Any:
            r = f(x)
            return acc if r is None else rf(acc, r)

        return step

    return _stepper(make)


def indexed_xf(f: Any, keep_only: bool) -> Xf:
    def make(rf: Rf) -> Callable[[Any, Any], Any]:
        index = [0]

        def step(acc: Any, x: Any) -> Any:
            r = f(index[0], x)
            index[0] += 1
            return acc if keep_only and r is None else rf(acc, r)

        return step

    return _stepper(make)


def take_xf(n: int) -> Xf:
    def make(rf: Rf) -> Callable[[Any, Any], Any]:
        remaining = [n]

        def step(acc: Any, x: Any) -> Any:
            if remaining[0] <= 0:
                return Reduced(acc)
            remaining[0] -= 1
            acc = rf(acc, x)
            if remaining[0] <= 0 and type(acc) is not Reduced:
                return Reduced(acc)
            return acc

        return step

    return _stepper(make)


def drop_xf(n: int) -> Xf:
    def make(rf: Rf) -> Callable[[Any, Any], Any]:
        remaining = [n]

        def step(acc: Any, x: Any) -> Any:
            if remaining[0] > 0:
                remaining[0] -= 1
                return acc
            return rf(acc, x)

        return step

    return _stepper(make)


def take_while_xf(pred: Any) -> Xf:
    def make(rf: Rf) -> Callable[[Any, Any], Any]:
        def step(acc: Any, x: Any) -> Any:
            r = pred(x)
            return Reduced(acc) if r is None or r is False else rf(acc, x)

        return step

    return _stepper(make)


def drop_while_xf(pred: Any) -> Xf:
    def make(rf: Rf) -> Callable[[Any, Any], Any]:
        dropping = [True]

        def step(acc: Any, x: Any) -> Any:
            if dropping[0]:
                r = pred(x)
                if r is not None and r is not False:
                    return acc
                dropping[0] = False
            return rf(acc, x)

        return step

    return _stepper(make)


def cat_rf(rf: Rf) -> Rf:
    def step(*args: Any) -> Any:
        if len(args) != 2:
            return rf(*args)
        acc = args[0]
        for y in items(args[1], "cat"):
            acc = rf(acc, y)
            if type(acc) is Reduced:
                return acc
        return acc

    return step


builtin("cat", arglists="([rf])", doc="Transducer concatenating the collections it receives.",
        category="sequences")(cat_rf)


def mapcat_xf(f: Any) -> Xf:
    return lambda rf: map_xf(f)(cat_rf(rf))


def distinct_xf() -> Xf:
    def make(rf: Rf) -> Callable[[Any, Any], Any]:
        seen: set[Any] = set()

        def step(acc: Any, x: Any) -> Any:
            if x in seen:
                return acc
            seen.add(x)
            return rf(acc, x)

        return step

    return _stepper(make)


def dedupe_xf() -> Xf:
    from .._values.types import equals

    def make(rf: Rf) -> Callable[[Any, Any], Any]:
        previous: list[Any] = []

        def step(acc: Any, x: Any) -> Any:
            if previous and equals(previous[0], x):
                return acc
            previous[:] = [x]
            return rf(acc, x)

        return step

    return _stepper(make)


def interpose_xf(sep: Any) -> Xf:
    def make(rf: Rf) -> Callable[[Any, Any], Any]:
        started = [False]

        def step(acc: Any, x: Any) -> Any:
            if started[0]:
                acc = rf(acc, sep)
                if type(acc) is Reduced:
                    return acc
            started[0] = True
            return rf(acc, x)

        return step

    return _stepper(make)


def _grouping(make_split: Callable[[], Callable[[list[Any], Any], bool]], size: int = 0) -> Xf:
    """A transducer emitting vectors of buffered items (partition-all, partition-by): a group
    closes when ``split(buffer, x)`` says x starts a new one, or at ``size`` items; the last
    partial group is flushed on completion. State is per application, as in Clojure."""

    def transducer(rf: Rf) -> Rf:
        buffer: list[Any] = []
        split = make_split()

        def flush(acc: Any) -> Any:
            group = Vector(buffer)
            buffer.clear()
            charge_items(len(group))
            return rf(acc, group)

        def step(*args: Any) -> Any:
            if len(args) == 2:
                acc, x = args
                if split(buffer, x) and buffer:  # split sees every item (it tracks keys)
                    acc = flush(acc)
                    if type(acc) is Reduced:
                        return acc
                buffer.append(x)
                return flush(acc) if size and len(buffer) >= size else acc
            if len(args) == 1:
                acc = args[0]
                if buffer:
                    acc = flush(acc)
                    acc = acc.value if type(acc) is Reduced else acc
                return rf(acc)
            return rf()

        return step

    return transducer


def partition_all_xf(n: int) -> Xf:
    return _grouping(lambda: (lambda buf, x: False), size=max(1, n))


def partition_by_xf(f: Any) -> Xf:
    from .._values.types import equals

    def make_split() -> Callable[[list[Any], Any], bool]:
        last_key: list[Any] = []

        def split(buf: list[Any], x: Any) -> bool:
            k = f(x)
            changed = bool(last_key) and not equals(last_key[0], k)
            last_key[:] = [k]
            return changed

        return split

    return _grouping(make_split)


# ---------------------------------------------------------------- applying transducers


def _append(*args: Any) -> Any:
    if len(args) == 2:
        args[0].append(args[1])
        return args[0]
    return args[0] if args else []


def _source(coll: Any) -> Any:
    if type(coll) is LazySeq:
        return metered(coll)
    xs = items(coll, "transduce")
    current_meter().tick(1 + len(xs))
    return xs


def run_transducer(xform: Any, rf: Rf, init: Any, coll: Any) -> Any:
    """Reduce coll through xform into rf starting from init, then complete."""
    step = xform(rf)
    acc = init
    for x in _source(coll):
        acc = step(acc, x)
        if type(acc) is Reduced:
            acc = acc.value
            break
    return step(acc)


def collect(xform: Any, coll: Any) -> Any:
    """The items xform produces from coll, as a Python list (charged) — or the value a
    ``halt-when`` ended the reduction with."""
    out = run_transducer(xform, _append, [], coll)
    if type(out) is not list:
        return out
    charge_items(len(out))
    return out


@builtin("transduce", arglists="([xform f coll] [xform f init coll])",
         doc="reduce with (xform f): (transduce (map inc) + 0 [1 2]) is 5; init defaults to (f).",
         category="sequences")
def transduce(xform: Any, f: Any, *args: Any) -> Any:
    if len(args) == 1:
        init, coll = f(), args[0]
    elif len(args) == 2:
        init, coll = args
    else:
        raise TypeError(f"wrong number of arguments ({len(args) + 2}) passed to transduce")
    return run_transducer(xform, f, init, coll)


@builtin("sequence", arglists="([coll] [xform coll])",
         doc="A seq of the items of coll (passed through the transducer xform).",
         category="sequences")
def sequence(*args: Any) -> Any:
    if len(args) == 1:
        xs = items(args[0], "sequence")
        return xs if type(xs) is List else List(xs)
    if len(args) != 2:
        raise TypeError(f"wrong number of arguments ({len(args)}) passed to sequence")
    out = collect(args[0], args[1])
    if type(out) is not list:
        raise EvalError("sequence: a halt-when transducer cannot end a sequence",
                        code="invalid_args", hint="use (into [] xform coll) or transduce")
    return List(out)
