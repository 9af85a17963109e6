"""Maps, vectors and sets: lookup and persistent update (assoc, update, merge, ...).

Updates never mutate their input: they copy (``Map(m)``, ``Vector(...)``) and change the copy.
Copies are charged at persistent-structure cost (see ``charge_copy``).
"""

from __future__ import annotations

from typing import Any

from .._errors import EvalError
from .._values.types import EMPTY_MAP, LazySeq, List, Map, Set, Vector
from ._registry import builtin
from ._support import char, charge_copy, charge_items, invalid_args, items, type_error, type_name

_ABSENT = object()

# ---------------------------------------------------------------- lookup


@builtin("get", arglists="([m k] [m k not-found])",
         doc="Value at key k of a map (index of a vector/string, member of a set), "
             "else not-found or nil.",
         category="maps")
def get(coll: Any, key: Any, default: Any = None) -> Any:
    if isinstance(coll, dict):
        return coll.get(key, default)
    t = type(coll)
    if t is Vector:
        if type(key) is int and 0 <= key < len(coll):
            return coll[key]
        return default
    if t is Set:
        return key if key in coll else default
    if t is str:
        if type(key) is int and 0 <= key < len(coll):
            return char(coll[key])
        return default
    return default


@builtin("get-in", arglists="([m ks] [m ks not-found])",
         doc="Value in nested maps/vectors at the key path ks, else not-found or nil.",
         category="maps")
def get_in(coll: Any, path: Any, default: Any = None) -> Any:
    for k in items(path, "get-in"):
        coll = get(coll, k, _ABSENT)
        if coll is _ABSENT:
            return default
    return coll


@builtin("contains?", arglists="([coll key])",
         doc="True if key is present in a map or set, or is a valid index of a vector/string.",
         category="maps")
def contains_p(coll: Any, key: Any) -> bool:
    if isinstance(coll, (dict, frozenset)):
        return key in coll
    t = type(coll)
    if t is Vector or t is str:
        return type(key) is int and 0 <= key < len(coll)
    if coll is None:
        return False
    type_error(f"contains? not supported on {type_name(coll)}",
               hint="contains? checks keys of maps/sets and indexes of vectors; "
               "use (some #{x} coll) to search a sequence")


@builtin("find", arglists="([m k])",
         doc="The [k v] entry for key k of a map (or index of a vector), or nil.",
         category="maps")
def find(coll: Any, key: Any) -> Any:
    if isinstance(coll, dict):
        return Vector((key, coll[key])) if key in coll else None
    if type(coll) is Vector:
        return Vector((key, coll[key])) if type(key) is int and 0 <= key < len(coll) else None
    if coll is None:
        return None
    type_error(f"find not supported on {type_name(coll)}",
               hint="find looks up a key; to search a sequence use (first (filter pred coll))")


@builtin("keys", arglists="([m])", doc="Seq of the keys of map m, or nil if it is empty.",
         category="maps")
def keys(m: Any) -> Any:
    if m is None:
        return None
    if not isinstance(m, dict):
        type_error(f"keys needs a map, got {type_name(m)}")
    if not m:
        return None
    charge_items(len(m))
    return List(m)


@builtin("vals", arglists="([m])", doc="Seq of the values of map m, or nil if it is empty.",
         category="maps")
def vals(m: Any) -> Any:
    if m is None:
        return None
    if not isinstance(m, dict):
        type_error(f"vals needs a map, got {type_name(m)}")
    if not m:
        return None
    charge_items(len(m))
    return List(m.values())


@builtin("key", arglists="([e])", doc="The key of a map entry [k v].", category="maps")
def key(entry: Any) -> Any:
    if isinstance(entry, tuple) and len(entry) == 2:
        return entry[0]
    type_error(f"key needs a map entry, got {type_name(entry)}")


@builtin("val", arglists="([e])", doc="The value of a map entry [k v].", category="maps")
def val(entry: Any) -> Any:
    if isinstance(entry, tuple) and len(entry) == 2:
        return entry[1]
    type_error(f"val needs a map entry, got {type_name(entry)}")


# ---------------------------------------------------------------- persistent update


def _assoc_vector(v: Vector, index: Any, value: Any) -> Vector:
    if type(index) is not int:
        type_error(f"assoc on a vector needs an integer index, got {type_name(index)}")
    n = len(v)
    if 0 <= index < n:
        charge_copy(n)
        return Vector((*v[:index], value, *v[index + 1:]))
    if index == n:
        charge_copy(n)
        return Vector((*v, value))
    raise EvalError(f"index {index} out of bounds for vector of {n}", code="index_out_of_bounds",
                    hint="assoc on a vector can replace an index or append at (count v)")


def _assoc1(coll: Any, k: Any, v: Any) -> Any:
    if coll is None:
        return Map({k: v})
    if isinstance(coll, dict):
        charge_copy(len(coll))
        out = Map(coll)
        out[k] = v
        return out
    if type(coll) is Vector:
        return _assoc_vector(coll, k, v)
    type_error(f"assoc not supported on {type_name(coll)}", hint="assoc works on maps and vectors")


@builtin("assoc", arglists="([m k v] [m k v & kvs])",
         doc="Map m with key k set to v (vector: index k replaced); m itself is unchanged.",
         category="maps")
def assoc(coll: Any, k: Any, v: Any, *kvs: Any) -> Any:
    if not kvs:
        return _assoc1(coll, k, v)
    if len(kvs) % 2:
        invalid_args("assoc expects an even number of keys and values")
    if coll is None or isinstance(coll, dict):
        charge_copy(len(coll or ()))
        out = Map(coll or ())
        out[k] = v
        for i in range(0, len(kvs), 2):
            out[kvs[i]] = kvs[i + 1]
        return out
    coll = _assoc1(coll, k, v)
    for i in range(0, len(kvs), 2):
        coll = _assoc1(coll, kvs[i], kvs[i + 1])
    return coll


def _path(path: Any, fname: str) -> tuple[Any, ...]:
    ks = items(path, fname)
    if not ks:
        invalid_args(f"{fname} needs a non-empty key path")
    return ks


@builtin("assoc-in", arglists="([m ks v])",
         doc="Nested map/vector with the value at key path ks set to v "
             "(missing levels become maps).",
         category="maps")
def assoc_in(coll: Any, path: Any, v: Any) -> Any:
    ks = _path(path, "assoc-in")

    def go(c: Any, i: int) -> Any:
        k = ks[i]
        if i == len(ks) - 1:
            return _assoc1(c, k, v)
        return _assoc1(c, k, go(get(c, k), i + 1))

    return go(coll, 0)


@builtin("update", arglists="([m k f & args])",
         doc="Map m with the value at k replaced by (f old-value & args).", category="maps")
def update(coll: Any, k: Any, f: Any, *args: Any) -> Any:
    return _assoc1(coll, k, f(get(coll, k), *args))


@builtin("update-in", arglists="([m ks f & args])",
         doc="Nested map with the value at key path ks replaced by (f old-value & args).",
         category="maps")
def update_in(coll: Any, path: Any, f: Any, *args: Any) -> Any:
    ks = _path(path, "update-in")

    def go(c: Any, i: int) -> Any:
        k = ks[i]
        if i == len(ks) - 1:
            return _assoc1(c, k, f(get(c, k), *args))
        return _assoc1(c, k, go(get(c, k), i + 1))

    return go(coll, 0)


@builtin("dissoc", arglists="([m] [m k & ks])", doc="Map m without the given keys.",
         category="maps")
def dissoc(coll: Any, *ks: Any) -> Any:
    if coll is None:
        return None
    if not isinstance(coll, dict):
        type_error(f"dissoc needs a map, got {type_name(coll)}")
    if not any(k in coll for k in ks):
        return coll
    charge_copy(len(coll))
    out = Map(coll)
    for k in ks:
        out.pop(k, None)
    return out


def _merge_into(out: dict[Any, Any], m: Any, fname: str) -> None:
    if isinstance(m, dict):
        out.update(m)
    elif type(m) is Vector and len(m) == 2:
        out[m[0]] = m[1]
    else:
        type_error(f"{fname}: expected a map, got {type_name(m)}")


@builtin("merge", arglists="([& maps])",
         doc="Map of all the maps' entries; later maps win on equal keys. nil maps are ignored.",
         category="maps")
def merge(*maps: Any) -> Any:
    present = [m for m in maps if m is not None]
    if not present:
        return None
    charge_items(sum(len(m) for m in present if isinstance(m, (dict, tuple))))
    out = Map()
    for m in present:
        _merge_into(out, m, "merge")
    return out


@builtin("merge-with", arglists="([f & maps])",
         doc="Like merge, but values of equal keys are combined with (f earlier later).",
         category="maps")
def merge_with(f: Any, *maps: Any) -> Any:
    present = [m for m in maps if m is not None]
    if not present:
        return None
    out = Map()
    for m in present:
        if not isinstance(m, dict):
            type_error(f"merge-with: expected a map, got {type_name(m)}")
        charge_items(len(m))
        for k, v in m.items():
            out[k] = f(out[k], v) if k in out else v
    return out


@builtin("select-keys", arglists="([m ks])",
         doc="Map of only the entries of m whose keys are in ks.",
         category="maps")
def select_keys(m: Any, ks: Any) -> Map:
    wanted = items(ks, "select-keys")
    if m is None:
        return EMPTY_MAP
    if type(m) is Vector:
        return Map((k, m[k]) for k in wanted if type(k) is int and 0 <= k < len(m))
    if not isinstance(m, dict):
        type_error(f"select-keys needs a map, got {type_name(m)}")
    charge_items(len(wanted))
    return Map((k, m[k]) for k in wanted if k in m)


@builtin("zipmap", arglists="([keys vals])",
         doc="Map pairing each key with the value at the same position.",
         category="maps")
def zipmap(ks: Any, vs: Any) -> Map:
    keys_ = items(ks, "zipmap")
    vals_ = items(vs, "zipmap") if type(vs) is not LazySeq else vs
    charge_items(2 * len(keys_))
    return Map(zip(keys_, vals_))


@builtin("update-vals", arglists="([m f])", doc="Map m with every value v replaced by (f v).",
         category="maps")
def update_vals(m: Any, f: Any) -> Map:
    if m is None:
        return EMPTY_MAP
    if not isinstance(m, dict):
        type_error(f"update-vals needs a map, got {type_name(m)}")
    charge_items(2 * len(m))
    return Map((k, f(v)) for k, v in m.items())


@builtin("update-keys", arglists="([m f])", doc="Map m with every key k replaced by (f k).",
         category="maps")
def update_keys(m: Any, f: Any) -> Map:
    if m is None:
        return EMPTY_MAP
    if not isinstance(m, dict):
        type_error(f"update-keys needs a map, got {type_name(m)}")
    charge_items(2 * len(m))
    return Map((f(k), v) for k, v in m.items())
