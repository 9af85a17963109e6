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


# ---------------------------------------------------------------- tables (the ~rows tag)

row_atoms = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                      st.floats(allow_nan=False), st.text(max_size=5),
                      st.builds(Keyword, names), st.lists(st.integers(), max_size=2).map(Vector))
row_keys = st.one_of(st.builds(Keyword, names), st.builds(lambda n, ns: Keyword(n, ns), names,
                                                          names), st.integers(0, 3))


@given(st.lists(row_keys, max_size=4, unique=True),
       st.lists(st.lists(row_atoms, min_size=4, max_size=4), max_size=5),
       st.booleans())
def test_tables_round_trip(keys, rows, shuffle):
    table = Vector(Map(zip(keys, row)) for row in rows)
    if shuffle and len(table) > 1 and len(keys) > 1:  # a row with the keys in another order
        table = Vector([*table[:-1], Map(reversed(list(table[-1].items())))])
    encoded = encode(table)
    assert same(decode(msgpack.unpackb(msgpack.packb(encoded), raw=False)), table)
    assert same(decode(json.loads(json.dumps(encoded))), table)


def test_a_table_of_plain_rows_takes_the_rows_tag():
    table = Vector(Map({Keyword("id"): i, Keyword("n", "x"): "a", Keyword("f"): 1.0})
                   for i in range(3))
    encoded = encode(table)
    assert list(encoded) == ["~rows"] and encoded["~rows"][0] == ["id", "x/n", "f"]
    assert same(decode(encoded), table)
    assert "~rows" not in encode(Vector([Map({Keyword("a"): 2**64}), Map({Keyword("a"): 1})]))


def test_malformed_rows_are_rejected():
    import pytest

    for body in [None, [], [["a"]], [["a"], [1]], [["a"], [1], [1, 2]], [[1], [1], [2]],
                 [["a", "a"], [1, 2], [3, 4]], [["a"], [[1]], [2]], [["a"], [{"~k": "x"}], [2]],
                 [["a"], "x", "y"], "rows"]:
        with pytest.raises(ValueError):
            decode({"~rows": body})
