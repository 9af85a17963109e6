"""Function combinators.

identity constantly comp partial juxt complement fnil every-pred some-fn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._values.types import Vector
from ._registry import builtin
from ._support import invalid_args

Fn = Callable[..., Any]


@builtin("identity", arglists="([x])", doc="Returns x.", category="functions")
def identity(x: Any) -> Any:
    return x


@builtin("constantly", arglists="([x])", doc="A function that ignores its arguments and returns x.",
         category="functions")
def constantly(x: Any) -> Fn:
    def constant(*_: Any) -> Any:
        return x

    return constant


@builtin("comp", arglists="([] [f] [f g & fs])",
         doc="Composition right to left: ((comp f g) x) is (f (g x)); (comp) is identity.",
         category="functions")
def comp(*fns: Fn) -> Fn:
    if not fns:
        return identity
    if len(fns) == 1:
        return fns[0]
    *outer, inner = fns
    outer.reverse()

    def composed(*args: Any) -> Any:
        result = inner(*args)
        for f in outer:
            result = f(result)
        return result

    return composed


@builtin("partial", arglists="([f & args])",
         doc="A function calling f with args followed by its own arguments.", category="functions")
def partial(f: Fn, *fixed: Any) -> Fn:
    def partially_applied(*args: Any) -> Any:
        return f(*fixed, *args)

    return partially_applied


@builtin("juxt", arglists="([f & fs])",
         doc="A function returning the vector of each f applied to its arguments.",
         category="functions")
def juxt(f: Fn, *fns: Fn) -> Fn:
    all_fns = (f, *fns)

    def juxtaposed(*args: Any) -> Vector:
        return Vector([g(*args) for g in all_fns])

    return juxtaposed


@builtin("complement", arglists="([f])", doc="A function returning the boolean opposite of f.",
         category="functions")
def complement(f: Fn) -> Fn:
    def complemented(*args: Any) -> bool:
        r = f(*args)
        return r is None or r is False

    return complemented


@builtin("fnil", arglists="([f x] [f x y] [f x y z])",
         doc="A function like f that replaces a nil 1st (2nd, 3rd) argument with x (y, z).",
         category="functions")
def fnil(f: Fn, *defaults: Any) -> Fn:
    if not 1 <= len(defaults) <= 3:
        invalid_args("fnil takes a function and 1 to 3 default values")

    n = len(defaults)

    def patched(*args: Any) -> Any:
        if any(a is None for a in args[:n]):
            args = tuple(defaults[i] if i < n and a is None else a for i, a in enumerate(args))
        return f(*args)

    return patched


@builtin("every-pred", arglists="([p & ps])",
         doc="A predicate true when every p is truthy for every argument.", category="functions")
def every_pred(p: Fn, *ps: Fn) -> Fn:
    preds = (p, *ps)

    def all_hold(*args: Any) -> bool:
        for pred in preds:
            for x in args:
                r = pred(x)
                if r is None or r is False:
                    return False
        return True

    return all_hold


@builtin("some-fn", arglists="([p & ps])",
         doc="A function returning the first truthy (p arg) over all ps and arguments, "
             "else a falsy value.",
         category="functions")
def some_fn(p: Fn, *ps: Fn) -> Fn:
    preds = (p, *ps)
    # Clojure returns the last falsy value `or` saw for up to 3 preds and 3 args, else nil.
    or_semantics = len(preds) <= 3

    def first_truthy(*args: Any) -> Any:
        last: Any = None
        for pred in preds:
            for x in args[:3]:
                last = pred(x)
                if last is not None and last is not False:
                    return last
        for x in args[3:]:
            for pred in preds:
                r = pred(x)
                if r is not None and r is not False:
                    return r
            last = None
        return last if or_semantics else None

    return first_truthy
