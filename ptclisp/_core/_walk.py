"""``clojure.walk``: walk, prewalk, postwalk, keywordize-keys, stringify-keys, *-replace.

As Clojure 1.11's clojure.walk: lists stay lists, seqs become realised lists, vectors, maps and
sets are rebuilt with ``into (empty form)``; map entries are ``[k v]`` vectors. Every level is a
nested call on the meter (``depth_limit`` bounds deep data) and every node a step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._errors import EvalError
from .._limits import current_meter
from .._values.types import Keyword, LazySeq, List, Map, Set, Vector
from ._registry import builtin
from ._support import charge_items, type_name

__all__ = ["walk"]

Fn = Callable[[Any], Any]
_ALIASES = {"clojure.walk/": ("walk/", "w/")}


def _walk_fn(name: str, arglists: str, doc: str) -> Callable[[Any], Any]:
    aliases = tuple(p + name for p in _ALIASES["clojure.walk/"])
    return builtin("clojure.walk/" + name, *aliases, arglists=arglists, doc=doc,
                   category="walk")


def _map_of(pairs: list[Any]) -> Map:
    out: dict[Any, Any] = {}
    for pair in pairs:
        if type(pair) is not Vector or len(pair) != 2:
            raise EvalError(f"walk: a map entry must become a [key value] vector, got "
                            f"{type_name(pair)}", code="type_error",
                            hint="inside a map, return [k v] for each entry")
        out[pair[0]] = pair[1]
    return Map(out)


def walk(inner: Fn, outer: Fn, form: Any) -> Any:
    """One level of clojure.walk/walk."""
    t = type(form)
    if t is Vector or t is List or t is LazySeq or t is Map or t is Set:
        meter = current_meter()
        meter.enter()
        try:
            kids = form.realized() if t is LazySeq else (
                [Vector(kv) for kv in form.items()] if t is Map else form)
            charge_items(len(kids))
            done = [inner(x) for x in kids]
        finally:
            meter.leave()
        if t is Map:
            return outer(_map_of(done))
        if t is Set:
            return outer(Set(done))
        return outer(Vector(done) if t is Vector else List(done))
    return outer(form)


@_walk_fn("walk", "([inner outer form])",
          "Applies inner to each element of form, builds a form of the same kind, then outer.")
def walk_(inner: Any, outer: Any, form: Any) -> Any:
    return walk(inner, outer, form)


def _postwalk(f: Fn, form: Any) -> Any:
    return walk(lambda x: _postwalk(f, x), f, form)


def _prewalk(f: Fn, form: Any) -> Any:
    return walk(lambda x: _prewalk(f, x), _identity, f(form))


def _identity(x: Any) -> Any:
    return x


@_walk_fn("postwalk", "([f form])", "Depth-first, post-order: f is applied to each sub-form "
          "after its children.")
def postwalk(f: Any, form: Any) -> Any:
    return _postwalk(f, form)


@_walk_fn("prewalk", "([f form])", "Like postwalk, but pre-order: f is applied to each form "
          "before its children are walked.")
def prewalk(f: Any, form: Any) -> Any:
    return _prewalk(f, form)


def _replacer(smap: Any) -> Fn:
    if not isinstance(smap, dict):
        raise EvalError(f"walk replace: expected a map, got {type_name(smap)}", code="type_error")

    def replace(x: Any) -> Any:
        try:
            return smap.get(x, x)
        except TypeError:  # unhashable: cannot be a key
            return x

    return replace


@_walk_fn("prewalk-replace", "([smap form])",
          "form with every sub-form that is a key of smap replaced by its value (pre-order).")
def prewalk_replace(smap: Any, form: Any) -> Any:
    return _prewalk(_replacer(smap), form)


@_walk_fn("postwalk-replace", "([smap form])",
          "form with every sub-form that is a key of smap replaced by its value (post-order).")
def postwalk_replace(smap: Any, form: Any) -> Any:
    return _postwalk(_replacer(smap), form)


def _rekey(convert: Fn) -> Fn:
    def on_maps(x: Any) -> Any:
        if type(x) is Map:
            charge_items(len(x))
            return Map({convert(k): v for k, v in x.items()})
        return x

    return on_maps


def _keywordize(k: Any) -> Any:
    return Keyword.parse(k) if type(k) is str and k else k


def _stringify(k: Any) -> Any:
    return k.name if type(k) is Keyword else k


@_walk_fn("keywordize-keys", "([m])", "Nested maps with every string key made a keyword.")
def keywordize_keys(m: Any) -> Any:
    return _postwalk(_rekey(_keywordize), m)


@_walk_fn("stringify-keys", "([m])", "Nested maps with every keyword key made a string "
          "(its name, without namespace).")
def stringify_keys(m: Any) -> Any:
    return _postwalk(_rekey(_stringify), m)
