"""clojure.set: union, intersection, difference, subset?, superset?, select, project, rename-keys,
rename, index, map-invert, join. Relations are sets (or seqs) of maps."""

from __future__ import annotations

from typing import Any

from .._values.types import EMPTY_SET, Map, Set, Vector
from ._colls import select_keys
from ._registry import builtin
from ._support import charge_items, items, truthy, type_error, type_name


def _set(fname: str, s: Any) -> frozenset[Any]:
    if s is None:
        return EMPTY_SET
    if isinstance(s, frozenset):
        return s
    type_error(f"{fname}: expected a set, got {type_name(s)}", hint="convert with (set coll)")


def _set_fn(fname: str, arglists: str, doc: str) -> Any:
    return builtin(f"clojure.set/{fname}", arglists=arglists, doc=doc, category="sets")


@_set_fn("union", "([] [s1] [s1 s2 & sets])", "Set of the items in any of the sets.")
def union(*sets: Any) -> Set:
    parts = [_set("union", s) for s in sets]
    charge_items(sum(map(len, parts)))
    return Set(frozenset().union(*parts))


@_set_fn("intersection", "([s1] [s1 s2 & sets])", "Set of the items in all of the sets.")
def intersection(s1: Any, *sets: Any) -> Set:
    first = _set("intersection", s1)
    charge_items(len(first))
    return Set(first.intersection(*(_set("intersection", s) for s in sets)))


@_set_fn("difference", "([s1] [s1 s2 & sets])",
         "Set of the items of s1 that are in none of the others.")
def difference(s1: Any, *sets: Any) -> Set:
    first = _set("difference", s1)
    charge_items(len(first))
    return Set(first.difference(*(_set("difference", s) for s in sets)))


@_set_fn("subset?", "([s1 s2])", "True if every item of s1 is in s2.")
def subset_p(s1: Any, s2: Any) -> bool:
    return _set("subset?", s1) <= _set("subset?", s2)


@_set_fn("superset?", "([s1 s2])", "True if every item of s2 is in s1.")
def superset_p(s1: Any, s2: Any) -> bool:
    return _set("superset?", s1) >= _set("superset?", s2)


@_set_fn("select", "([pred s])", "Set of the items of s for which pred is truthy.")
def select(pred: Any, s: Any) -> Set:
    xs = _set("select", s)
    charge_items(len(xs))
    return Set(x for x in xs if truthy(pred(x)))


@_set_fn("project", "([xrel ks])", "Set of the maps of xrel restricted to the keys ks.")
def project(xrel: Any, ks: Any) -> Set:
    rows = items(xrel, "project")
    charge_items(len(rows))
    return Set(select_keys(row, ks) for row in rows)


@_set_fn("rename-keys", "([m kmap])", "Map m with each key k renamed to (kmap k).")
def rename_keys(m: Any, kmap: Any) -> Any:
    if m is None:
        return None
    if not isinstance(m, dict) or not isinstance(kmap, dict):
        type_error("rename-keys needs a map and a map of old key → new key")
    charge_items(len(m))
    out = Map((k, v) for k, v in m.items() if k not in kmap)
    for old, new in kmap.items():
        if old in m:
            out[new] = m[old]
    return out


@_set_fn("rename", "([xrel kmap])", "Set of the maps of xrel with keys renamed by kmap.")
def rename(xrel: Any, kmap: Any) -> Set:
    return Set(rename_keys(row, kmap) for row in items(xrel, "rename"))


@_set_fn("index", "([xrel ks])",
         "Map from each distinct (select-keys row ks) to the set of rows with it.")
def index(xrel: Any, ks: Any) -> Map:
    groups: dict[Any, set[Any]] = {}
    rows = items(xrel, "index")
    charge_items(2 * len(rows))
    for row in rows:
        groups.setdefault(select_keys(row, ks), set()).add(row)
    return Map((k, Set(v)) for k, v in groups.items())


@_set_fn("map-invert", "([m])", "Map from each value of m to its key.")
def map_invert(m: Any) -> Map:
    if m is None:
        return Map()
    if not isinstance(m, dict):
        type_error(f"map-invert needs a map, got {type_name(m)}")
    charge_items(len(m))
    return Map((v, k) for k, v in m.items())


@_set_fn("join", "([xrel yrel] [xrel yrel km])",
         "Set of the merged pairs of rows of xrel and yrel that agree on their shared keys "
         "(or on km).")
def join(xrel: Any, yrel: Any, km: Any = None) -> Set:
    xs, ys = items(xrel, "join"), items(yrel, "join")
    if not xs or not ys:
        return Set()
    if km is None:
        ks = Vector(set(xs[0]) & set(ys[0]))
        r, s = (xs, ys) if len(xs) <= len(ys) else (ys, xs)
        idx = index(r, ks)
        probe = (lambda row: select_keys(row, ks))
    else:
        r, s, k = (xs, ys, map_invert(km)) if len(xs) <= len(ys) else (ys, xs, km)
        idx = index(r, Vector(k.values()))
        probe = (lambda row: rename_keys(select_keys(row, Vector(k)), k))
    out: set[Any] = set()
    for row in s:
        for match in idx.get(probe(row), ()):
            merged = Map(match)
            merged.update(row)
            out.add(merged)
    charge_items(len(out))
    return Set(out)
