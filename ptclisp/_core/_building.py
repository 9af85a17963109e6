"""Building collections: conj, into, vector/list/map/set constructors, peek/pop/subvec.

Adding to a collection never mutates it: the result is a new tuple/dict/frozenset, charged at
persistent-structure cost (see ``charge_copy``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._errors import EvalError
from .._values.types import (
    EMPTY_LIST,
    EMPTY_MAP,
    EMPTY_SET,
    EMPTY_VECTOR,
    LazySeq,
    List,
    Map,
    Set,
    Vector,
)
from ._registry import builtin
from ._support import charge_copy, charge_items, invalid_args, items, type_error, type_name

# ---------------------------------------------------------------- conj / into


def _conj_map(out: dict[Any, Any], x: Any) -> None:
    if isinstance(x, dict):
        out.update(x)
    elif isinstance(x, tuple) and len(x) == 2:
        out[x[0]] = x[1]
    elif x is not None:
        type_error(f"can only add [key value] pairs or maps to a map, got {type_name(x)}",
                   hint="e.g. (conj {:a 1} [:b 2]) or (into {} [[:a 1] [:b 2]])")


def _add_all(coll: Any, xs: Iterable[Any], n: int, fname: str) -> Any:
    """Add the n items xs to coll as conj does (prepend for lists and seqs)."""
    t = type(coll)
    if t is Vector:
        charge_items(n)
        charge_copy(len(coll))
        return Vector((*coll, *xs))
    if coll is None or t is List or t is LazySeq:
        base = () if coll is None else items(coll, fname)
        charge_items(n)
        charge_copy(len(base))
        return List((*reversed(tuple(xs)), *base))
    if isinstance(coll, dict):
        charge_copy(len(coll))
        charge_items(2 * n)
        out = Map(coll)
        for x in xs:
            _conj_map(out, x)
        return out
    if isinstance(coll, frozenset):
        charge_copy(len(coll))
        charge_items(n)
        return Set(coll.union(xs))
    if isinstance(coll, tuple):
        return _add_all(Vector(coll), xs, n, fname)
    type_error(f"{fname} not supported on {type_name(coll)}")


@builtin("conj", arglists="([] [coll] [coll x & xs])",
         doc="coll with the items added: at the end of a vector, the front of a list/seq, "
             "into a map/set.",
         category="collections")
def conj(*args: Any) -> Any:
    if not args:
        return EMPTY_VECTOR
    coll, xs = args[0], args[1:]
    if not xs:
        return coll
    return _add_all(coll, xs, len(xs), "conj")


@builtin("into", arglists="([] [to] [to from] [to xform from])",
         doc="Collection to with all the items of from added (as by conj).", category="collections")
def into(*args: Any) -> Any:
    if not args:
        return EMPTY_VECTOR
    if len(args) == 1:
        return args[0]
    if len(args) == 3:
        from ._transducers import collect

        to, xform, frm = args
        xs: Any = collect(xform, frm)
        if type(xs) is not list:
            return xs  # a halt-when transducer ended the reduction with this value
    elif len(args) == 2:
        to, frm = args
        xs = items(frm, "into")
    else:
        raise TypeError(f"wrong number of arguments ({len(args)}) passed to into")
    if not xs:
        return to
    return _add_all(to, xs, len(xs), "into")


# ---------------------------------------------------------------- construction


@builtin("vector", arglists="([& xs])", doc="A vector of the arguments.", category="collections")
def vector(*xs: Any) -> Vector:
    charge_items(len(xs))
    return Vector(xs)


@builtin("vec", arglists="([coll])", doc="A vector of the items of coll.", category="collections")
def vec(coll: Any) -> Vector:
    if type(coll) is Vector:
        return coll
    xs = items(coll, "vec")
    charge_items(len(xs))
    return Vector(xs)


@builtin("list", arglists="([& xs])", doc="A list of the arguments.", category="collections")
def list_(*xs: Any) -> List:
    charge_items(len(xs))
    return List(xs)


@builtin("list*", arglists="([args] [x & args])",
         doc="A list of the arguments followed by the items of the last one.",
         category="collections")
def list_star(*args: Any) -> Any:
    if not args:
        raise TypeError("wrong number of arguments (0) passed to list*")
    tail = items(args[-1], "list*")
    charge_items(len(args) + len(tail))
    result = List((*args[:-1], *tail))
    return result if result else None


@builtin("hash-map", "array-map", arglists="([& kvs])",
         doc="A map of the alternating keys and values.",
         category="maps")
def hash_map(*kvs: Any) -> Map:
    if len(kvs) % 2:
        invalid_args("hash-map expects an even number of arguments (key value pairs)")
    charge_items(len(kvs))
    return Map(zip(kvs[0::2], kvs[1::2]))


@builtin("hash-set", arglists="([& xs])", doc="A set of the arguments.", category="sets")
def hash_set(*xs: Any) -> Set:
    charge_items(len(xs))
    return Set(xs)


@builtin("set", arglists="([coll])", doc="A set of the distinct items of coll.", category="sets")
def set_(coll: Any) -> Set:
    if type(coll) is Set:
        return coll
    xs = items(coll, "set")
    charge_items(len(xs))
    return Set(xs)


@builtin("disj", arglists="([s] [s x & xs])", doc="Set s without the given items.", category="sets")
def disj(s: Any, *xs: Any) -> Any:
    if s is None:
        return None
    if not isinstance(s, frozenset):
        type_error(f"disj needs a set, got {type_name(s)}")
    if not any(x in s for x in xs):
        return s
    charge_copy(len(s))
    return Set(s.difference(xs))


@builtin("empty", arglists="([coll])", doc="An empty collection of the same kind as coll, or nil.",
         category="collections")
def empty(coll: Any) -> Any:
    t = type(coll)
    if t is Vector:
        return EMPTY_VECTOR
    if isinstance(coll, dict):
        return EMPTY_MAP
    if isinstance(coll, frozenset):
        return EMPTY_SET
    if t is List or t is LazySeq:
        return EMPTY_LIST
    return None


@builtin("peek", arglists="([coll])", doc="Last item of a vector, first of a list; nil if empty.",
         category="collections")
def peek(coll: Any) -> Any:
    t = type(coll)
    if t is Vector:
        return coll[-1] if coll else None
    if t is List or t is LazySeq:
        return next(iter(coll), None)
    if coll is None:
        return None
    type_error(f"peek not supported on {type_name(coll)}")


@builtin("pop", arglists="([coll])", doc="Vector without its last item / list without its first.",
         category="collections")
def pop(coll: Any) -> Any:
    t = type(coll)
    if coll is None:
        return None
    if t is Vector or t is List:
        if not coll:
            raise EvalError("can't pop an empty collection", code="invalid_args",
                            hint="check (empty? coll) before pop")
        charge_copy(len(coll))
        return Vector(coll[:-1]) if t is Vector else List(coll[1:])
    type_error(f"pop not supported on {type_name(coll)}")


@builtin("subvec", arglists="([v start] [v start end])",
         doc="The part of vector v from start to end.",
         category="collections")
def subvec(v: Any, start: Any, end: Any = None) -> Vector:
    if type(v) is not Vector:
        type_error(f"subvec needs a vector, got {type_name(v)}")
    end = len(v) if end is None else end
    if type(start) is not int or type(end) is not int:
        type_error("subvec: start and end must be integers")
    if not 0 <= start <= end <= len(v):
        raise EvalError(f"subvec: [{start}, {end}) out of bounds for vector of {len(v)}",
                        code="index_out_of_bounds")
    charge_items(end - start)
    return Vector(v[start:end])
