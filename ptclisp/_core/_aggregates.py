"""Reference extensions: sum/avg aggregates, pluck, min-by/max-by, distinct-by and the predicate
builders where / all-of / any-of / none-of.

Fields are looked up flexibly: a keyword also finds the same-named string key and vice versa
(JSON data often arrives with string keys). Aggregates skip nil and missing fields; a present
non-numeric field is a type error. Inside ``where``, an ordering test on nil or mismatched
types is false rather than an error, so filtering incomplete records is safe.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

from .._values.types import Keyword, List, Symbol, Vector, equals
from ._numbers import compare_values
from ._registry import builtin
from ._support import apply_each, charge_items, invalid_args, items, type_error, type_name

_MISSING = object()
Getter = Callable[[Any], Any]


def _key_getter(key: Any) -> Getter:
    alt = key.qualified if type(key) is Keyword else Keyword.parse(key)

    def get(item: Any) -> Any:
        if isinstance(item, dict):
            v = item.get(key, _MISSING)
            if v is _MISSING:
                return item.get(alt)
            return v
        return None

    return get


def field_getter(fname: str, field: Any) -> Getter:
    """A keyword/string key, a vector path of keys, or any function, as a getter."""
    t = type(field)
    if t is Keyword or t is str:
        return _key_getter(field)
    if t is Vector:
        getters = [field_getter(fname, k) for k in field]

        def get_path(item: Any) -> Any:
            for g in getters:
                item = g(item)
                if item is None:
                    return None
            return item

        return get_path
    if callable(field):
        return field
    type_error(f"{fname}: expected a key, a key path or a function, got {type_name(field)}")


_NUMBER_TYPES = frozenset({int, float})
_NUMBER_OR_NIL = frozenset({int, float, type(None)})


def _numbers(fname: str, values: list[Any]) -> list[Any]:
    kinds = set(map(type, values))
    if kinds <= _NUMBER_TYPES:
        return values
    if kinds <= _NUMBER_OR_NIL:
        return [v for v in values if v is not None]
    out = []
    for v in values:
        if v is None:
            continue
        t = type(v)
        if t is not int and t is not float:
            type_error(f"{fname}: expected numbers, got a {type_name(v)}",
                       hint="aggregate only numeric fields; nil and missing fields are skipped")
        out.append(v)
    return out


def _sum(values: list[Any]) -> Any:
    # Sequential addition like (reduce + 0 xs); not sum(): Python 3.12 compensates floats.
    return functools.reduce(operator.add, values, 0)


@builtin("sum", arglists="([coll])", doc="Sum of the numbers in coll (nils skipped); 0 if none.",
         category="aggregates")
def sum_(coll: Any) -> Any:
    return _sum(_numbers("sum", list(items(coll, "sum"))))


@builtin("sum-by", arglists="([key coll])",
         doc="Sum of the key field (or fn result) over coll; nil and missing fields are skipped.",
         category="aggregates")
def sum_by(key: Any, coll: Any) -> Any:
    get = field_getter("sum-by", key)
    return _sum(_numbers("sum-by", apply_each(get, items(coll, "sum-by"))))


@builtin("avg", arglists="([coll])",
         doc="Mean of the numbers in coll as a float (nils skipped); nil if none.",
         category="aggregates")
def avg(coll: Any) -> Any:
    values = _numbers("avg", list(items(coll, "avg")))
    return _sum(values) / len(values) if values else None


@builtin("avg-by", arglists="([key coll])",
         doc="Mean of the key field over coll as a float, skipping nil/missing; nil if none.",
         category="aggregates")
def avg_by(key: Any, coll: Any) -> Any:
    get = field_getter("avg-by", key)
    values = _numbers("avg-by", apply_each(get, items(coll, "avg-by")))
    return _sum(values) / len(values) if values else None


def _extreme_by(fname: str, key: Any, args: tuple[Any, ...], sign: int) -> Any:
    get = field_getter(fname, key)
    candidates = items(args[0], fname) if len(args) == 1 else args
    best, best_key = None, None
    for item in candidates:
        k = get(item)
        if k is None:
            continue
        if best_key is None or compare_values(k, best_key) * sign < 0:
            best, best_key = item, k
    return best


@builtin("min-by", arglists="([key coll] [key x y & more])",
         doc="The item whose key field (or fn result) is least, skipping nil; nil if none.",
         category="aggregates")
def min_by(key: Any, *args: Any) -> Any:
    if not args:
        raise TypeError("wrong number of arguments (1) passed to min-by")
    return _extreme_by("min-by", key, args, 1)


@builtin("max-by", arglists="([key coll] [key x y & more])",
         doc="The item whose key field (or fn result) is greatest, skipping nil; nil if none.",
         category="aggregates")
def max_by(key: Any, *args: Any) -> Any:
    if not args:
        raise TypeError("wrong number of arguments (1) passed to max-by")
    return _extreme_by("max-by", key, args, -1)


@builtin("pluck", arglists="([key coll])", doc="Seq of the key field of each item: (map key coll).",
         category="aggregates")
def pluck(key: Any, coll: Any) -> List:
    get = field_getter("pluck", key)
    xs = items(coll, "pluck")
    charge_items(len(xs))
    return List(map(get, xs))


@builtin("distinct-by", arglists="([key coll])",
         doc="The items with distinct key fields (or fn results), first occurrence kept.",
         category="aggregates")
def distinct_by(key: Any, coll: Any) -> List:
    get = field_getter("distinct-by", key)
    xs = items(coll, "distinct-by")
    charge_items(len(xs))
    seen: set[Any] = set()
    out = []
    for x in xs:
        k = get(x)
        if k not in seen:
            seen.add(k)
            out.append(x)
    return List(out)


# ---------------------------------------------------------------- where


def _loose_equals(a: Any, b: Any) -> bool:
    """Clojure = plus keyword ↔ string coercion (:active matches "active")."""
    if equals(a, b):
        return True
    ta, tb = type(a), type(b)
    if ta is Keyword and tb is str:
        return a.qualified == b
    if ta is str and tb is Keyword:
        return a == b.qualified
    return False


def _ordered(test: Callable[[int], bool]) -> Callable[[Any, Any], bool]:
    def compare_field(v: Any, target: Any) -> bool:
        tv, tt = type(v), type(target)
        if (tv is int or tv is float) and (tt is int or tt is float):
            return test(0 if v == target else (-1 if v < target else 1))
        if tv is tt and tv is str:
            return test(compare_values(v, target))
        return False

    return compare_field


def _membership(values: Any) -> Callable[[Any], bool]:
    table: dict[Any, list[Any]] = {}
    for x in items(values, "where in"):
        table.setdefault(x, []).append(x)
        if type(x) is Keyword:
            table.setdefault(x.qualified, []).append(x)
        elif type(x) is str:
            table.setdefault(Keyword.parse(x), []).append(x)

    def member(v: Any) -> bool:
        try:
            candidates = table.get(v)
        except TypeError:
            return False
        return candidates is not None and any(_loose_equals(v, c) for c in candidates)

    return member


def _includes(v: Any, target: Any) -> bool:
    if type(v) is str:
        needle = target.qualified if type(target) is Keyword else target
        return type(needle) is str and needle in v
    if isinstance(v, (tuple, frozenset)):
        return any(_loose_equals(x, target) for x in v)
    if isinstance(v, dict):
        return target in v
    return False


_BINARY: dict[str, Callable[[Any, Any], bool]] = {
    "=": _loose_equals,
    "not=": lambda v, t: not _loose_equals(v, t),
    ">": _ordered(lambda c: c > 0),
    "<": _ordered(lambda c: c < 0),
    ">=": _ordered(lambda c: c >= 0),
    "<=": _ordered(lambda c: c <= 0),
    "includes": _includes,
}


def _op_name(op: Any) -> str | None:
    t = type(op)
    if t is str:
        return op
    if t is Keyword or t is Symbol:
        return op.name
    return getattr(op, "ptclisp_name", None)


def _condition(op: Any, target: Any) -> Callable[[Any], bool]:
    name = _op_name(op)
    if name == "in":
        return _membership(target)
    binary = _BINARY.get(name or "")
    if binary is not None:
        return lambda v: binary(v, target)
    if callable(op) and type(op) not in (Keyword, Symbol, str):
        return lambda v: (r := op(v, target)) is not None and r is not False
    invalid_args(f"where: unknown operator {name or type_name(op)}",
                 hint="operators: = not= > < >= <= in includes")


def _fast_equality(target: Any) -> Callable[[Any], bool] | None:
    """A direct test for (= field target) when target is atomic (the common case)."""
    t = type(target)
    if t is str:
        return lambda v: (type(v) is str and v == target) or (
            type(v) is Keyword and v.qualified == target)
    if t is Keyword:
        alt = target.qualified
        return lambda v: v is target or (type(v) is str and v == alt)
    if t is int or t is float:
        return lambda v: type(v) is t and v == target
    if target is None or t is bool:
        return lambda v: v is target
    return None


def _fused(field: Any, test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """field lookup + test in one closure for keyword/string fields (no per-item getter call)."""
    if type(field) not in (Keyword, str):
        get = field_getter("where", field)
        return lambda item: test(get(item))
    alt = field.qualified if type(field) is Keyword else Keyword.parse(field)

    def holds(item: Any) -> bool:
        if isinstance(item, dict):
            v = item.get(field, _MISSING)
            if v is _MISSING:
                v = item.get(alt)
            return test(v)
        return test(None)

    return holds


@builtin("where", arglists="([field] [field op value])",
         doc="Predicate on a map field (key or [:path :to]): (where :age > 18), "
             "(where :s :in [\"a\" \"b\"]), (where :active).",
         category="aggregates")
def where(field: Any, op: Any = _MISSING, value: Any = _MISSING) -> Callable[[Any], bool]:
    field_getter("where", field)  # validates the field early
    if op is _MISSING:
        return _fused(field, lambda v: v is not None and v is not False)
    if value is _MISSING:
        invalid_args("where takes (where field) or (where field op value)")
    name = _op_name(op)
    fast = _fast_equality(value) if name in ("=", "not=") else None
    if fast is not None:
        return _fused(field, fast if name == "=" else (lambda v: not fast(v)))
    return _fused(field, _condition(op, value))


@builtin("all-of", arglists="([& preds])",
         doc="Predicate true when every pred is truthy (true with no preds).",
         category="aggregates")
def all_of(*preds: Any) -> Callable[[Any], bool]:
    def all_hold(x: Any) -> bool:
        return all((r := p(x)) is not None and r is not False for p in preds)

    return all_hold


@builtin("any-of", arglists="([& preds])",
         doc="Predicate true when some pred is truthy (false with no preds).",
         category="aggregates")
def any_of(*preds: Any) -> Callable[[Any], bool]:
    def any_holds(x: Any) -> bool:
        return any((r := p(x)) is not None and r is not False for p in preds)

    return any_holds


@builtin("none-of", arglists="([& preds])", doc="Predicate true when no pred is truthy.",
         category="aggregates")
def none_of(*preds: Any) -> Callable[[Any], bool]:
    def none_holds(x: Any) -> bool:
        return not any((r := p(x)) is not None and r is not False for p in preds)

    return none_holds
