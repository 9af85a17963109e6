"""The reader's tokenizer (issue 15): ``_TOKENS.findall`` gives (skip, token) pairs whose lengths
tile the text, and ``_read`` tells a token's kind from its first characters. Both claims are
checked here against the reader's earlier tokenizer — one named group per kind, read with
``finditer`` (match objects, ``lastgroup``) — on texts made of the characters that matter."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp._errors import ReadError
from ptclisp._reader import reader
from ptclisp._reader.reader import _TC, _TOKENS, read_forms

_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_NAMED = re.compile(  # the tokenizer before issue 15's entry pass, verbatim
    r"(?:[\s,\ufeff]+|;[^\n]*|#![^\n]*)*(?:"
    rf"(?P<atom>[^\s,\ufeff\";@^`~()\[\]{{}}\\#':]{_TC}*)"
    r"|(?P<open>[(\[{])"
    r"|(?P<close>[)\]}])"
    rf"|(?P<kw>:{_TC}*)"
    rf"|(?P<str>{_STRING})"
    r"|(?P<prefix>'|#[_'])"
    r"|(?P<opendispatch>#[{(])"
    rf"|(?P<regex>#{_STRING})"
    rf"|(?P<symbolic>##{_TC}*)"
    rf"|(?P<char>\\.{_TC}*)"
    r"|(?P<eof>\Z)"
    r"|(?P<other>.))",
    re.S,
)
_ONE_OF_THE_TABLE = {"prefix", "opendispatch", "regex", "symbolic", "char", "other"}


def _kind(token: str) -> str:
    """The rule ``_read`` applies, in its order."""
    first = token[:1]
    if first and first not in reader._ATOM_START_NOT:
        return "atom"
    if first in reader._OPENERS:
        return "open"
    if first in reader._CLOSERS:
        return "close"
    if first == ":":
        return "kw"
    if first == '"' and len(token) > 1:
        return "str"
    if not token:
        return "eof"
    return "table"


def _old(text: str) -> list[tuple[int, str, str]]:
    out = []
    for m in _NAMED.finditer(text):
        kind: Any = m.lastgroup
        out.append((m.start(kind), m.group(kind),
                    "table" if kind in _ONE_OF_THE_TABLE else kind))
        if kind == "eof":
            break
    return out


def _new(text: str) -> list[tuple[int, str, str]]:
    out, pos = [], 0
    for skip, token in _TOKENS.findall(text):
        start = pos + len(skip)
        pos = start + len(token)
        out.append((start, token, _kind(token)))
        if not token:
            break
    return out


_PIECES = st.sampled_from([
    "(", ")", "[", "]", "{", "}", "#{", "#(", "#_", "#'", "'", "#\"a\\\"b\"", "#\"x", "##Inf",
    "\\a", "\\newline", "\\", ":k", ":a/b", "::x", '"s"', '"a\nb"', '"open', "; c\n", "#!x\n",
    " ", "\n", ",", "\t", "\ufeff", "\u00a0", "\u2028", "x", "a/b", "%", "%2", "12", "-3",
    "+", "1.5", "0x1F", "@", "^", "`", "~", "#inst", "#", "é", "\x00", "#?", ";",
])
texts = st.lists(_PIECES, max_size=25).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_findall_tiles_the_text_and_the_first_characters_give_the_kind(text: str) -> None:
    assert _new(text) == _old(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_text_tokenizes_the_same(text: str) -> None:
    assert _new(text) == _old(text)


@settings(max_examples=200, deadline=None)
@given(texts)
def test_reading_twice_on_one_thread_gives_the_same(text: str) -> None:
    """One reader object is reused per thread: a read (even a failed one) leaves nothing for
    the next (``#()`` state, the stack, the text)."""
    def outcome() -> Any:
        try:
            return [(repr(f), f.start_line, f.start_column, f.end_line, f.end_column)
                    for f in read_forms(text)]
        except ReadError as exc:
            return exc.to_dict()

    first = outcome()
    with contextlib.suppress(ReadError):
        read_forms("#(+ % [1 (")  # fails inside #() with forms open
    assert outcome() == first
