"""Hostile texts for the analysis cache's reading key (issue 15): a text shares the cached
analysis of another only when the two differ in comments, blanks ending a line or newlines
ending the text — never inside a string, a character or a symbol, and never where a line number
of an error would change. The property tests are in tests/properties/test_reading_key.py."""

from __future__ import annotations

from typing import Any

import pytest

import ptclisp
from ptclisp import _run
from ptclisp._reader.reader import reading_key


def _value(text: str) -> Any:
    result = ptclisp.run(text)
    assert isinstance(result, ptclisp.Result) and result.ok, (text, result.error)
    return ptclisp.to_python(result.value)


@pytest.mark.parametrize(("first", "second", "want"), [
    ('(str "a;b")', '(str "a;c")', "a;c"),  # ";" inside a string is no comment
    ('(str "x\\" ;b")', '(str "x\\" ;c")', 'x" ;c'),  # nor after an escaped quote
    ("(str \\; 1)", "(str \\; 2)", ";2"),  # nor a character literal ";"
    ("(str 'a#!b)", "(str 'a#!c)", "a#!c"),  # "#!" inside a symbol is no comment
    ('(str #"a;b")', '(str #"a;c")', "a;c"),  # nor inside a regex
    ('(str "a  \n")', '(str "a\n")', "a\n"),  # blanks ending a line inside a string stay
    ("(str \\space)", "(str \\space )", " "),
])
def test_texts_that_differ_inside_a_token_do_not_share_an_analysis(
        first: str, second: str, want: str) -> None:
    _value(first)
    _value(first)  # cached, its compiled code kept
    assert reading_key(first) != reading_key(second)
    assert _value(second) == want


def test_a_character_literal_newline_at_the_end_is_no_trailing_newline() -> None:
    """``\\`` then a newline is the newline character; ``\\`` alone is an error."""
    text = "\\\n"
    assert reading_key(text) == text
    assert _value(text) == "\n"
    result = ptclisp.run("\\")
    assert isinstance(result, ptclisp.Result) and result.error is not None
    assert result.error.code == "parse_error"


def test_comment_variants_share_one_analysis_and_report_their_own_positions() -> None:
    base = "(let [a 1]\n  (+ a :x))"
    variants = [base + "\n; run 1", base + "   ; why\n", "(let [a 1] ; a is one\n  (+ a :x))",
                base + "\r\n\n", "(let [a 1]\t,\n  (+ a :x)) #! note"]
    programs = {id(_run.load(v)) for v in [base, *variants]}
    assert len(programs) == 1  # one analysis (and one compiled program) for all
    for text in [base, *variants]:
        result = ptclisp.run(text)
        assert isinstance(result, ptclisp.Result) and result.error is not None
        assert (result.error.code, result.error.line, result.error.column) == \
            ("type_error", 2, 3)
    # A comment on a line of its own moves the code: a new analysis, the new line reported.
    moved = ";; adds\n" + base
    assert _run.load(moved) is not _run.load(base)
    result = ptclisp.run(moved)
    assert isinstance(result, ptclisp.Result) and result.error is not None
    assert (result.error.line, result.error.column) == (3, 3)


def test_the_cache_holds_a_key_once_and_counts_its_length() -> None:
    text = "(+ 40 2)"
    for i in range(5):
        assert _value(f"{text}\n; run {i}") == 42
    keys = [k for k in _run._cache if k[0] == text]
    assert len(keys) == 1
    assert not any(k[0].startswith(text + "\n") for k in _run._cache)
    assert sum(len(k[0]) for k in _run._cache) == _run._cache_chars


def test_the_keys_of_texts_run_are_kept_for_their_re_runs_within_bounds() -> None:
    """A re-run of a text with a comment finds its key without making it again; the texts kept
    so are bounded in number and size, and a text too long to keep still runs right."""
    text = "(* 6 7) ; answer"
    assert _value(text) == 42
    assert _run._keys[text] == "(* 6 7)"
    assert _value(text) == 42
    for i in range(2 * _run._KEYS):
        assert _value(f"(+ {i} 1) ; n") == i + 1
    assert 0 < len(_run._keys) <= _run._KEYS
    long = "(+ 1 2) ; " + "x" * _run._KEY_MAX_CHARS
    assert _value(long) == 3
    assert long not in _run._keys
    assert _value(long) == 3


def test_huge_blank_and_comment_texts_make_their_key_in_one_pass() -> None:
    """Hostile sizes: runs of blanks, newlines, comments and unterminated strings (a key made
    by backtracking would take hours here, not a fraction of a second)."""
    assert reading_key(" \n" * 200_000) == ""
    assert reading_key("\t" * 200_000 + "x") == "\t" * 200_000 + "x"
    assert reading_key(";" * 200_000 + "\n1") == "\n1"
    huge = '"' + "a; " * 100_000
    assert reading_key(huge) == '"a'  # the " cannot close: the first ; starts a comment
    big = "(+ 1 2)" + "\n" * 100_000 + "; x"
    assert reading_key(big) == "(+ 1 2)"
    assert _value(big) == 3


def test_memory_is_charged_for_the_text_as_sent() -> None:
    """The source charge stays on the text itself: a long comment costs as before."""
    short = ptclisp.run("(+ 1 2)")
    long = ptclisp.run("(+ 1 2)\n;" + "x" * 1000)
    assert isinstance(short, ptclisp.Result) and isinstance(long, ptclisp.Result)
    assert long.memory - short.memory == 1002 * _run.SOURCE_BYTES_PER_CHAR
    too_long = ptclisp.run("(+ 1 2)\n;" + "x" * 100_000, limits={"max_memory": 2**20})
    assert isinstance(too_long, ptclisp.Result) and too_long.error is not None
    assert too_long.error.code == "memory_limit"
