"""Reader/printer properties: ``read_string(pr_str(v)) == v`` with types kept, and no input makes
the reader fail with anything but a ``ReadError``."""

import math

import hy.models as m
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptclisp._errors import ReadError
from ptclisp._reader.reader import read_all, read_forms, read_string
from ptclisp._values.printer import pr_str, print_str, str_value
from ptclisp._values.types import (
    Char,
    Keyword,
    LazySeq,
    List,
    Map,
    Regex,
    Set,
    Symbol,
    Vector,
    equals,
)

# ---------------------------------------------------------------- value generators

_SYMBOL_START = "a-zA-Z*!_?$%&=<>.|"
_SYMBOL_REST = _SYMBOL_START + "0-9+\\-'#"
symbol_names = st.one_of(
    st.from_regex(rf"[{_SYMBOL_START}][{_SYMBOL_REST}]{{0,8}}", fullmatch=True),
    st.from_regex(r"[+\-]([a-z][a-z0-9]{0,4})?", fullmatch=True),  # + - +a -x1: not numbers
    st.text(st.characters(categories=("L",)), min_size=1, max_size=6),  # any letters: é, 名
).filter(lambda name: name not in {"nil", "true", "false"})
keyword_names = st.one_of(
    symbol_names,
    st.from_regex(r"[0-9][a-z0-9]{0,4}", fullmatch=True),  # :1 :2b are keywords in Clojure
)

atoms = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**200), max_value=2**200),  # beyond 64 bits (and see below)
    st.floats(allow_nan=False),  # ##Inf and ##-Inf included; NaN has its own test
    st.text(),
    st.text(alphabet='"\\\n\t\r\x08\x0c\x00 ,;#()[]{}\'`~@^:%'),  # escapes and syntax chars
    st.builds(Char, st.characters(codec="utf-8")),  # no lone surrogates: Clojure cannot read them either
    st.builds(Keyword, keyword_names),
    st.builds(Keyword, keyword_names, symbol_names),
    st.builds(Symbol, symbol_names),
    st.builds(Symbol, symbol_names, symbol_names),
)
hashable = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(Vector), st.lists(inner, max_size=3).map(List)
    ),
    max_leaves=4,
)
values = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5).map(Vector),
        st.lists(inner, max_size=5).map(List),
        st.dictionaries(hashable, inner, max_size=4).map(Map),
        st.frozensets(hashable, max_size=4).map(Set),
    ),
    max_leaves=15,
)


def same(a, b):
    """Clojure-equal and of the same type all the way down (NaN equals NaN here)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return (a == b and math.copysign(1, a) == math.copysign(1, b)) or (a != a and b != b)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a) and all(
            same(ka, kb) for ka, kb in zip(a, b)
        )
    if isinstance(a, frozenset):
        return len(a) == len(b) and all(any(same(x, y) for y in b) for x in a)
    return equals(a, b)


# ---------------------------------------------------------------- round trips


@given(values)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_read_string_of_pr_str_gives_the_value_back(value):
    printed = pr_str(value)
    back = read_string(printed)
    assert equals(back, value) or _has_nan(value)
    assert same(back, value), printed


@given(st.lists(values, max_size=3))
@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
def test_several_printed_values_read_back_in_order(items):
    text = " ".join(pr_str(v) for v in items)
    back = read_all(text)
    assert len(back) == len(items) and all(map(same, back, items))


@given(st.integers(min_value=4300, max_value=20_000), st.booleans())
@settings(max_examples=10, deadline=None)
def test_integers_past_pythons_digit_guard_round_trip(digits, negative):
    value = (-1 if negative else 1) * (10 ** (digits - 1) + 7 ** (digits // 2))
    assert read_string(pr_str(Vector([value]))) == Vector([value])


def test_nan_round_trips_as_nan():
    value = read_string(pr_str(Vector([math.nan, math.inf, -math.inf])))
    assert math.isnan(value[0]) and value[1:] == (math.inf, -math.inf)


def test_lazy_seq_prints_as_a_list():
    assert same(read_string(pr_str(LazySeq(iter([1, "a"])))), List([1, "a"]))


def test_regex_round_trips():
    from ptclisp._values.regex import compile_regex

    back = read_string(pr_str(compile_regex(r"\d+\s")))
    assert type(back) is Regex and back.source == r"\d+\s"
    # a bare " cannot stand in #"..."; it is printed escaped, which matches the same text
    back = read_string(pr_str(compile_regex(r'a"b\\"')))
    assert back.source == r'a\"b\\\"'
    assert back.pattern.fullmatch('a"b\\"')


@given(values)
@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
def test_print_and_str_never_crash(value):
    assert isinstance(print_str(value), str)
    assert isinstance(str_value(value), str)


def _has_nan(value):
    if type(value) is float:
        return value != value
    if isinstance(value, dict):
        return any(_has_nan(k) or _has_nan(v) for k, v in value.items())
    if isinstance(value, (tuple, frozenset)):
        return any(map(_has_nan, value))
    return False


# ---------------------------------------------------------------- the reader never crashes

_TOKENS = [
    "(", ")", "[", "]", "{", "}", "#{", "#(", "#_", "#'", "'", "#", "##", "##Inf", "##NaN",
    "#\"", '"', "\\", "\\a", "\\newline", "\\u00", "\\uD800", ":", "::a", ":a/b", "/", "a/",
    "%", "%1", "%&", "%x", "1", "-5", "+", "1.5", "1e", "1e3", "0x", "0x1F", "08", "1N", "1.5M",
    "1/0", "1/2", "2r", "99r1", "nil", "true", "a.b", "tool/x", ",", ";", "\n", " ", "@", "^",
    "`", "~", '"\\q"', '"\\u12"', '"ok"', "#foo", "#!", "#?(", "#:a{", "é", "😀", "\x00",
    "\ud800", "\\\ud800", '"\\uDC00"', "#\"[\"", "#\"(a\"",
]


def _reads_or_read_error(text):
    try:
        forms = read_forms(text)
    except ReadError as err:
        assert err.code == "parse_error" and err.line is not None and err.hint
        return
    _check_positions(forms, text)
    values_read = read_all(text)  # whatever reads converts to values
    for value in values_read:
        printed = pr_str(value)
        assert same(read_string(printed), value) or _has_nan(value), printed
    assert len(values_read) == len(forms)


def _check_positions(forms, text):
    """Every form has a position inside the text; atoms' positions point at their own text."""
    lines = text.split("\n")
    stack = list(forms)
    while stack:
        form = stack.pop()
        line, column = form.start_line, form.start_column
        assert 1 <= line <= len(lines) and 1 <= column <= len(lines[line - 1]), (form, line, column)
        at = lines[line - 1][column - 1 :]
        if isinstance(form, m.Keyword):
            assert at.startswith(":" + form.name)
        elif isinstance(form, m.Symbol) and str(form) not in {"quote", "var", "fn", "&"}:
            assert at.startswith((str(form), "%", "#("))
        elif isinstance(form, m.Sequence):
            assert at[:1] in "([{#'" and (form.end_line, form.end_column) >= (line, column)
            stack.extend(form)


@given(st.text(max_size=200))
@settings(max_examples=400)
def test_random_text_reads_or_raises_read_error(text):
    _reads_or_read_error(text)


@given(st.binary(max_size=200), st.sampled_from(["utf-8", "latin-1", "utf-16"]))
@settings(max_examples=200)
def test_random_bytes_decoded_read_or_raise_read_error(data, encoding):
    _reads_or_read_error(data.decode(encoding, errors="surrogateescape" if encoding == "utf-8"
                                     else "replace"))


@given(st.lists(st.sampled_from(_TOKENS), max_size=40), st.sampled_from(["", " ", "\n"]))
@settings(max_examples=400)
def test_token_soup_reads_or_raises_read_error(tokens, separator):
    _reads_or_read_error(separator.join(tokens))


@given(values)
@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
def test_mangled_printed_values_read_or_raise_read_error(value):
    printed = pr_str(value)
    for cut in {len(printed) // 3, len(printed) // 2, len(printed) - 1}:
        _reads_or_read_error(printed[:cut])
        _reads_or_read_error(printed[cut:])
