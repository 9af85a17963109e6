"""``decode(encode(v))`` gives back an equal value of the same types, through msgpack and JSON."""

import json
import math

import msgpack
from hypothesis import given
from hypothesis import strategies as st

from ptclisp._values.codec import decode, encode
from ptclisp._values.types import Char, Keyword, List, Map, Set, Symbol, Vector

names = st.from_regex(r"[a-z][a-z0-9\-?!]{0,8}", fullmatch=True)
atoms = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False),
    st.text(max_size=10),
    st.builds(Keyword, names),
    st.builds(lambda n, ns: Keyword(n, ns), names, names),
    st.builds(Symbol, names),
    st.builds(Char, st.characters(codec="utf-8")),
)
hashable = st.recursive(
    atoms, lambda inner: st.lists(inner, max_size=4).map(Vector), max_leaves=8
)
values = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(Vector),
        st.lists(inner, max_size=4).map(List),
        st.dictionaries(hashable, inner, max_size=4).map(Map),
        st.frozensets(hashable, max_size=4).map(Set),
    ),
    max_leaves=20,
)


def same(a, b):
    """Equal and of the same type, all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, tuple):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


@given(values)
def test_msgpack_round_trip(value):
    assert same(decode(msgpack.unpackb(msgpack.packb(encode(value)), raw=False)), value)


@given(values)
def test_json_round_trip(value):
    assert same(decode(json.loads(json.dumps(encode(value)))), value)
