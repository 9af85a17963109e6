"""The reader: ptclisp source text → hy models (forms) with line/column on every form.

``ClojureReader`` subclasses hy's ``HyReader`` and keeps its vocabulary — hy models as forms,
the ``@reader_for`` dispatch table, ``parse(stream)`` — but reads Clojure syntax instead of Hy's:
commas are whitespace, ``tool/get-orders`` and ``clojure.string/join`` stay one symbol,
``\\a`` is a character, ``#()`` is a short function, ``#"..."`` a regex, ``#{}`` a set, and
numbers follow Clojure (``0x1F``, ``017``, ``2r101``, ``1N``, ``1.5M``, ``1/2``).
Token text → atom models lives in ``_reader_atoms``.

Why not hy's own character streaming: hy reads one character at a time through generators and
re-walks every model to fill positions, ~12 ms for a 2 KB program. Here one compiled regex
yields whole tokens (one ``finditer`` step per token), nesting is an explicit stack (deep input
cannot overflow the Python stack), and positions come from a running line counter.

Security: hy's ``#tag`` reader macros run arbitrary Python at read time. This reader has no tag
macros at all — ``reader_macros`` stays empty, the table holds only the handlers below, and any
other ``#tag`` is a ``ReadError``.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from hy.models import Dict, Expression, Float, Integer, Keyword, List, Object, Set, String, Symbol
from hy.reader import HyReader

from .._errors import InternalError, PtclispError, ReadError
from .._values.regex import compile_regex
from .atoms import (
    BadToken,
    CharForm,
    RegexForm,
    character,
    keyword,
    number,
    string,
    symbol,
    symbolic,
)
from .literals import form_to_value

__all__ = [
    "MAX_NESTING",
    "CharForm",
    "ClojureReader",
    "RegexForm",
    "form_to_value",
    "read_all",
    "read_forms",
    "read_string",
    "reading_key",
]

MAX_NESTING = 256
"""Deepest nesting of forms accepted (keeps later recursive passes far from Python's limit)."""

# A token runs until whitespace, a comma or a terminating macro character (as in Clojure's
# LispReader: " ; @ ^ ` ~ ( ) [ ] { } \). ' # % : may appear inside a token. One match is
# (optional whitespace/comments, one whole token); ``findall`` gives them all as string pairs
# (no match object per token: a third of reading a short program). The matches tile the text
# (the last alternatives match any character, and the end), so a token's offset is the sum of
# the lengths before it, and its kind follows from its first characters (``_read``).
# Whitespace is Unicode whitespace, the comma, and a byte-order mark (editors prepend one).
_TC = r'[^\s,\ufeff";@^`~()\[\]{}\\]'
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_WS = r"[\s,\ufeff]*"
_TOKEN = (
    rf"[^\s,\ufeff\";@^`~()\[\]{{}}\\#':]{_TC}*"  # atom: symbol, number
    r"|[(\[{]"  # open
    r"|[)\]}]"  # close
    rf"|:{_TC}*"  # keyword
    rf"|{_STRING}"  # string
    r"|'|#[_']"  # prefix
    r"|#[{(]"  # open dispatch
    rf"|#{_STRING}"  # regex
    rf"|##{_TC}*"  # symbolic value
    rf"|\\.{_TC}*"  # character
)
_COMMENT = r";[^\n]*|#![^\n]*"
_TOKENS = re.compile(
    rf"({_WS}(?:(?:{_COMMENT}){_WS})*)("
    rf"{_TOKEN}"
    r"|\Z"  # end of input: the empty token
    r"|.)",  # anything else: an error the reader_table's handler reports
    re.S,
)
# ``reading_key``: the text without what cannot change how it reads. One match is (kept, dropped):
# kept runs over newlines, tokens (the alternatives above, in their order) and blanks that are
# followed by more of the line; it stops where a comment starts or at blanks that end a line (or
# the text), which the dropped part takes with the comment. A match starts only where a token of
# ``_TOKENS`` may start, so ";" or "#!" inside a string, a character or a symbol stays kept.
_BLANK = r"(?:[^\S\n]|[,\ufeff])"  # whitespace within a line
_READING = re.compile(
    rf"((?:\n|{_BLANK}++(?![;\n]|#!|\Z)|(?!;|#!)(?:{_TOKEN}|[^\s,\ufeff]))*+)"
    rf"{_BLANK}*+(?:{_COMMENT})?",
    re.S,
)

_BLANK_NEWLINE = re.compile(rf"\n(?<={_BLANK}\n)")  # (a literal first: a fast scan)


def reading_key(text: str) -> str:
    """``text`` with its comments and the blanks ending its lines removed, and the newlines
    ending it (unless a character literal ``\\`` takes the last one): two texts with the same
    key read to the same forms at the same lines and columns, since a comment or a trailing
    blank only ever precedes a newline or the end. A text whose key is itself comes back as is.
    """
    last = text[-1:]
    if ";" not in text and "#!" not in text and _BLANK_NEWLINE.search(text) is None and not (
            last.isspace() or last == "," or last == "\ufeff"):  # nothing to drop: as is
        return text
    key = "".join(_READING.findall(text))
    if key.endswith("\n"):
        stripped = key.rstrip("\n")
        if not stripped.endswith("\\"):
            key = stripped
    return text if key == text else key


# What an atom cannot start with (nor whitespace, which no token starts with).
_ATOM_START_NOT = frozenset('",;@^`~()[]{}\\#\':\ufeff')
_OPENERS = frozenset("([{")
_CLOSERS = frozenset(")]}")
_TOKEN_AT = re.compile(f"{_TC}*")
_NEWLINE = re.compile("\n")
_NUMBER_START = frozenset("0123456789")
_SIGNED_START = frozenset("+-")

_CLOSER = {"(": ")", "[": "]", "{": "}", "#{": "}", "#(": ")"}
_MODEL: dict[str, Callable[[Any], Object]] = {"(": Expression, "[": List, "{": Dict, "#{": Set}
_PREFIXES = frozenset({"'", "#'", "#_"})
_PREFIX_SYMBOL = {"'": "quote", "#'": "var"}
_DISPATCH_HINT = (
    "ptclisp supports #{...} sets, #(...) short functions, #\"...\" regexes, #_ to discard a "
    "form, #'var and ##Inf ##-Inf ##NaN; write other values as maps, strings or vectors"
)
_SPECIAL_DISPATCH_HINT = {
    ":": "namespaced map literals #:ns{...} are not supported: write the keys out, {:ns/a 1}",
    "?": "reader conditionals #?(...) are not supported: write the one branch you need",
    "=": "read-time evaluation #= is not supported",
    "^": "metadata #^ is not supported: remove it",
    "inst": "#inst literals are not supported: use an ISO-8601 string",
    "uuid": "#uuid literals are not supported: use a string",
}
_UNSUPPORTED = {  # character → (message, hint)
    "@": (
        "@ (deref) is not supported",
        "ptclisp has no refs or atoms; use (await h) for async tool results",
    ),
    "^": ("metadata (^) is not supported", "remove the ^... annotation"),
    "`": (
        "syntax-quote (`) is not supported: ptclisp has no macros",
        "use ' (quote) for literal data",
    ),
    "~": ("unquote (~) is not supported: ptclisp has no macros", "remove the ~"),
    '"': ("unterminated string", 'close the string with "; write a quote inside it as \\"'),
}


class _Frame:
    """One open construct on the reader's stack: a collection, ``#()``, or a prefix like ``'``."""

    __slots__ = ("column", "items", "kind", "line", "start")

    def __init__(self, kind: str, start: int, line: int, column: int) -> None:
        self.kind = kind
        self.items: list[Any] = []
        self.start, self.line, self.column = start, line, column


class ClojureReader(HyReader):
    """Reads Clojure-syntax ptclisp source into hy models; see the module docstring.

    ``read(text)`` returns the list of top-level forms or raises ``ReadError`` with line/column.
    Also usable where hy expects a reader: ``hy.read_many(text, reader=ClojureReader())``.
    """

    NON_IDENT = set('()[]{};"@^`~\\,') | {" ", "\t", "\n", "\r", "\f", "\v"}
    _TABLE: ClassVar[dict[str, Callable[..., Object | None]]] = {}

    def __init__(self) -> None:
        super().__init__()
        self._start_state()

    @classmethod
    def fresh(cls) -> ClojureReader:
        """A reader as ``ClojureReader()`` makes one, without ``HyReader.__init__``'s work
        (copying hy's table and moving its ``#`` macros out, all replaced here): a quarter of
        reading a short program."""
        reader = cls.__new__(cls)
        reader._source = reader._filename = None
        reader.ends_ident = set(cls.NON_IDENT)
        reader.bracketed_templates = False
        reader._start_state()
        return reader

    def _start_state(self) -> None:
        # Never any hy tag macros: they execute code at read time.
        self.reader_macros: dict[str, Any] = {}
        self.reader_table = dict(self._TABLE)
        self._text = ""
        self._newlines: list[int] | None = None  # made when a position needs a search
        self._stack: list[_Frame] = []
        self._token = ""
        self._start = 0
        self._line = self._column = 1
        self._fn: list[int] | None = None  # inside #(): [highest %n, 1 if %& used]

    def parse(
        self, stream: Any, filename: str | None = None, skip_shebang: bool = False
    ) -> Iterator[Object]:
        """Yield the forms of ``stream`` (text or a text stream), as ``HyReader.parse`` does."""
        text = stream.read() if isinstance(stream, io.IOBase) else stream
        self._filename, self._source = filename, text
        yield from self.read(text)

    def read(self, text: str) -> list[Object]:
        """All top-level forms of ``text``."""
        try:
            return self._read(text)
        except PtclispError:
            raise
        except Exception as exc:  # a reader bug, never the program's fault
            raise InternalError(f"reader failed: {type(exc).__name__}: {exc}") from exc

    # ---------------------------------------------------------------- main loop

    def _read(self, text: str) -> list[Object]:
        """One pass over the tokens. Deliberately one long loop: it is the hot path (a method
        call per token would double the time), and only the rare tokens leave it, through the
        ``reader_table`` handlers. ``line``/``base`` track the current line as tokens pass, so a
        position costs a subtraction, not a search. Every finished form gets its positions, is
        wrapped by pending prefixes (``'`` ``#'`` ``#_``), then joins the innermost open form."""
        self._text = text
        self._newlines = None
        end = len(text) + 1  # the "next newline" after the last line
        stack: list[Any] = []
        self._stack = stack
        top: list[Object] = []
        items = top
        table = self.reader_table
        next_newline = text.find("\n")
        line, base, next_newline = 1, -1, end if next_newline < 0 else next_newline
        start = pos = 0
        try:
            for skip, token in _TOKENS.findall(text):
                start = pos + len(skip)
                pos = start + len(token)
                if start > next_newline:  # a token never starts at a newline
                    line += text.count("\n", next_newline, start)
                    base = text.rfind("\n", 0, start)
                    next_newline = text.find("\n", start)
                    if next_newline < 0:
                        next_newline = end
                column = start - base
                first = token[:1]
                if first not in _ATOM_START_NOT and first:  # an atom: a number or a symbol
                    if first in _NUMBER_START or (
                        first in _SIGNED_START and token[1:2] in _NUMBER_START
                    ):
                        form = number(token)
                    elif first == "%" and self._fn is not None:
                        form = str.__new__(Symbol, self._fn_arg(token))
                    else:
                        form = symbol(token)
                    form._end_line, form._end_column = line, column + len(token) - 1
                elif first in _OPENERS:
                    if len(stack) >= MAX_NESTING:
                        self._push(text[start], start, line, column)  # raises the depth error
                    frame = _Frame(text[start], start, line, column)
                    stack.append(frame)
                    items = frame.items
                    continue
                elif first in _CLOSERS:
                    form = self._close(text[start], start)
                    form._end_line, form._end_column = line, column
                    items = stack[-1].items if stack else top
                    if stack and stack[-1].kind in _PREFIXES:
                        form = self._apply_prefixes(form)
                        items = stack[-1].items if stack else top
                        if form is None:
                            continue
                    items.append(form)
                    continue
                elif first == ":":
                    form = keyword(token)
                    form._end_line, form._end_column = line, column + len(token) - 1
                elif first == '"' and len(token) > 1:  # a lone " is an unterminated string
                    form = string(token)
                    form._end_line, form._end_column = (
                        (line, column + len(token) - 1) if "\n" not in token
                        else self._position(pos - 1))
                elif not token:  # the end
                    if stack:
                        self._unclosed()
                    return top
                else:
                    self._token, self._start = token, start
                    self._line, self._column = line, column
                    key = self._token[:2] if self._token[0] == "#" else self._token[0]
                    form = table[key](self, key)
                    items = stack[-1].items if stack else top
                    if form is None:
                        continue
                    form._end_line, form._end_column = (
                        (line, column + len(token) - 1) if "\n" not in token
                        else self._position(pos - 1))
                form._start_line, form._start_column = line, column
                if stack and stack[-1].kind in _PREFIXES:
                    form = self._apply_prefixes(form)
                    items = stack[-1].items if stack else top
                    if form is None:
                        continue
                items.append(form)
        except BadToken as bad:
            raise self._error(bad.message, start + bad.offset, bad.hint) from None
        raise InternalError("reader: token stream ended without end of input")

    def _position(self, offset: int) -> tuple[int, int]:
        newlines = self._newlines
        if newlines is None:
            newlines = self._newlines = [m.start() for m in _NEWLINE.finditer(self._text)]
            newlines.append(len(self._text) + 1)  # sentinel, as in the loop
        line = bisect_right(newlines, offset)
        return line + 1, (offset - newlines[line - 1] if line else offset + 1)

    def _error(self, message: str, offset: int, hint: str | None = None) -> ReadError:
        line, column = self._position(min(offset, max(len(self._text) - 1, 0)))
        return ReadError(message, hint=hint, line=line, column=column)

    # ---------------------------------------------------------------- collections

    def _push(self, kind: str, start: int, line: int, column: int) -> None:
        if len(self._stack) >= MAX_NESTING:
            raise self._error(
                f"forms nested deeper than {MAX_NESTING} levels",
                start,
                "flatten the program: bind intermediate results with let",
            )
        self._stack.append(_Frame(kind, start, line, column))

    def _close(self, closer: str, offset: int) -> Object:
        stack = self._stack
        if not stack:
            raise self._error(
                f"unexpected {closer}: nothing is open here",
                offset,
                f"remove this {closer}, or add its opener earlier (an earlier form may have "
                "been closed too soon)",
            )
        frame = stack[-1]
        if frame.kind in _PREFIXES:
            raise self._error(
                f"{frame.kind} must be followed by a form, found {closer}",
                frame.start,
                f"put a form after {frame.kind} or remove it",
            )
        expected = _CLOSER[frame.kind]
        if closer != expected:
            raise self._error(
                f"{closer} does not match the {frame.kind} opened at line {frame.line}, "
                f"column {frame.column} (expected {expected})",
                offset,
                f"close the {frame.kind} from line {frame.line} with {expected} before "
                f"this {closer}",
            )
        stack.pop()
        if frame.kind == "#(":
            form = self._short_fn(frame)
            form._unique = True  # each #() is a new fn: never a duplicate of another
        else:
            if frame.kind == "{":
                self._check_map(frame)
            elif frame.kind == "#{":
                self._check_unique(frame.items, "set", frame)
            form = _MODEL[frame.kind](frame.items)
        form._start_line, form._start_column = frame.line, frame.column
        return form

    def _check_map(self, frame: _Frame) -> None:
        items = frame.items
        if len(items) % 2:
            last = items[-1]
            raise self._error(
                f"map literal has {len(items)} forms; it needs key/value pairs",
                frame.start,
                f"every key needs a value: {_show(last)} at line {last.start_line}, column "
                f"{last.start_column} has no partner (write {{:a 1 :b 2}})",
            )
        self._check_unique(items[::2], "map", frame)

    def _check_unique(self, forms: list[Any], what: str, frame: _Frame) -> None:
        if len(forms) < 2:
            return
        seen: set[Any] = set()
        for form in forms:
            key = _value_key(form)
            if key in seen:
                thing = "key" if what == "map" else "element"
                raise self._error(
                    f"duplicate {thing} {_show(form)} in {what} literal",
                    frame.start,
                    f"remove the repeated {_show(form)}: a {what} literal may not repeat a {thing}",
                )
            seen.add(key)

    def _unclosed(self) -> None:
        stack = self._stack
        frame = stack[-1]
        if frame.kind in _PREFIXES:
            raise self._error(
                f"input ends after {frame.kind}: it must be followed by a form",
                frame.start,
                f"put a form after {frame.kind} or remove it",
            )
        open_frames = [f for f in stack if f.kind not in _PREFIXES]
        closers = "".join(_CLOSER[f.kind] for f in reversed(open_frames))
        count = len(open_frames)
        outer = open_frames[0]
        more = (
            ""
            if count == 1
            else f"; {count} forms are open, the outermost is the {outer.kind} at line "
            f"{outer.line}, column {outer.column}"
        )
        raise ReadError(
            f"unclosed {frame.kind} opened at line {frame.line}, column {frame.column}{more}",
            hint=f"add {closers} where the form{'s' if count > 1 else ''} should end",
            line=frame.line,
            column=frame.column,
        )

    # ---------------------------------------------------------------- prefixes: ' #' #_

    def _apply_prefixes(self, form: Object) -> Object | None:
        stack = self._stack
        while stack and stack[-1].kind in _PREFIXES:
            frame = stack.pop()
            if frame.kind == "#_":
                return None
            head = str.__new__(Symbol, _PREFIX_SYMBOL[frame.kind])
            wrapped = Expression((head, form))
            for model in (head, wrapped):
                model._start_line, model._start_column = frame.line, frame.column
            head._end_line, head._end_column = frame.line, frame.column + len(frame.kind) - 1
            wrapped._end_line, wrapped._end_column = form.end_line, form.end_column
            form = wrapped
        return form

    # ---------------------------------------------------------------- short functions #()

    def _fn_arg(self, token: str) -> str:
        """Record a ``%``-argument inside ``#()``; ``%`` is ``%1``."""
        args = self._fn
        assert args is not None
        rest = token[1:]
        if rest == "&":
            args[1] = 1
            return token
        if rest == "":
            index = 1
        elif rest.isdigit() and rest.isascii() and rest[0] != "0" and len(rest) <= 2:
            index = int(rest)
        else:
            raise BadToken(
                f"invalid argument {token} in #()",
                "inside #() use %, %1, %2, ... or %& for the rest arguments",
            )
        args[0] = max(args[0], index)
        return f"%{index}"

    def _short_fn(self, frame: _Frame) -> Object:
        """``#(+ % %2)`` → ``(fn [%1 %2] (+ %1 %2))``; the highest ``%n`` decides the arity."""
        args = self._fn
        assert args is not None
        self._fn = None
        names = [f"%{i}" for i in range(1, args[0] + 1)] + (["&", "%&"] if args[1] else [])
        params = [str.__new__(Symbol, name) for name in names]
        head = str.__new__(Symbol, "fn")
        vector, body = List(params), Expression(frame.items)
        for model in (*params, head, vector, body):
            model._start_line, model._start_column = frame.line, frame.column
            model._end_line, model._end_column = frame.line, frame.column + 1
        return Expression((head, vector, body))

    # ---------------------------------------------------------------- dispatch handlers

    @reader_for("#{")  # type: ignore[name-defined]  # noqa: F821 - hy's ReaderMeta injects it
    @reader_for("#(")  # type: ignore[name-defined]  # noqa: F821
    def _open_dispatch(self, key: str) -> None:
        if key == "#(":
            if self._fn is not None:
                raise self._error(
                    "nested #() are not allowed", self._start, "write the inner one as (fn [x] ...)"
                )
            self._fn = [0, 0]
        self._push(key, self._start, self._line, self._column)

    @reader_for("'")  # type: ignore[name-defined]  # noqa: F821
    @reader_for("#'")  # type: ignore[name-defined]  # noqa: F821
    @reader_for("#_")  # type: ignore[name-defined]  # noqa: F821
    def _prefix(self, key: str) -> None:
        self._push(key, self._start, self._line, self._column)

    @reader_for('#"')  # type: ignore[name-defined]  # noqa: F821
    def _regex(self, key: str) -> Object:
        source = self._token[2:-1]
        try:
            compile_regex(source)  # Clojure compiles regex literals at read time
        except PtclispError as exc:
            raise self._error(exc.message, self._start, exc.hint) from None
        return RegexForm(source)

    @reader_for("##")  # type: ignore[name-defined]  # noqa: F821
    def _symbolic(self, key: str) -> Object:
        return symbolic(self._token[2:])

    @reader_for("\\")  # type: ignore[name-defined]  # noqa: F821
    def _character(self, key: str) -> Object:
        if len(self._token) < 2:
            raise self._error("input ends after \\", self._start, "write a character like \\a")
        return character(self._token[1:])

    @reader_for("#")  # type: ignore[name-defined]  # noqa: F821
    def _unsupported_dispatch(self, key: str) -> None:
        text, start = self._text, self._start
        if text[start + 1 : start + 2] == '"':
            raise self._error("unterminated regex #\"...", start, _UNSUPPORTED['"'][1])
        tag = _TOKEN_AT.match(text, start + 1).group() or text[start + 1 : start + 2]  # type: ignore[union-attr]
        if not tag.strip():
            where = "input ends after #" if not tag else "whitespace after #"
            raise self._error(f"{where}: a dispatch character must follow", start, _DISPATCH_HINT)
        hint = _SPECIAL_DISPATCH_HINT.get(tag) or _SPECIAL_DISPATCH_HINT.get(tag[0])
        raise self._error(f"unsupported reader dispatch #{tag}", start, hint or _DISPATCH_HINT)

    @reader_for('"')  # type: ignore[name-defined]  # noqa: F821
    @reader_for("@")  # type: ignore[name-defined]  # noqa: F821
    @reader_for("^")  # type: ignore[name-defined]  # noqa: F821
    @reader_for("`")  # type: ignore[name-defined]  # noqa: F821
    @reader_for("~")  # type: ignore[name-defined]  # noqa: F821
    def _unsupported(self, key: str) -> None:
        message, hint = _UNSUPPORTED[key]
        raise self._error(message, self._start, hint)


# Only our handlers: hy's own (f-strings, #[[...]], #*, #^, tag macros) are not ptclisp syntax.
_OWN_KEYS = ("#{", "#(", "'", "#'", "#_", '#"', "##", "\\", "#", '"', "@", "^", "`", "~")
ClojureReader._TABLE = {key: ClojureReader.DEFAULT_TABLE[key] for key in _OWN_KEYS}
ClojureReader.DEFAULT_TABLE = dict(ClojureReader._TABLE)


def _value_key(form: Any) -> Any:
    """What a literal's key or element is equal by, as Clojure compares the values read: maps
    and sets ignore order, vectors equal lists; each regex and ``#()`` is a distinct object.
    Numbers compare as in ptclisp's maps (1 and 1.0 collide: docs/decisions.md)."""
    cached = getattr(form, "_vkey", None)
    if cached is not None:
        return cached
    key: Any
    if isinstance(form, RegexForm) or getattr(form, "_unique", False):
        key = object()
    elif isinstance(form, (List, Expression)):
        key = ("seq", tuple(map(_value_key, form)))
    elif isinstance(form, Dict):
        key = ("map", frozenset(zip(map(_value_key, form[::2]), map(_value_key, form[1::2]))))
    elif isinstance(form, Set):
        key = ("set", frozenset(map(_value_key, form)))
    elif isinstance(form, (Integer, Float)):
        key = ("num", form.real)
    else:
        key = (type(form).__name__, form)
    with contextlib.suppress(AttributeError):
        form._vkey = key
    return key


def _show(form: Any) -> str:
    if isinstance(form, Keyword):
        return f":{form.name}"
    if isinstance(form, String):
        return '"' + str(form) + '"'
    if isinstance(form, CharForm):
        return "\\" + form.value
    if isinstance(form, Symbol):
        return str(form)
    if isinstance(form, (Integer, Float)):
        return repr(form.real)
    return {Expression: "a list", List: "a vector", Dict: "a map", Set: "a set"}.get(
        type(form), "a form"
    )


# ---------------------------------------------------------------- public entry points


def read_forms(text: str) -> list[Object]:
    """Read all top-level forms of ``text``; raises ``ReadError`` with line/column."""
    if not isinstance(text, str):
        raise ReadError(f"source must be text, not {type(text).__name__}")
    reader = getattr(_idle, "reader", None) or ClojureReader.fresh()
    _idle.reader = None  # a read inside this read (none today) makes a reader of its own
    reader._fn = None  # the state _read does not set itself
    try:
        return reader.read(text)
    finally:
        reader._text, reader._newlines, reader._stack = "", None, []  # hold no program
        _idle.reader = reader


_idle = threading.local()
"""This thread's reader between reads (making one is a tenth of reading a short program)."""


def read_all(text: str) -> list[Any]:
    """Every form of ``text`` as a ptclisp value."""
    return [form_to_value(form) for form in read_forms(text)]


def read_string(text: str) -> Any:
    """The first form of ``text`` as a ptclisp value (Clojure ``read-string``)."""
    forms = read_forms(text)
    if not forms:
        raise ReadError("no form to read: the input is empty", hint="pass a value, e.g. [1 2]")
    return form_to_value(forms[0])
