"""``json_exact``: whether plain data crosses the wasm tier's JSON unchanged, decided without
decoding a copy (issue 11: the host held three copies of a big tool answer while checking it)."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp.sandbox._wire import json_exact

plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=4),
    max_leaves=25,
)
odd = st.recursive(
    st.none() | st.integers() | st.floats() | st.text(max_size=3) | st.binary(max_size=2),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner) | st.frozensets(st.integers(),
                                                                                 max_size=2)
    | st.dictionaries(st.one_of(st.text(max_size=2), st.integers(), st.booleans()), inner,
                      max_size=3),
    max_leaves=12,
)


def _round_trips(value: Any) -> bool:
    try:
        return bool(json.loads(json.dumps(value)) == value)
    except (TypeError, ValueError):
        return False


@settings(max_examples=300, deadline=None)
@given(plain)
def test_plain_json_data_is_exact(value: Any) -> None:
    assert json_exact(value)


@settings(max_examples=300, deadline=None)
@given(odd)
def test_exact_data_round_trips(value: Any) -> None:
    """Never exact where the round trip changes the data (tuples, sets, non-string keys, NaN,
    bytes); exact wherever the data holds only what JSON holds."""
    if json_exact(value):
        assert _round_trips(value)


def test_what_json_cannot_carry_is_not_exact() -> None:
    for value in [(1,), [1, (2,)], {1: "a"}, {"a": {True: 1}}, frozenset({1}), math.nan,
                  [math.inf], b"x", {"a": [b"x"]}, 10**5000, type("L", (list,), {})([1])]:
        assert not json_exact(value), value
    nested: Any = []
    for _ in range(100_000):
        nested = [nested]
    assert not json_exact(nested)  # too deep to encode: crosses tagged (or is refused)
    assert json_exact({"doc": "x" * 1000, "rows": [{"a": 1.5, "b": None}] * 3, "s": "\ud800"})


def test_msgpack_exact_refuses_what_comes_back_changed() -> None:
    """A tuple key came back a list (unhashable): the process tier failed a tool returning
    ``{(1, (2, 3)): 1}`` that the run in process converts."""
    from ptclisp.sandbox._wire import msgpack_exact, packb, unpackb

    for value in [{(1, (2, 3)): 1}, [(1, 2)], type("D", (dict,), {})(a=1)]:
        assert not msgpack_exact(value), value
    for value in [{"a": [1, "b", None, 1.5, True]}, {1: "a"}, "a\ud800b"]:
        assert msgpack_exact(value) and unpackb(packb(value)) == value
