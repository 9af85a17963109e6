"""Value representation and Clojure equality (``ptclisp._values``)."""

import pytest

from ptclisp._errors import EvalError
from ptclisp._values.types import (
    Char,
    Keyword,
    LazySeq,
    List,
    Map,
    Set,
    Symbol,
    Vector,
    equals,
    from_python,
    to_python,
)


def test_keywords_are_interned_and_namespaced():
    assert Keyword("a") is Keyword("a")
    assert Keyword.parse("ns/a") is Keyword("a", "ns")
    assert Keyword.parse("ns/a").qualified == "ns/a"
    assert Keyword("a") is not Keyword("a", "ns")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (1, 1.0, False),
        (1, True, False),
        (0, False, False),
        (None, False, False),
        (Vector([1, 2]), List([1, 2]), True),
        (Vector([1]), Vector([1.0]), False),
        (Vector([1]), Vector([True]), False),
        (Map({Keyword("a"): Vector([1])}), Map({Keyword("a"): List([1])}), True),
        (Map({Keyword("a"): 1}), Map({Keyword("a"): 1.0}), False),
        (Set([1, 2]), Set([2, 1]), True),
        (Char("a"), "a", False),
        (Symbol("x"), Symbol("x"), True),
        (LazySeq(iter([1, 2])), Vector([1, 2]), True),
        (Vector([1, 2]), Set([1, 2]), False),
        ("1", 1, False),
    ],
)
def test_clojure_equality(a, b, expected):
    assert equals(a, b) is expected
    assert equals(b, a) is expected


def test_equal_sequentials_hash_alike():
    assert hash(Vector([1, 2])) == hash(List([1, 2]))
    assert hash(LazySeq([1, 2])) == hash(Vector([1, 2]))
    assert {Map({Keyword("a"): 1}): "x"}[Map({Keyword("a"): 1})] == "x"


def test_collections_are_callable():
    m = Map({Keyword("a"): 1})
    assert Keyword("a")(m) == 1
    assert Keyword("b")(m, "d") == "d"
    assert Keyword("a")(None) is None
    assert m(Keyword("a")) == 1
    assert Set([1])(1) == 1 and Set([1])(2) is None
    assert Vector([10, 20])(1) == 20
    with pytest.raises(EvalError) as info:
        Vector([10])(5)
    assert info.value.code == "index_out_of_bounds"


def test_lazy_seq_realises_once_and_caches():
    pulled = []

    def source():
        for i in range(3):
            pulled.append(i)
            yield i

    seq = LazySeq(source())
    assert next(iter(seq)) == 0
    assert pulled == [0]
    assert list(seq) == [0, 1, 2]
    assert list(seq) == [0, 1, 2]
    assert pulled == [0, 1, 2]


def test_host_data_round_trip():
    host = {"id": 1, "tags": ["a", "b"], "nested": {"x": None, "y": 2.5}, "ok": True}
    value = from_python(host)
    assert value[Keyword("tags")] == Vector(["a", "b"])
    assert type(value[Keyword("nested")]) is Map
    assert to_python(value) == host


def test_to_python_flattens_keywords_chars_sets():
    value = Map({Keyword("k", "ns"): Set([Char("c")]), "s": Keyword("v")})
    assert to_python(value) == {"ns/k": ["c"], "s": "v"}


def test_functions_cannot_go_to_the_host():
    with pytest.raises(TypeError):
        to_python(Vector([lambda x: x]))
    with pytest.raises(TypeError):
        from_python(object())
