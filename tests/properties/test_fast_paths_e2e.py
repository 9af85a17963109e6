"""Issue 15's fast paths give the same values as the plain paths (hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import same

from ptclisp._values import types as T

atoms = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                  st.text(max_size=5))
keys = st.sampled_from(["a", "b", "ns/c", "d", "/", "x/", "e f"])
values = st.one_of(atoms, st.lists(atoms, max_size=2), st.dictionaries(keys, atoms, max_size=2))


def plain(obj: Any) -> Any:
    saved = T._flat_records
    T._flat_records = lambda *_: None  # type: ignore[assignment]
    try:
        return T.from_python(obj)
    finally:
        T._flat_records = saved  # type: ignore[assignment]


@settings(max_examples=200, deadline=None)
@given(st.lists(keys, max_size=4, unique=True), st.lists(st.lists(values, min_size=4,
                                                                   max_size=4), max_size=6))
def test_rows_of_one_shape_convert_as_the_plain_path(columns: list[str],
                                                     rows: list[list[Any]]) -> None:
    records = [dict(zip(columns, row)) for row in rows]
    assert same(T.from_python(records), plain(records))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.dictionaries(keys, values, max_size=3), atoms), max_size=5))
def test_mixed_lists_convert_as_the_plain_path(items: list[Any]) -> None:
    assert same(T.from_python(items), plain(items))


odd_keys = st.text(max_size=4) | st.sampled_from(["'", '"', "\\", "a'b\"c", "}", "{K0}", "\n"])


@settings(max_examples=200, deadline=None)
@given(st.lists(odd_keys, max_size=60, unique=True), st.integers(2, 5), st.randoms())
def test_rows_with_odd_keys_or_orders_convert_as_the_plain_path(
        columns: list[str], n: int, rnd: Any) -> None:
    """Any key text (it enters the generated builder as a literal), more keys than the
    builder inlines, and rows with the same keys in another order (each keeps its own)."""
    records = [{c: i * 10 + j for j, c in enumerate(columns)} for i in range(n)]
    assert same(T.from_python(records), plain(records))
    shuffled = list(columns)
    rnd.shuffle(shuffled)
    records.append({c: len(c) for c in shuffled})
    assert same(T.from_python(records), plain(records))


def test_records_with_a_non_string_key_or_unconvertible_value() -> None:
    assert same(T.from_python([{1: "a"}, {1: "b"}]), plain([{1: "a"}, {1: "b"}]))
    with pytest.raises(TypeError):
        T.from_python([{"a": object()}, {"a": 1}])


# ---------------------------------------------------------------- regex literal replacement

_PATTERNS = st.sampled_from([r"[^a-z]", r"\s+", r"a", r"(b)", r"x*", r"[aeiou]+", r"$", r"\d"])
_LITERALS = st.sampled_from(["", "-", "\\\\", "\\\\$", "ab", "\\\\1", "$$".replace("$", "\\\\$")])
_TEXT = st.text(alphabet="ab xyz,.1\\$AE", max_size=40)


def _replace_run(source: str, steps: int, memory: int, exact: bool) -> Any:
    import ptclisp
    from ptclisp._values import regex as R

    saved = R.sub_literal, R.replace_literal

    from ptclisp._core import _regexes
    from ptclisp._core._text import charge_str

    def always_exact(rx: Any, literal: str, text: str, count: int) -> str:
        # the replacement function replace used before the fast path, charging per match
        return str(R.sub(rx, _regexes._charged(lambda m: literal), text, count))

    def replace_exact(rx: Any, plan: tuple[Any, ...], text: str, count: int) -> str:
        return charge_str(always_exact(rx, plan[0], text, count))

    if exact:
        R.sub_literal = always_exact  # type: ignore[assignment]
        R.replace_literal = replace_exact  # type: ignore[assignment]
    try:
        return ptclisp.run(source, limits=ptclisp.Limits(max_steps=steps, max_memory=memory))
    finally:
        R.sub_literal, R.replace_literal = saved  # type: ignore[assignment]


@settings(max_examples=300, deadline=None)
@given(pattern=_PATTERNS, literal=_LITERALS, texts=st.lists(_TEXT, min_size=1, max_size=30),
       steps=st.integers(5, 400), memory=st.integers(200, 6000),
       fn=st.sampled_from(["str/replace", "str/replace-first"]))
def test_literal_regex_replacement_charges_as_match_by_match(
        pattern: str, literal: str, texts: list[str], steps: int, memory: int, fn: str) -> None:
    import json

    import ptclisp

    words = " ".join(json.dumps(t) for t in texts)
    source = f'(mapv #({fn} % #"{pattern}" "{literal}") [{words}])'
    fast = _replace_run(source, steps, memory, exact=False)
    slow = _replace_run(source, steps, memory, exact=True)
    assert (fast.status, fast.steps, fast.memory) == (slow.status, slow.steps, slow.memory)
    assert ptclisp.pr_str(fast.value) == ptclisp.pr_str(slow.value)
    assert (fast.error and fast.error.to_dict()) == (slow.error and slow.error.to_dict())


# ---------------------------------------------------------------- typed tool arguments

_SIGNATURES = ["(i :int) -> :any", "(q :string, limit :int?) -> :any",
               "(x :float, flag :bool?, name :string) -> :any", "() -> :any"]
_ARG_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 2**70), st.floats(),
                        st.text(max_size=3), st.lists(st.integers(), max_size=2))


@settings(max_examples=300, deadline=None)
@given(sig=st.sampled_from(_SIGNATURES),
       args=st.dictionaries(st.sampled_from(["i", "q", "limit", "x", "flag", "name", "extra"]),
                            _ARG_VALUES, max_size=4))
def test_simple_signatures_check_arguments_as_the_model(sig: str, args: dict[str, Any]) -> None:
    import math

    from ptclisp import PtclispError, parse_signature
    from ptclisp._tools import signature as S

    signature = parse_signature(sig)

    def outcome(fast: bool) -> Any:
        saved = S._simple_params
        if not fast:
            S._simple_params = lambda _: None  # type: ignore[assignment]
        try:
            return ("ok", signature.validate_args(dict(args)))
        except PtclispError as exc:
            return ("error", exc.to_dict())
        finally:
            S._simple_params = saved  # type: ignore[assignment]

    fast, slow = outcome(True), outcome(False)
    if fast[0] == "ok" and slow[0] == "ok":
        assert fast[1].keys() == slow[1].keys()
        for k in fast[1]:
            a, b = fast[1][k], slow[1][k]
            assert type(a) is type(b)
            assert a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))
    else:
        assert fast == slow
