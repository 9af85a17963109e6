"""Core library: arithmetic, comparison, compare, predicates, function combinators."""

from __future__ import annotations

import math
from typing import Any

import pytest
from core_support import K, V, _meter, call, code_of  # noqa: F401 - _meter is an autouse fixture
from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp._core import BUILTINS
from ptclisp._limits import Limits, Meter, use_meter
from ptclisp._values.types import Char, Keyword, List, Map, Set, Symbol, Vector


def test_arithmetic_identities_and_types() -> None:
    assert call("+") == 0 and call("*") == 1
    assert call("-", 10) == -10
    assert call("+", 1, 2.5) == 3.5
    assert call("/", 4, 2) == 2 and type(call("/", 4, 2)) is int
    assert call("/", 1, 2) == 0.5
    assert call("/", 10.0, 4) == 2.5
    assert call("/", 9, 3, 3) == 1
    assert call("/", 1.0, 0) == math.inf
    assert call("/", -1, 0.0) == -math.inf
    assert math.isnan(call("/", 0.0, 0))
    assert call("+", 9223372036854775807, 1) == 9223372036854775808  # promotes (deviation)


def test_quot_rem_mod_follow_clojure_signs() -> None:
    assert call("quot", 17, 5) == 3 and call("quot", -17, 5) == -3
    assert call("rem", -17, 5) == -2 and call("rem", 17, -5) == 2
    assert call("mod", -17, 5) == 3 and call("mod", 17, -5) == -3
    assert call("quot", 7.5, 2) == 3.0
    assert call("mod", -7, 2.0) == 1.0


@pytest.mark.parametrize("name", ["quot", "rem", "mod"])
def test_integer_division_by_zero(name: str) -> None:
    assert code_of(name, 5, 0) == "division_by_zero"


def test_division_by_integer_zero() -> None:
    assert code_of("/", 1, 0) == "division_by_zero"


@pytest.mark.parametrize("name", ["+", "-", "*", "/", "inc", "dec", "<", ">", "<=", ">=", "max", "min"])
def test_arithmetic_rejects_nil_and_non_numbers(name: str) -> None:
    args = (None,) if name in ("inc", "dec") else (1, None)
    assert code_of(name, *args) == "type_error"
    if name not in ("inc", "dec"):
        assert code_of(name, 1, "2") == "type_error"
        assert code_of(name, True, 1) == "type_error"


def test_min_max_ties_keep_later_argument() -> None:
    assert call("min", 1.0, 1) == 1 and type(call("min", 1.0, 1)) is int
    assert call("max", 1, 2.5) == 2.5
    assert math.isnan(call("max", 1, math.nan))


def test_comparisons() -> None:
    assert call("<", 1, 2, 3) is True and call("<", 1, 3, 2) is False
    assert call("<", 1) is True
    assert call("=", 1, 1.0) is False and call("==", 1, 1.0) is True
    assert call("=", V(1, V(2)), List((1, List((2,))))) is True
    assert call("not=", Map({K("a"): 1}), Map({K("a"): 2})) is True
    assert code_of("==", K("a"), K("a")) == "type_error"


def test_compare_orders_like_clojure() -> None:
    cmp = BUILTINS["compare"]
    assert cmp(3, 7) == -1 and cmp(7, 3) == 1 and cmp(1, 1.0) == 0
    assert cmp(None, 1) == -1 and cmp(1, None) == 1 and cmp(None, None) == 0
    assert cmp("a", "c") == -2  # Java String.compareTo difference
    assert cmp("ab", "abcd") == -2
    assert cmp(K("a"), K("b")) == -1
    assert cmp(K("b"), Keyword("a", "ns")) == -1  # no namespace sorts first
    assert cmp(V(1, 2), V(1, 2, 3)) == -1  # shorter vector first
    assert cmp(V(1, 3), V(1, 2)) == 1
    assert cmp(False, True) == -1
    assert cmp(Char("a"), Char("c")) == -2
    assert code_of("compare", 1, "a") == "type_error"
    assert code_of("compare", Map(), Map()) == "type_error"


def test_numeric_predicates() -> None:
    assert call("zero?", 0.0) and call("pos?", 1) and call("neg?", -0.5)
    assert call("even?", 2) and call("odd?", -3)
    assert code_of("even?", 1.0) == "type_error"
    assert code_of("zero?", None) == "type_error"


def test_coercions_and_math() -> None:
    assert call("int", 3.9) == 3 and call("int", -3.9) == -3 and call("int", Char("A")) == 65
    assert call("int", math.nan) == 0
    assert code_of("int", math.inf) == "invalid_args"
    assert call("double", 3) == 3.0 and type(call("double", 3)) is float
    assert call("Math/floor", 3.7) == 3.0 and call("floor", -0.5) == -1.0
    assert call("Math/ceil", 1.2) == 2.0
    assert call("Math/round", 2.5) == 3 and call("Math/round", -2.5) == -2
    assert call("Math/sqrt", 16) == 4.0 and math.isnan(call("sqrt", -1))
    assert call("Math/pow", 2, 10) == 1024.0
    assert call("Math/abs", -3) == 3 and call("abs", -2.5) == 2.5
    assert call("bit-and", 12, 10) == 8 and call("bit-shift-left", 1, 10) == 1024


def test_type_predicates() -> None:
    assert call("nil?", None) and call("some?", 0) and not call("some?", None)
    assert call("string?", "a") and not call("string?", Char("a"))
    assert call("char?", Char("a"))
    assert call("keyword?", K("a")) and call("symbol?", Symbol("a"))
    assert call("number?", 1.5) and not call("number?", True)
    assert call("integer?", 1) and not call("integer?", 1.0) and call("float?", 1.0)
    assert call("map?", Map()) and call("vector?", V()) and call("set?", Set())
    assert call("list?", List()) and call("seq?", List()) and not call("seq?", V())
    assert call("coll?", V()) and not call("coll?", "a")
    assert call("sequential?", V()) and not call("sequential?", Set())
    assert call("fn?", BUILTINS["inc"]) and not call("fn?", K("a")) and call("ifn?", K("a"))
    assert call("boolean", 0) is True and call("not", None) is True
    assert call("true?", True) and not call("true?", 1)


def test_function_combinators() -> None:
    inc, even = BUILTINS["inc"], BUILTINS["even?"]
    assert call("comp", BUILTINS["str"], inc)(1) == "2"
    assert call("comp")(7) == 7
    assert call("partial", BUILTINS["+"], 1, 2)(3) == 6
    assert call("juxt", K("a"), K("b"))(Map({K("a"): 1, K("b"): 2})) == V(1, 2)
    assert call("complement", even)(3) is True
    assert call("constantly", 5)(1, 2) == 5
    assert call("fnil", BUILTINS["+"], 0, 10)(None, None) == 10
    assert call("fnil", BUILTINS["str"], "none")(None) == "none"
    assert code_of("fnil", inc) == "invalid_args"
    assert call("every-pred", even, BUILTINS["pos?"])(2, 4) is True
    assert call("every-pred", even, BUILTINS["pos?"])(-2) is False
    assert call("some-fn", K("a"), K("b"))(Map({K("b"): 2})) == 2
    assert call("some-fn", even, BUILTINS["neg?"])(3) is False  # the last falsy value, as Clojure
    assert call("identity", V(1)) == V(1)


ints = st.integers(min_value=-10**6, max_value=10**6)
nonzero = ints.filter(lambda n: n != 0)


@settings(max_examples=100, deadline=None)
@given(a=ints, b=nonzero)
def test_quot_rem_identity(a: int, b: int) -> None:
    with use_meter(Meter(Limits())):
        q, r = call("quot", a, b), call("rem", a, b)
        assert q * b + r == a
        assert abs(r) < abs(b) and (r == 0 or (r < 0) == (a < 0))
        m = call("mod", a, b)
        assert (m - r) % b == 0 and (m == 0 or (m < 0) == (b < 0))


@settings(max_examples=100, deadline=None)
@given(xs=st.lists(st.one_of(ints, st.floats(allow_nan=False, allow_infinity=False)), max_size=20))
def test_sort_agrees_with_python_on_numbers(xs: list[Any]) -> None:
    with use_meter(Meter(Limits())):
        assert list(call("sort", Vector(xs))) == sorted(xs)
        assert call("reduce", BUILTINS["+"], 0, Vector(xs)) == _sequential_sum(xs)


def _sequential_sum(xs: list[Any]) -> Any:
    total: Any = 0
    for x in xs:
        total += x
    return total
