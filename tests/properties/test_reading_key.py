"""The analysis cache's key (issue 15): ``load`` caches a program under its ``reading_key`` —
the text without comments, blanks ending a line and newlines ending the text — so a text that
differs from an earlier one only there (an LLM resending a program with new comments) reuses
its analysis and compiled code. Checked here:

- the key is sound: a text reads exactly as its key does (the same forms at the same lines and
  columns, or an error for both), so two texts with one key read the same;
- the cached path (a text whose key was cached by another text) gives what the plain path
  (an empty cache) gives: value, status, error with its position, steps, memory and output.
"""

from __future__ import annotations

from typing import Any

from hy.models import Sequence
from hypothesis import given, settings
from hypothesis import strategies as st

import ptclisp
from ptclisp import _run
from ptclisp._errors import PtclispError
from ptclisp._reader.atoms import CharForm, RegexForm
from ptclisp._reader.reader import read_forms, reading_key

# The characters and tokens that matter to where a comment starts and a token ends.
_PIECES = st.sampled_from([
    "(", ")", "[", "]", "{", "}", "#{", "#(", "#_", "#'", "'", "#\"a;b\"", "#\"x", "##Inf",
    "\\a", "\\;", "\\", "\\newline", ":k", ":a;b", '"s"', '"a;b"', '"a\nb"', '"x\\";"', '"open',
    "; c", ";", "#!x", "#!", "#", "!", "a#!b", " ", "  ", "\n", "\n\n", ",", "\t", "\r",
    "\r\n", "\ufeff", "\u00a0", "\u2028", "x", "a/b", "%", "%2", "12", "-3", "+", "1.5", "@",
    "^", "`", "~", "é", "\\ ", "\\\n",
])
texts = st.lists(_PIECES, max_size=25).map("".join)


def _shape(form: Any) -> Any:
    """A form as plain data: its type, value or children, and its four positions."""
    where = tuple(getattr(form, f"_{end}_{what}", None)
                  for end in ("start", "end") for what in ("line", "column"))
    if isinstance(form, CharForm):
        return ("char", form.value, where)
    if isinstance(form, RegexForm):
        return ("regex", form.source, where)
    if isinstance(form, Sequence):
        return (type(form).__name__, [_shape(x) for x in form], where)
    return (type(form).__name__, repr(form), where)


def _reading(text: str) -> Any:
    try:
        return [_shape(form) for form in read_forms(text)]
    except PtclispError:
        return "error"


@settings(max_examples=500, deadline=None)
@given(texts)
def test_a_text_reads_as_its_key(text: str) -> None:
    key = reading_key(text)
    assert _reading(key) == _reading(text)
    assert reading_key(key) == key  # a key is its own key


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_reads_as_its_key(text: str) -> None:
    assert _reading(reading_key(text)) == _reading(text)


@settings(max_examples=300, deadline=None)
@given(texts, st.integers(0, 30), _PIECES)
def test_texts_with_one_key_read_the_same(text: str, at: int, piece: str) -> None:
    """An edit of a text (a piece put in) that keeps its key keeps its reading."""
    other = text[:at] + piece + text[at:]
    if reading_key(other) == reading_key(text):
        assert _reading(other) == _reading(text)


# ---------------------------------------------------------------- cached path vs plain path

_PROGRAMS = st.sampled_from([
    "(+ 1 2)", "(def x 5) (* x 2)", '(str "a;b" \\; "#!")', "(println \"hi\") (+ 1 :a)",
    "(let [a 1\n      b 2]\n  (/ a (- b 2)))", "[1 2\n 3]", "(fail {:why \"no\"})",
    "(defn f [n] (if (< n 1) 0 (+ n (f (dec n)))))\n(f 10)", "(return 7) (+ 1 :b)",
    "(nth [1 2] 5)", "(+ 1 2", "(unknown-fn 1)", '"a;b"', "(map inc (range 3))",
])
_DECORATIONS = st.lists(st.sampled_from([
    "; note", ";; (+ 1 :a) a comment with code", " ", "\t", ",", "\r", " #! tag", ";",
]), max_size=3).map("".join)


def _decorated(program: str, decorations: list[str], trailing: str) -> str:
    """``program`` with comments/blanks put at the ends of its lines, and ``trailing`` after."""
    lines = program.split("\n")
    out = [line + (decorations[i] if i < len(decorations) else "") for i, line in
           enumerate(lines)]
    return "\n".join(out) + trailing


def _outcome(text: str) -> Any:
    result = ptclisp.run(text)
    assert isinstance(result, ptclisp.Result)
    error = result.error.to_dict() if result.error is not None else None
    try:
        value = ptclisp.to_python(result.value)
    except TypeError:  # a fn: no host value
        value = type(result.value).__name__
    return (result.status, value, result.returned, error, result.steps, result.memory,
            result.output)


def _plain(text: str) -> Any:
    """The outcome with an empty cache: read, analyzed and compiled afresh."""
    with _run._cache_lock:
        saved, chars = list(_run._cache.items()), _run._cache_chars
        _run._cache.clear()
        _run._cache_chars = 0
    try:
        return _outcome(text)
    finally:
        with _run._cache_lock:
            _run._cache.clear()
            _run._cache.update(saved)
            _run._cache_chars = chars


@settings(max_examples=150, deadline=None)
@given(_PROGRAMS, st.lists(_DECORATIONS, max_size=4), _DECORATIONS,
       st.sampled_from(["", "\n", "\n\n", "  \n", "\n; run 7\n"]))
def test_a_variant_runs_as_the_plain_path(program: str, decorations: list[str],
                                          first: str, trailing: str) -> None:
    """Run one decorated variant (its key is now cached, its code kept), then another: the
    second runs on the cached analysis and gives what it gives read afresh."""
    earlier = _decorated(program, [first], "")
    text = _decorated(program, decorations, trailing)
    assert reading_key(earlier) == reading_key(text) == reading_key(program)
    _outcome(earlier)
    _outcome(earlier)  # the second run keeps its compiled code: the variant reuses it
    assert _outcome(text) == _plain(text)


@settings(max_examples=150, deadline=None)
@given(texts)
def test_any_text_runs_as_the_plain_path(text: str) -> None:
    """Whatever a text's key, running it after its key was cached (by itself, then by the key
    text) gives the plain path's outcome — errors and their positions included."""
    _outcome(reading_key(text))
    assert _outcome(text) == _plain(text)
