"""clojure.core functions found missing by the coverage scan (docs/conformance.md).

Predicates for kinds ptclisp does not have (ratios, decimals, sorted collections, records)
answer as Clojure does for every value ptclisp can hold. Map entries are ``[k v]`` vectors, so
``map-entry?`` is true for any two-element vector (a documented deviation).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .._errors import EvalError
from .._limits import current_meter
from .._values.types import Keyword, LazySeq, Symbol, Vector
from ._numbers import _integer
from ._registry import builtin
from ._support import Reduced, truthy, type_name

__all__: list[str] = []


def _pred(name: str, test: Callable[[Any], bool], doc: str) -> None:
    builtin(name, arglists="([x])", doc=doc, category="predicates")(lambda x: bool(test(x)))


_NAMED = (Keyword, Symbol)
for _name, _test, _doc in (
    ("decimal?", lambda x: False, "True if x is a BigDecimal (ptclisp has none: always false)."),
    ("ratio?", lambda x: False, "True if x is a ratio (ptclisp has none: always false)."),
    ("rational?", lambda x: type(x) is int, "True if x is an integer (or ratio/decimal)."),
    ("indexed?", lambda x: type(x) is Vector, "True if x supports nth in constant time (vectors)."),
    ("reversible?", lambda x: type(x) is Vector, "True if rseq works on x (vectors)."),
    ("sorted?", lambda x: False, "True if x is a sorted collection (ptclisp has none)."),
    ("map-entry?", lambda x: type(x) is Vector and len(x) == 2,
     "True if x is a map entry: a [k v] vector."),
    ("record?", lambda x: False, "True if x is a record (ptclisp has none)."),
    ("uuid?", lambda x: False, "True if x is a UUID (ptclisp has none)."),
    ("inst?", lambda x: False, "True if x is an instant (ptclisp has none: times are data)."),
    ("ident?", lambda x: type(x) in _NAMED, "True if x is a keyword or symbol."),
    ("simple-ident?", lambda x: type(x) in _NAMED and x.ns is None,
     "True if x is a keyword or symbol without namespace."),
    ("qualified-ident?", lambda x: type(x) in _NAMED and x.ns is not None,
     "True if x is a keyword or symbol with a namespace."),
    ("simple-keyword?", lambda x: type(x) is Keyword and x.ns is None,
     "True if x is a keyword without namespace."),
    ("qualified-keyword?", lambda x: type(x) is Keyword and x.ns is not None,
     "True if x is a keyword with a namespace."),
    ("simple-symbol?", lambda x: type(x) is Symbol and x.ns is None,
     "True if x is a symbol without namespace."),
    ("qualified-symbol?", lambda x: type(x) is Symbol and x.ns is not None,
     "True if x is a symbol with a namespace."),
):
    _pred(_name, _test, _doc)


# ---------------------------------------------------------------- bits


def _bit_index(fname: str, n: Any) -> int:
    return _integer(fname, n) & 63  # as Java's long shifts: only the low 6 bits count


def _wrap64(n: int) -> int:
    return (n + 2**63) % 2**64 - 2**63


def _bit_fn(name: str, op: Callable[[int, int], Any], doc: str) -> None:
    def bit(x: Any, n: Any) -> Any:
        return op(_integer(name, x), _bit_index(name, n))

    builtin(name, arglists="([x n])", doc=doc, category="arithmetic")(bit)


_bit_fn("bit-set", lambda x, n: _wrap64(x | (1 << n)), "x with bit n set.")
_bit_fn("bit-clear", lambda x, n: _wrap64(x & ~(1 << n)), "x with bit n cleared.")
_bit_fn("bit-flip", lambda x, n: _wrap64(x ^ (1 << n)), "x with bit n flipped.")
_bit_fn("bit-test", lambda x, n: bool((x >> n) & 1), "True if bit n of x is set.")


@builtin("bit-and-not", arglists="([x y & more])", doc="Bitwise and of x with the complement "
         "of each of the others.", category="arithmetic")
def bit_and_not(x: Any, y: Any, *more: Any) -> int:
    acc = _integer("bit-and-not", x) & ~_integer("bit-and-not", y)
    for z in more:
        acc &= ~_integer("bit-and-not", z)
    return acc


@builtin("unsigned-bit-shift-right", arglists="([x n])",
         doc="Logical shift of the 64-bit x right by n bits (zeros shifted in).",
         category="arithmetic")
def unsigned_bit_shift_right(x: Any, n: Any) -> int:
    shift = _integer("unsigned-bit-shift-right", n) & 63
    return _wrap64((_integer("unsigned-bit-shift-right", x) & (2**64 - 1)) >> shift)


def _unchecked(name: str, op: Callable[..., int], arity: int) -> None:
    def fn(*args: Any) -> int:
        if len(args) != arity:
            raise EvalError(f"{name}: expected {arity} argument(s), got {len(args)}",
                            code="arity_error")
        return _wrap64(op(*(_integer(name, a) for a in args)))

    builtin(name, arglists="([x y])" if arity == 2 else "([x])",
            doc="Integer arithmetic wrapping around at 64 bits, as Java longs.",
            category="arithmetic")(fn)


for _name, _op, _arity in (
    ("unchecked-add", lambda a, b: a + b, 2), ("unchecked-subtract", lambda a, b: a - b, 2),
    ("unchecked-multiply", lambda a, b: a * b, 2), ("unchecked-inc", lambda a: a + 1, 1),
    ("unchecked-dec", lambda a: a - 1, 1), ("unchecked-negate", lambda a: -a, 1),
):
    _unchecked(_name, _op, _arity)


# ---------------------------------------------------------------- functions and reduction


@builtin("bounded-count", arglists="([n coll])",
         doc="The count of coll if counted, else of at most its first n items.",
         category="collections")
def bounded_count(n: Any, coll: Any) -> int:
    from ._seqs import count

    limit = _integer("bounded-count", n)
    if type(coll) is not LazySeq:
        return count(coll)
    seen = 0
    meter = current_meter()
    for _ in coll:
        if seen >= limit:
            break
        meter.tick()
        seen += 1
    return seen


@builtin("unreduced", arglists="([x])", doc="The value inside a reduced, else x.",
         category="sequences")
def unreduced(x: Any) -> Any:
    return x.value if type(x) is Reduced else x


@builtin("ensure-reduced", arglists="([x])", doc="x if it is reduced, else (reduced x).",
         category="sequences")
def ensure_reduced(x: Any) -> Reduced:
    return x if type(x) is Reduced else Reduced(x)


@builtin("completing", arglists="([f] [f cf])",
         doc="A reducing function from f whose 1-argument (completion) arity is cf "
             "(default identity).",
         category="sequences")
def completing(f: Any, cf: Any = None) -> Callable[..., Any]:
    def rf(*args: Any) -> Any:
        if len(args) == 0:
            return f()
        if len(args) == 1:
            return args[0] if cf is None else cf(args[0])
        return f(*args)

    return rf


@builtin("comparator", arglists="([pred])",
         doc="A comparator from a 2-argument predicate: -1 if (pred x y), 1 if (pred y x), else 0.",
         category="functions")
def comparator(pred: Any) -> Callable[[Any, Any], int]:
    def compare(x: Any, y: Any) -> int:
        if truthy(pred(x, y)):
            return -1
        return 1 if truthy(pred(y, x)) else 0

    return compare


@builtin("trampoline", arglists="([f & args])",
         doc="Calls f with args, then each function it returns with no args, until a "
             "non-function.",
         category="functions")
def trampoline(f: Any, *args: Any) -> Any:
    from ._predicates import fn_p

    meter = current_meter()
    value = f(*args)
    while fn_p(value):
        meter.tick()
        value = value()
    return value


@builtin("num", arglists="([x])", doc="x, which must be a number.", category="arithmetic")
def num(x: Any) -> Any:
    if type(x) is int or type(x) is float:
        return x
    raise EvalError(f"num: expected a number, got {type(x).__name__}", code="type_error")


def _ranged(name: str, lo: int, hi: int) -> None:
    def cast(x: Any) -> int:
        if type(x) is float and x == x and abs(x) != float("inf"):
            x = int(x)
        value = _integer(name, x)
        if not lo <= value <= hi:
            raise EvalError(f"Value out of range for {name}: {value}", code="invalid_args")
        return value

    builtin(name, arglists="([x])", doc=f"x as an integer in [{lo}, {hi}] (an error outside).",
            category="arithmetic")(cast)


_ranged("byte", -128, 127)
_ranged("short", -32768, 32767)


_BIGINT_TEXT = re.compile(r"[+-]?[0-9]{1,4000}")


@builtin("bigint", "biginteger", arglists="([x])",
         doc="x as an integer (integers have arbitrary size; a string is parsed).",
         category="arithmetic")
def bigint(x: Any) -> int:
    from ._numbers import to_int

    if type(x) is str:
        if _BIGINT_TEXT.fullmatch(x) is None:
            raise EvalError(f'bigint: for input string: "{x[:40]}"', code="invalid_args",
                            hint="pass decimal digits (at most 4000)")
        return int(x)
    return to_int(x)


@builtin("memoize", arglists="([f])",
         doc="A function like f that caches its result for each argument list.",
         category="functions")
def memoize(f: Any) -> Callable[..., Any]:
    cache: dict[tuple[Any, ...], Any] = {}

    def memoized(*args: Any) -> Any:
        try:
            return cache[args]
        except KeyError:
            pass
        except TypeError:  # an argument that cannot be a key: call through
            return f(*args)
        value = cache[args] = f(*args)
        current_meter().alloc(64 + 8 * len(args))
        return value

    return memoized


@builtin("replicate", arglists="([n x])", doc="Deprecated: (repeat n x).", category="sequences")
def replicate(n: Any, x: Any) -> Any:
    from ._generators import repeat

    return repeat(n, x)


@builtin("eduction", arglists="([xform* coll])",
         doc="The items of coll passed through the transducers (applied left to right).",
         category="sequences")
def eduction(*args: Any) -> Any:
    from ._functions import comp
    from ._transducers import sequence

    if not args:
        raise EvalError("eduction: expected transducers and a collection", code="arity_error")
    *xforms, coll = args
    if not xforms:
        return sequence(coll)
    return sequence(comp(*xforms) if len(xforms) > 1 else xforms[0], coll)


_ITERATION_KEYS = {"somef", "vf", "kf", "initk"}


@builtin("iteration", arglists="([step & {:keys [somef vf kf initk]}])",
         doc="Lazy seq of (vf ret) for ret = (step k), k from initk then (kf ret), while "
             "(somef ret) and k is not nil: paginated APIs.", category="sequences")
def iteration(step: Any, *options: Any) -> LazySeq:
    if len(options) % 2:
        raise EvalError("iteration: options come in :key value pairs", code="invalid_args",
                        hint="write (iteration step :kf :next-page :vf :items :initk 0)")
    opts = {}
    for key, value in zip(options[::2], options[1::2]):
        name = key.name if type(key) is Keyword else None
        if name not in _ITERATION_KEYS:
            raise EvalError(f"iteration: unknown option {key!r}", code="invalid_args",
                            hint="the options are :somef :vf :kf :initk")
        opts[name] = value
    for name, fn in (("step", step), *((k, opts.get(k)) for k in ("somef", "vf", "kf"))):
        if (fn is not None and not callable(fn)) or (name == "step" and fn is None):
            raise EvalError(f"iteration: {name} must be a function, got {type_name(fn)}",
                            code="type_error", hint="pass functions or keywords")
    somef = opts.get("somef") or (lambda r: r is not None)
    vf = opts.get("vf") or (lambda r: r)
    kf = opts.get("kf") or (lambda r: r)
    return LazySeq(_iterate_pages(step, somef, vf, kf, opts.get("initk")))


def _iterate_pages(step: Any, somef: Any, vf: Any, kf: Any, k: Any) -> Any:
    meter = current_meter()
    ret = step(k)
    while truthy(somef(ret)):
        meter.tick()
        meter.alloc(8)
        yield vf(ret)
        k = kf(ret)
        if k is None:
            return
        ret = step(k)


class _Halted:
    """The value halt-when stops a reduction with, unwrapped by its completion step."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


@builtin("halt-when", arglists="([pred] [pred retf])",
         doc="Transducer ending the reduction at the first input for which pred is truthy; the "
             "result is that input, or (retf result input).", category="sequences")
def halt_when(pred: Any, retf: Any = None) -> Callable[[Any], Any]:
    def transducer(rf: Any) -> Callable[..., Any]:
        def step(*args: Any) -> Any:
            if not args:
                return rf()
            if len(args) == 1:
                result = args[0]
                return result.value if type(result) is _Halted else rf(result)
            result, x = args
            if truthy(pred(x)):
                return Reduced(_Halted(x if retf is None else retf(rf(result), x)))
            return rf(result, x)

        return step

    return transducer


@builtin("sorted-set", arglists="([& keys])",
         doc="A set of the arguments; ptclisp's sets always iterate in sorted order.",
         category="sets")
def sorted_set(*keys: Any) -> Any:
    from ._building import hash_set

    for k in keys[1:]:
        _same_kind("sorted-set", keys[0], k)
    return hash_set(*keys)


def _same_kind(fname: str, a: Any, b: Any) -> None:
    from ._numbers import compare_values

    compare_values(a, b)  # raises type_error for values Clojure's compare cannot order
