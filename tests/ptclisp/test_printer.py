"""The printer (``ptclisp._printer``): golden cases against Clojure's pr-str / str / print."""

import math

import pytest

from ptclisp._errors import LimitExceeded
from ptclisp._limits import Limits, Meter, use_meter
from ptclisp._reader.reader import read_string
from ptclisp._values.codec import OpaqueFunction
from ptclisp._values.printer import float_str, pr_str, print_str, str_value
from ptclisp._values.regex import compile_regex
from ptclisp._values.types import Char, Keyword, LazySeq, List, Map, Set, Symbol, Vector

K = Keyword


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1.0"),
        (0.001, "0.001"),
        (1.0e-4, "1.0E-4"),
        (12345678.0, "1.2345678E7"),
        (100.0, "100.0"),
        (1.0e7, "1.0E7"),
        (9999999.0, "9999999.0"),
        (1.0e10, "1.0E10"),
        (1.0e-5, "1.0E-5"),
        (0.1, "0.1"),
        (-2.5e-3, "-0.0025"),
        (123456.789, "123456.789"),
        (1.5e300, "1.5E300"),
        (-1.0e21, "-1.0E21"),
        (5e-324, "4.9E-324"),
        (1.7976931348623157e308, "1.7976931348623157E308"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (math.inf, "##Inf"),
        (-math.inf, "##-Inf"),
        (math.nan, "##NaN"),
    ],
)
def test_floats_print_like_java(value, expected):
    assert pr_str(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(math.inf, "Infinity"), (-math.inf, "-Infinity"), (math.nan, "NaN"), (1e10, "1.0E10")],
)
def test_str_of_floats_uses_java_to_string(value, expected):
    assert str_value(value) == expected
    assert float_str(value, readably=False) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "nil"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-7, "-7"),
        (2**70, "1180591620717411303424"),
        ("a\nb", '"a\\nb"'),
        ('say "hi" \\ \t \r', '"say \\"hi\\" \\\\ \\t \\r"'),
        ("\f\b", '"\\f\\b"'),
        ("ünï 😀", '"ünï 😀"'),
        (Char("a"), "\\a"),
        (Char("\n"), "\\newline"),
        (Char(" "), "\\space"),
        (Char("\t"), "\\tab"),
        (Char("\r"), "\\return"),
        (Char("\b"), "\\backspace"),
        (Char("\f"), "\\formfeed"),
        (Char("\\"), "\\\\"),
        (Char("\xa0"), "\\u00A0"),
        (Char("\x00"), "\\u0000"),
        (Char("é"), "\\é"),
        (Char(","), "\\,"),
        (Char("("), "\\("),
        (K("a"), ":a"),
        (K("b", "ns"), ":ns/b"),
        (Symbol("x"), "x"),
        (Symbol("join", "clojure.string"), "clojure.string/join"),
        (Vector([1, 2]), "[1 2]"),
        (Vector(), "[]"),
        (List([1, 2]), "(1 2)"),
        (List(), "()"),
        (Map({K("a"): 1, K("b"): 2}), "{:a 1, :b 2}"),
        (Map({K("a"): 1, K("b"): "x"}), '{:a 1, :b "x"}'),
        (Map(), "{}"),
        (Set([1]), "#{1}"),
        (Set([3, 1, 2]), "#{1 2 3}"),
        (Set(), "#{}"),
        (Set([K("b"), K("a"), "s"]), '#{"s" :a :b}'),
        (LazySeq(iter([1, 2, 3])), "(1 2 3)"),
        (LazySeq(iter([])), "()"),
        (
            Map({K("a"): Vector([List([1, Map({"k": Set([None])})]), Char("c")])}),
            '{:a [(1 {"k" #{nil}}) \\c]}',
        ),
        (compile_regex(r"\d+"), '#"\\d+"'),
        (OpaqueFunction("#function[helper]"), "#function[helper]"),
    ],
)
def test_pr_str_golden(value, expected):
    assert pr_str(value) == expected


def test_functions_print_with_their_name():
    def total(xs):
        return xs

    assert pr_str(total) == "#function[total]"
    assert pr_str(lambda x: x) == "#function[fn]"
    assert pr_str(Vector([total])) == "[#function[total]]"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "nil"),
        ("a", "a"),
        (Vector(["a", Char("b"), K("c")]), "[a b :c]"),
        (Map({"k": "v\nw"}), "{k v\nw}"),
        (List([None, 1.5]), "(nil 1.5)"),
        (compile_regex("a+"), '#"a+"'),
    ],
)
def test_print_str_writes_strings_and_chars_raw(value, expected):
    assert print_str(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("a", "a"),
        (Char("x"), "x"),
        (K("k"), ":k"),
        (Symbol("s"), "s"),
        (1, "1"),
        (1.0, "1.0"),
        (Vector(["a", Char("b")]), '["a" \\b]'),
        (List([None]), "(nil)"),
        (compile_regex("a+"), "a+"),
    ],
)
def test_str_value_golden(value, expected):
    assert str_value(value) == expected


def test_deeply_nested_values_print_without_recursion():
    value = Vector()
    for _ in range(10_000):
        value = Vector([value])
    text = pr_str(value)
    assert text == "[" * 10_001 + "]" * 10_001
    nested_sets = Set()
    for _ in range(2_000):
        nested_sets = Set([nested_sets])
    assert pr_str(nested_sets) == "#{" * 2_001 + "}" * 2_001


def test_huge_integers_print_and_read_back():
    big = -(7**30_000)  # ~25,000 digits: past Python's 4300-digit str() guard
    text = pr_str(big)
    assert text.startswith("-") and len(text) > 25_000
    assert read_string(text) == big


def test_printing_charges_the_meter():
    meter = Meter(Limits())
    with use_meter(meter):
        pr_str(Vector(range(1000)))
    assert meter.steps >= 1000 and meter.memory >= 2890  # every digit is charged


def test_printing_an_endless_lazy_seq_hits_a_limit():
    import itertools

    meter = Meter(Limits(max_steps=50_000))
    with use_meter(meter), pytest.raises(LimitExceeded) as info:
        pr_str(Vector([LazySeq(itertools.count())]))
    assert info.value.code in {"step_limit", "memory_limit"}


def test_printing_a_huge_value_hits_the_memory_limit():
    meter = Meter(Limits(max_memory=100_000))
    with use_meter(meter), pytest.raises(LimitExceeded) as info:
        pr_str(Vector(["x" * 1000] * 1000))
    assert info.value.code == "memory_limit"


def test_no_meter_means_no_charging():
    assert pr_str(Vector(range(5000))).startswith("[0 1 2")
