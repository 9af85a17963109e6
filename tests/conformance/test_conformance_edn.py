"""The EDN reader and the Clojure-`=` comparison the conformance runner relies on."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from _edn import (
    Char,
    EdnError,
    EdnMap,
    EdnSet,
    Keyword,
    List,
    Regex,
    Symbol,
    Tagged,
    Vector,
    canonical,
    edn_equal,
    parse,
)
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("nil", None),
        ("true", True),
        ("false", False),
        ("42", 42),
        ("-7", -7),
        ("+3", 3),
        ("9999999999800000000001N", 9999999999800000000001),
        ("0x1F", 31),
        ("017", 15),
        ("2r101", 5),
        ("1/2", Fraction(1, 2)),
        ("-1/2", Fraction(-1, 2)),
        ("2.5", 2.5),
        ("-0.0", -0.0),
        ("1.0E10", 1.0e10),
        ("1.0E-4", 1.0e-4),
        ("1.5M", Decimal("1.5")),
        ("##Inf", math.inf),
        ("##-Inf", -math.inf),
        (":a", Keyword("a")),
        (":ns/k", Keyword("ns/k")),
        (":my-key?", Keyword("my-key?")),
        ("sym", Symbol("sym")),
        ("clojure.core/+", Symbol("clojure.core/+")),
        ("-", Symbol("-")),
        ("/", Symbol("/")),
    ],
)
def test_atoms(text, value):
    parsed = parse(text)
    assert parsed == value
    assert type(parsed) is type(value)


def test_nan():
    assert math.isnan(parse("##NaN"))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r'"plain"', "plain"),
        (r'"tab\there \"q\""', 'tab\there "q"'),
        (r'"a\\b\nc\r"', "a\\b\nc\r"),
        (r'"\u00e9\b\f"', "\u00e9\b\f"),
        (r'"\101"', "A"),
        ('"héllo ✓"', "héllo ✓"),
    ],
)
def test_strings(text, value):
    assert parse(text) == value


@pytest.mark.parametrize(
    ("text", "char"),
    [
        (r"\a", "a"),
        (r"\space", " "),
        (r"\newline", "\n"),
        (r"\tab", "\t"),
        (r"\return", "\r"),
        (r"\backspace", "\b"),
        (r"\formfeed", "\f"),
        (r"\u00e9", "é"),
        (r"\o101", "A"),
        ("\\\"", '"'),
        (r"\(", "("),
        (r"\\", "\\"),
        (r"\u", "u"),
    ],
)
def test_chars(text, char):
    parsed = parse(text)
    assert isinstance(parsed, Char) and parsed == char


def test_chars_inside_collections():
    assert parse(r"[\a \b \(]") == Vector((Char("a"), Char("b"), Char("(")))
    assert parse(r"(\h \e)") == List((Char("h"), Char("e")))


def test_collections():
    value = parse('{:a 1, :b [2 (3 #{4})] "s" nil}')
    assert isinstance(value, EdnMap)
    assert value == EdnMap(
        (
            (Keyword("a"), 1),
            (Keyword("b"), Vector((2, List((3, EdnSet((4,))))))),
            ("s", None),
        )
    )


def test_regex_keeps_its_source():
    assert parse(r'#"\d+\"x"') == Regex(r"\d+\"x")


def test_tagged_and_namespaced_maps():
    assert parse('#inst "2020-01-01"') == Tagged((Symbol("inst"), "2020-01-01"))
    assert parse("#:user{:id 1, :_/plain 2, :other/x 3}") == EdnMap(
        ((Keyword("user/id"), 1), (Keyword("plain"), 2), (Keyword("other/x"), 3))
    )


def test_whitespace_comments_and_discard():
    assert parse(" ,[1 ; comment\n #_ 2 3],\n") == Vector((1, 3))


@pytest.mark.parametrize(
    "text",
    ["", "(", "[1 2", "{:a}", ")", '"open', "1 2", r"\nosuchchar", "#", "##Foo", "1.2.3", ":"],
)
def test_rejects_malformed_text(text):
    with pytest.raises(EdnError):
        parse(text)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("[1 2]", "(1 2)"),
        ("{:a 1, :b 2}", "{:b 2 :a 1}"),
        ("#{1 3 2}", "#{3 2 1}"),
        ("{:a [1 (2)]}", "{:a (1 [2])}"),
        ("1", "1N"),
        ("##NaN", "##NaN"),
        ("0.0", "-0.0"),
        ("#{[1 2] {:a #{1}}}", "#{{:a #{1}} (1 2)}"),
        ("{[1 2] :v}", "{(1 2) :v}"),
        ("1.0E10", "10000000000.0"),
    ],
)
def test_clojure_equal(left, right):
    assert edn_equal(left, right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("1", "1.0"),
        ("1", "true"),
        ("0", "false"),
        ("nil", "false"),
        ("nil", "()"),
        ('\\a', '"a"'),
        (":a", '"a"'),
        (":a", "a"),
        ('"a"', "a"),
        ("[1 2]", "#{1 2}"),
        ("{:a 1}", "[[:a 1]]"),
        ("[1 2]", "[2 1]"),
        ("[1 2]", "[1 2 3]"),
        ("1/2", "0.5"),
        ("{:a 1}", "{:a 1.0}"),
        ("#{1}", "#{1.0}"),
        ("{1 :x}", "{true :x}"),
        ("#{nil}", "#{false}"),
    ],
)
def test_clojure_unequal(left, right):
    assert not edn_equal(left, right)


def test_canonical_is_hashable_for_nested_values():
    assert hash(canonical(parse("{#{[1]} {:a (1 2)}}")))


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.from_regex(r"[a-z][a-z0-9?!*-]{0,6}", fullmatch=True).map(Keyword),
    st.characters(blacklist_categories=("Cs",)).map(Char),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: Vector(xs)),
        st.lists(inner, max_size=4).map(lambda xs: List(xs)),
    ),
    max_leaves=12,
)


def _print(value) -> str:
    """A pr-str-like printer for the generated values (Clojure's escapes and char names)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Keyword):
        return ":" + value
    if isinstance(value, Char):
        names = {"\n": "newline", " ": "space", "\t": "tab", "\r": "return", "\b": "backspace",
                 "\f": "formfeed"}
        return "\\" + names.get(value, value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return '"' + escaped.replace("\t", "\\t").replace("\r", "\\r") + '"'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Vector):
        return "[" + " ".join(map(_print, value)) + "]"
    if isinstance(value, List):
        return "(" + ", ".join(map(_print, value)) + ")"
    return str(value)


@given(_values)
def test_printed_values_read_back_equal(value):
    assert canonical(parse(_print(value))) == canonical(value)
