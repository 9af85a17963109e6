"""Core library: maps, vectors, sets — lookup, persistent update, construction, immutability."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from core_support import K, L, V, _meter, call  # noqa: F401 - _meter is an autouse fixture
from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp._core import BUILTINS
from ptclisp._errors import EvalError
from ptclisp._limits import Limits, Meter, use_meter
from ptclisp._values.types import List, Map, Set, Vector

inc, plus = BUILTINS["inc"], BUILTINS["+"]


def test_get_and_get_in() -> None:
    m = Map({K("a"): Map({K("b"): V(10, 20)})})
    assert call("get", m, K("a")) == Map({K("b"): V(10, 20)})
    assert call("get", m, K("x"), 7) == 7
    assert call("get", V(1, 2), 1) == 2
    assert call("get", V(1, 2), 5) is None
    assert call("get", Set({1}), 1) == 1
    assert call("get", "abc", 1) is not None
    assert call("get", None, K("a")) is None
    assert call("get", 42, K("a")) is None
    assert call("get-in", m, V(K("a"), K("b"), 1)) == 20
    assert call("get-in", m, V(K("a"), K("x")), K("none")) == K("none")
    assert call("get-in", m, V()) == m


def test_contains_find_keys_vals() -> None:
    m = Map({K("a"): None})
    assert call("contains?", m, K("a")) is True
    assert call("contains?", V(1, 2), 1) is True  # index, as Clojure
    assert call("contains?", V(1, 2), 2) is False
    assert call("contains?", None, 1) is False
    with pytest.raises(EvalError) as e:
        call("contains?", L(1), 1)
    assert e.value.code == "type_error"
    assert call("find", m, K("a")) == V(K("a"), None)
    assert call("find", m, K("b")) is None
    assert call("find", V(10, 20), 1) == V(1, 20)
    assert call("keys", Map({K("a"): 1, K("b"): 2})) == L(K("a"), K("b"))
    assert call("keys", Map()) is None
    assert call("vals", Map()) is None
    assert call("vals", Map({K("a"): 1})) == L(1)


def test_assoc_family() -> None:
    m = Map({K("a"): 1})
    assert call("assoc", m, K("b"), 2) == Map({K("a"): 1, K("b"): 2})
    assert call("assoc", m, K("a"), 9, K("c"), 3) == Map({K("a"): 9, K("c"): 3})
    assert call("assoc", None, K("a"), 1) == Map({K("a"): 1})
    assert call("assoc", V(1, 2, 3), 1, K("x")) == V(1, K("x"), 3)
    assert call("assoc", V(1, 2), 2, 3) == V(1, 2, 3)
    with pytest.raises(EvalError) as e:
        call("assoc", V(1, 2), 5, K("x"))
    assert e.value.code == "index_out_of_bounds"
    with pytest.raises(EvalError) as e:
        call("assoc", m, K("a"), 1, K("b"))
    assert e.value.code == "invalid_args"
    nested = Map({K("u"): Map({K("age"): 3})})
    assert call("assoc-in", nested, V(K("u"), K("name")), "Bo") == Map(
        {K("u"): Map({K("age"): 3, K("name"): "Bo"})})
    assert call("assoc-in", None, V(K("a"), K("b")), 1) == Map({K("a"): Map({K("b"): 1})})
    assert call("update", Map({K("n"): 1}), K("n"), plus, 10, 100) == Map({K("n"): 111})
    assert call("update", Map(), K("n"), call("fnil", inc, 0)) == Map({K("n"): 1})
    assert call("update-in", Map({K("a"): V(1, 2)}), V(K("a"), 1), inc) == Map({K("a"): V(1, 3)})
    assert call("dissoc", Map({K("a"): 1, K("b"): 2}), K("a")) == Map({K("b"): 2})
    assert call("dissoc", None, K("a")) is None


def test_merge_select_zip_update_vals() -> None:
    assert call("merge", Map({K("a"): 1}), None, Map({K("a"): 2, K("b"): 3})) == Map(
        {K("a"): 2, K("b"): 3})
    assert call("merge") is None
    assert call("merge-with", plus, Map({K("a"): 1}), Map({K("a"): 2})) == Map({K("a"): 3})
    assert call("select-keys", Map({K("a"): 1, K("b"): 2}), V(K("a"), K("z"))) == Map({K("a"): 1})
    assert call("zipmap", V(K("a"), K("b")), call("range")) == Map({K("a"): 0, K("b"): 1})
    assert call("update-vals", Map({K("a"): 1}), inc) == Map({K("a"): 2})
    assert call("update-keys", Map({K("a"): 1}), BUILTINS["name"]) == Map({"a": 1})
    acc = call("reduce-kv", lambda m, k, v: call("assoc", m, v, k), Map(), Map({K("a"): 1}))
    assert acc == Map({1: K("a")})


def test_conj_into_by_collection_kind() -> None:
    assert call("conj", V(1, 2), 3, 4) == V(1, 2, 3, 4)
    assert call("conj", L(1, 2), 3) == L(3, 1, 2)
    assert call("conj", None, 1, 2) == L(2, 1)
    assert call("conj", Set({1}), 2) == Set({1, 2})
    assert call("conj", Map({K("a"): 1}), V(K("b"), 2)) == Map({K("a"): 1, K("b"): 2})
    assert call("conj") == V()
    assert call("into", V(1), V(2, 3)) == V(1, 2, 3)
    assert call("into", Map(), V(V(K("a"), 1), V(K("b"), 2))) == Map({K("a"): 1, K("b"): 2})
    assert call("into", L(), V(1, 2, 3)) == L(3, 2, 1)
    assert call("into", V(), None) == V()
    assert call("into", Set(), V(1, 2, 2)) == Set({1, 2})
    with pytest.raises(EvalError) as e:
        call("into", Map(), V(1))
    assert e.value.code == "type_error"


def test_constructors() -> None:
    assert call("vector", 1, 2) == V(1, 2) and type(call("vector")) is Vector
    assert call("vec", None) == V()
    assert call("vec", Map({K("a"): 1})) == V(V(K("a"), 1))
    assert call("list", 1, 2) == L(1, 2)
    assert call("hash-map", K("a"), 1) == Map({K("a"): 1})
    assert call("array-map", K("a"), 1) == Map({K("a"): 1})
    with pytest.raises(EvalError):
        call("hash-map", K("a"))
    assert call("hash-set", 1, 1, 2) == Set({1, 2})
    assert call("set", V(1, 2, 1)) == Set({1, 2})
    assert call("disj", Set({1, 2, 3}), 2, 3) == Set({1})
    assert call("empty", V(1)) == V()
    assert call("empty", None) is None
    assert call("not-empty", V()) is None
    assert call("not-empty", V(1)) == V(1)


def test_stack_functions() -> None:
    assert call("peek", V(1, 2, 3)) == 3
    assert call("peek", L(1, 2, 3)) == 1
    assert call("pop", V(1, 2, 3)) == V(1, 2)
    assert call("pop", L(1, 2, 3)) == L(2, 3)
    with pytest.raises(EvalError):
        call("pop", V())
    assert call("subvec", V(1, 2, 3, 4), 1, 3) == V(2, 3)
    with pytest.raises(EvalError) as e:
        call("subvec", V(1, 2), 1, 5)
    assert e.value.code == "index_out_of_bounds"


# ---------------------------------------------------------------- immutability


def _inputs() -> dict[str, Any]:
    return {
        "v": V(1, 2, 3),
        "m": Map({K("a"): 1, K("b"): Map({K("c"): V(1)})}),
        "s": Set({1, 2}),
        "l": L(1, 2),
    }


UPDATES = [
    ("assoc", lambda d: (d["m"], K("a"), 9)),
    ("assoc", lambda d: (d["v"], 0, 9)),
    ("assoc-in", lambda d: (d["m"], V(K("b"), K("c"), 0), 9)),
    ("update", lambda d: (d["m"], K("a"), inc)),
    ("update-in", lambda d: (d["m"], V(K("b"), K("c"), 0), inc)),
    ("dissoc", lambda d: (d["m"], K("a"))),
    ("conj", lambda d: (d["v"], 4)),
    ("conj", lambda d: (d["s"], 3)),
    ("conj", lambda d: (d["m"], V(K("z"), 1))),
    ("into", lambda d: (d["v"], d["l"])),
    ("merge", lambda d: (d["m"], Map({K("a"): 0}))),
    ("disj", lambda d: (d["s"], 1)),
    ("pop", lambda d: (d["v"],)),
    ("sort", lambda d: (BUILTINS[">"], d["v"])),
    ("reverse", lambda d: (d["v"],)),
    ("update-vals", lambda d: (d["m"], BUILTINS["identity"])),
    ("select-keys", lambda d: (d["m"], V(K("a")))),
]


@pytest.mark.parametrize(("name", "make_args"), UPDATES, ids=[u[0] for u in UPDATES])
def test_updates_never_mutate_their_inputs(name: str, make_args: Any) -> None:
    inputs = _inputs()
    snapshot = copy.deepcopy(dict(inputs))
    call(name, *make_args(inputs))
    for key, value in inputs.items():
        assert value == snapshot[key] and len(value) == len(snapshot[key]), key


keys = st.sampled_from([K("a"), K("b"), K("c"), "x", 1])
maps = st.dictionaries(keys, st.integers(), max_size=5).map(Map)


@settings(max_examples=60, deadline=None)
@given(m=maps, k=keys, v=st.integers())
def test_assoc_dissoc_properties(m: Map, k: Any, v: int) -> None:
    with use_meter(Meter(Limits())):
        before = dict(m)
        added = call("assoc", m, k, v)
        assert call("get", added, k) == v
        assert dict(m) == before
        removed = call("dissoc", added, k)
        assert call("contains?", removed, k) is False
        assert len(removed) == len(m) - (1 if k in m else 0)


@settings(max_examples=60, deadline=None)
@given(xs=st.lists(st.integers(), max_size=30))
def test_conj_vector_appends_and_into_list_prepends(xs: list[int]) -> None:
    with use_meter(Meter(Limits())):
        v = Vector(xs)
        assert call("conj", v, 99) == Vector([*xs, 99])
        assert call("into", List(), v) == List(reversed(xs))
        assert call("vec", call("reverse", v)) == Vector(reversed(xs))
