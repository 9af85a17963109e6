"""Regular expressions: Java-syntax patterns (as Clojure writes them) on Python's engines.

``compile_regex(source)`` translates the Java pattern text to Python syntax and compiles it
(cached). Matching goes through the helpers here, never through the pattern directly, because
they bound catastrophic backtracking: with the ``regex`` module (the normal case) every match
runs with ``timeout=`` the time left on the run's meter, and a timeout ends the run with the
``timeout`` limit code. The wasm tier has only ``re``, which has no timeout: there the fuel of
the WebAssembly instance is the hard stop for a runaway match.

Java defaults are kept: ``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII (Java's default) unless
the pattern turns on ``(?U)``/``(?u)``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from .._errors import EvalError, LimitExceeded
from .._limits import current_meter
from .types import Regex

try:
    import regex as _engine

    HAS_TIMEOUT = True
except ImportError:  # the wasm tier: only the standard library
    import re as _engine

    HAS_TIMEOUT = False

__all__ = [
    "HAS_TIMEOUT",
    "compile_regex",
    "finditer",
    "fullmatch",
    "literal_plan",
    "replace_literal",
    "search",
    "shape",
    "split_linear",
    "sub",
    "sub_literal",
    "untimed",
]

_CACHE: dict[str, Regex] = {}
_CACHE_MAX = 512
_NO_RUN_TIMEOUT_S = 1.0  # when no run is active (e.g. decoding values on the host)
_MAX_PATTERN = 4096

_POSIX_CLASSES = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": "!-/:-@\\[-`{-~",
    "Graph": "!-~",
    "Print": " -~",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0b\\f\\r",
    "javaLowerCase": "a-z",
    "javaUpperCase": "A-Z",
    "L": "a-zA-Z" if not HAS_TIMEOUT else "",
}
_HORIZONTAL_SPACE = " \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000"


def _invalid(source: str, why: str) -> EvalError:
    return EvalError(f"invalid regex #\"{source}\": {why}", code="invalid_args",
                     hint="regexes use Java syntax; escape special characters with \\\\")


def _class_escape(name: str, negated: bool, in_class: bool) -> str | None:
    body = _HORIZONTAL_SPACE if name == "h" else _POSIX_CLASSES.get(name)
    if not body:
        return None
    if in_class and not negated:
        return body
    return ("[^" if negated else "[") + body + "]"


def _translate(source: str) -> tuple[str, bool]:
    """Java pattern text → (Python pattern text, unicode mode)."""
    out: list[str] = []
    i, n, depth = 0, len(source), 0
    unicode = False
    while i < n:
        c = source[i]
        if c == "\\" and i + 1 < n:
            d = source[i + 1]
            if d == "Q":
                end = source.find("\\E", i + 2)
                literal = source[i + 2:] if end < 0 else source[i + 2:end]
                out.append(_engine.escape(literal))
                i = n if end < 0 else end + 2
                continue
            if depth == 0 and d in "zZ":
                out.append("\\Z" if d == "z" else "(?=\\n?\\Z)")
                i += 2
                continue
            if d == "e":
                out.append("\\x1b")
                i += 2
                continue
            if d in "hH":
                out.append(_class_escape("h", d == "H", depth > 0) or "")
                i += 2
                continue
            if d in "pP" and i + 2 < n and source[i + 2] == "{":
                close = source.find("}", i + 3)
                name = source[i + 3:close] if close > 0 else ""
                name = name[2:] if name.startswith("Is") else name
                replacement = _class_escape(name, d == "P", depth > 0)
                if replacement is not None:
                    out.append(replacement)
                    i = close + 1
                    continue
            out.append(c + d)
            i += 2
            continue
        if c == "[":
            depth += 1
        elif c == "]" and depth:
            depth -= 1
        elif c == "(" and depth == 0 and source.startswith("(?", i):
            j = i + 2
            while j < n and (source[j].isalpha() or source[j] == "-"):
                j += 1
            letters = source[i + 2:j]
            if letters and j < n and source[j] in ":)":
                if "u" in letters or "U" in letters:
                    unicode = True
                if "d" in letters:
                    raise _invalid(source, "the (?d) flag is not supported")
                kept = letters.replace("u", "").replace("U", "")
                if kept.strip("-"):
                    out.append("(?" + kept + source[j])
                elif source[j] == ":":
                    out.append("(?:")
                i = j + 1
                continue
            if source.startswith("(?<", i) and i + 3 < n and source[i + 3] not in "=!":
                out.append("(?P<")
                i += 3
                continue
        out.append(c)
        i += 1
    return "".join(out), unicode


def compile_regex(source: str) -> Regex:
    """The compiled ``Regex`` for Java pattern text ``source`` (cached)."""
    found = _CACHE.get(source)
    if found is not None:
        return found
    if len(source) > _MAX_PATTERN:
        raise _invalid(source[:40] + "...", f"patterns are limited to {_MAX_PATTERN} characters")
    text, unicode = _translate(source)
    unrolled = _unrolled_size(text)
    if unrolled > _MAX_UNROLLED:
        raise _invalid(source[:40] + ("..." if len(source) > 40 else ""),
                       f"its repeat counts ask for over {_MAX_UNROLLED:,} items; use + or * "
                       "instead of a large {n}")
    flags = 0 if unicode else _engine.ASCII
    try:
        pattern = _engine.compile(text, flags)
    except (_engine.error, ValueError, OverflowError, RecursionError) as e:
        raise _invalid(source, str(e)) from None
    rx = Regex(source, pattern)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[source] = rx
    return rx


_MAX_UNROLLED = 100_000
"""The most items a pattern's counted repeats may stand for: the ``regex`` engine unrolls the
required part of ``x{n}`` when it compiles it (``a{3000000}``: 3 s; ``((a{1000}){1000}){1000}``
never finishes), and compiling is not under the run's clock."""
_COUNT = __import__("re").compile(r"\{(\d+)(?:,(\d*))?\}")


def _unrolled_size(text: str) -> int:
    """How many items ``text`` (Python pattern syntax) stands for with every counted repeat
    ``{n}``, ``{n,}``, ``{n,m}`` expanded to its required ``n`` copies — groups multiply, so
    nesting is counted as the engine unrolls it (an over-estimate for alternatives); the count
    stops at the first total over ``_MAX_UNROLLED``."""
    stack = [0]  # items inside each open group
    last = 0  # the items of the atom or group a quantifier would repeat
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            last = 1
        elif c == "[":  # a class is one item: skip to its closing bracket
            j = i + 1
            if j < n and text[j] == "^":
                j += 1
            if j < n and text[j] == "]":
                j += 1
            while j < n and text[j] != "]":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            last = 1
        elif c == "(":
            stack.append(0)
            i += 1
            continue
        elif c == ")":
            last = stack.pop() if len(stack) > 1 else 0
            i += 1
        elif c == "{" and (m := _COUNT.match(text, i)) is not None:
            times = int(m.group(1))
            stack[-1] += last * (times - 1) if times else -last
            last *= times
            i = m.end()
            if stack[-1] > _MAX_UNROLLED:
                return stack[-1]
            continue
        elif c in "*+?|^$":
            i += 1
            continue
        else:
            i += 1
            last = 1
        stack[-1] += last
    return max(stack[0], sum(stack))


# ---------------------------------------------------------------- linear patterns


_UNTIMED = 1 << 22
"""A match of a linear pattern runs without the engine's timeout when the text's length times
the pattern's width is at most this (a few milliseconds of engine work at worst)."""
_MAX_WIDTH = 64
_SHAPES: dict[str, tuple[int, int, Any]] = {}
"""Regex source → (width, least match length, standard-library twin); width -1: not linear
(see ``shape``)."""


def shape(rx: Regex) -> tuple[int, int, Any]:
    """``(width, least)`` of a pattern that cannot backtrack catastrophically, or ``(-1, 0)``.

    Linear: a sequence of single-character items (a literal, a class, ``.``) and anchors, of
    which only the last may be repeated (``x+``, ``[a-z]*``, ``\\s{2,}``, lazy or greedy). A
    match attempt then fails within its first ``width`` characters or succeeds (a repeated
    last item that has its minimum ends the match: no item after it can make it give
    characters back), and the matches a scan finds do not overlap, so a scan of n characters
    costs O(n * width): such a match needs no timeout on a short text. Anything else (groups,
    alternation, back references, lookaround, a repeat before other items) is not linear and
    always runs with the timeout. Cached by source; ``least``: the shortest match.

    The third item, for a linear pattern in ASCII mode (Java's default) without inline flags,
    is the same pattern compiled by the standard library's ``re``, which runs such patterns
    ~1.3x faster than ``regex`` and with the same matches (single characters, ASCII classes,
    anchors; a property test compares the two); None otherwise."""
    found = _SHAPES.get(rx.source)
    if found is None:
        found = _analyze(rx.pattern.pattern, rx.pattern.flags)
        if len(_SHAPES) >= _CACHE_MAX:
            _SHAPES.clear()
        _SHAPES[rx.source] = found
    return found


def _analyze(text: str, flags: int) -> tuple[int, int, Any]:
    try:
        import re
        from re import _constants as C  # type: ignore[attr-defined]
        from re import _parser as P  # type: ignore[attr-defined]
    except ImportError:  # Python < 3.11: no analysis, every match is timed
        return -1, 0, None
    try:
        items = list(P.parse(text, 0))  # structure only: flags do not change the shape
    except Exception:  # syntax of the regex module that re does not read: not analysed
        return -1, 0, None
    single = (C.LITERAL, C.NOT_LITERAL, C.IN, C.ANY)
    width = least = 0
    for i, (op, av) in enumerate(items):
        if op in single:
            width, least = width + 1, least + 1
        elif op is C.AT:
            continue
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT) and i == len(items) - 1:
            low, _, body = av
            if len(body) != 1 or body[0][0] not in single or low > _MAX_WIDTH:
                return -1, 0, None
            width, least = width + max(low, 1), least + low
        else:
            return -1, 0, None
    if not 0 < width <= _MAX_WIDTH:
        return -1, 0, None
    twin = None
    if HAS_TIMEOUT and flags & _engine.ASCII and "(?" not in text:
        with contextlib.suppress(Exception):
            twin = re.compile(text, re.ASCII)
    return width, least, twin


def untimed(rx: Regex, text: str) -> bool:
    """A match of ``rx`` over ``text`` needs no timeout (``shape``)."""
    width = shape(rx)[0]
    return width >= 0 and len(text) * width <= _UNTIMED


# ---------------------------------------------------------------- bounded matching


def _budget(text: str, rx: Regex | None = None) -> float | None:
    """Seconds the match may take (the run's remaining time; None: no timeout, as for a
    linear ``rx`` on a short text); charges steps for the scan."""
    try:
        meter = current_meter()
    except RuntimeError:
        return _NO_RUN_TIMEOUT_S if HAS_TIMEOUT else None
    meter.tick(1 + (len(text) >> 6))
    if not HAS_TIMEOUT or (rx is not None and untimed(rx, text)):
        return None
    return max(0.001, meter.deadline - time.monotonic())


def _timed_out() -> LimitExceeded:
    return LimitExceeded(
        "regex matching ran out of time",
        code="timeout",
        hint="the pattern backtracks catastrophically on this input: simplify it "
        "(avoid nested quantifiers like (a+)+)",
    )


def _run(call: Callable[..., Any], text: str, *args: Any, rx: Regex | None = None) -> Any:
    budget = _budget(text, rx)
    try:
        if budget is None:
            return call(*args)
        return call(*args, timeout=budget)
    except TimeoutError:
        raise _timed_out() from None


def search(rx: Regex, text: str, pos: int = 0) -> Any:
    """The first match of ``rx`` in ``text`` at or after ``pos``, or None."""
    return _run(rx.pattern.search, text, text, pos, rx=rx)


def fullmatch(rx: Regex, text: str) -> Any:
    """The match of ``rx`` against the whole of ``text``, or None."""
    return _run(rx.pattern.fullmatch, text, text, rx=rx)


def finditer(rx: Regex, text: str) -> list[Any]:
    """All non-overlapping matches, realised (the whole scan shares one time budget)."""
    budget = _budget(text, rx)
    try:
        if budget is None:
            return list(rx.pattern.finditer(text))
        return list(rx.pattern.finditer(text, timeout=budget))
    except TimeoutError:
        raise _timed_out() from None


def split_linear(rx: Regex, text: str) -> list[str] | None:
    """``text`` split at every match of a linear ``rx`` (``shape``) too short to need a
    timeout, the scan charged as ``finditer`` charges it; None when a timeout is needed."""
    if not untimed(rx, text):
        return None
    _budget(text, rx)
    return list((shape(rx)[2] or rx.pattern).split(text))


def sub(rx: Regex, repl: Callable[[Any], str], text: str, count: int = 0) -> str:
    """``text`` with matches replaced by ``repl(match)`` (at most ``count`` if non-zero)."""
    return _run(rx.pattern.sub, text, repl, text, count, rx=rx)


def literal_plan(rx: Regex, literal: str) -> tuple[str, str, int, Any]:
    """What ``sub_literal`` needs of ``literal`` with ``rx``, computed once per pair:
    (literal, the engine's template for it, ``rx``'s width or -1 and its ``re`` twin:
    ``shape``)."""
    template = literal.replace("\\", "\\\\") if "\\" in literal else literal  # engine escapes
    width, _, twin = shape(rx)
    return literal, template, width, twin


def replace_literal(rx: Regex, plan: tuple[str, str, int, Any], text: str, count: int) -> str:
    """``sub_literal`` with a ``literal_plan``, the result charged as a new string: one call
    per ``str/replace`` (the usual per-word clean-up runs it thousands of times)."""
    meter = current_meter()
    literal, template, width, twin = plan
    meter.fuel -= 1 + (len(text) >> 6)  # the scan, as _budget charges it
    if meter.fuel < 0:
        meter.refuel()
    if not HAS_TIMEOUT or (width >= 0 and len(text) * width <= _UNTIMED):
        result, n = (twin or rx.pattern).subn(template, text, count)
        size = n * len(literal)
        if n <= meter.fuel and meter.memory + size <= meter.limits.max_memory:
            meter.fuel -= n
            meter.memory += size
            meter.alloc_str(len(result))
            return result  # a str: the engine's result for a str text
    result = _sub_literal(meter, rx, literal, template, text, count)
    meter.alloc_str(len(result))
    return result


def sub_literal(rx: Regex, literal: str, text: str, count: int) -> str:
    """``sub`` with the same ``literal`` for every match, without a Python call per match.

    Each match is charged one step and ``len(literal)`` bytes, as a replacement function
    would be: when these charges cannot reach a limit (fuel left in the current chunk, memory
    under the limit) they are made in one go — the same steps and bytes — else the
    substitution runs again through ``exact``, charging match by match, stopping where a limit
    is hit.
    """
    meter = current_meter()  # inside a run only, as the per-match charging callback
    meter.tick(1 + (len(text) >> 6))  # the scan, as _budget charges it
    template = literal_plan(rx, literal)[1]
    return _sub_literal(meter, rx, literal, template, text, count)


def _sub_literal(meter: Any, rx: Regex, literal: str, template: str, text: str,
                 count: int) -> str:
    """``sub_literal`` after the scan was charged."""
    budget = None if not HAS_TIMEOUT or untimed(rx, text) else \
        max(0.001, meter.deadline - time.monotonic())
    try:
        if budget is None:
            result, n = rx.pattern.subn(template, text, count)
        else:
            result, n = rx.pattern.subn(template, text, count, timeout=budget)
        size = n * len(literal)
        if n <= meter.fuel and meter.memory + size <= meter.limits.max_memory:
            meter.fuel -= n
            meter.memory += size
            return str(result)

        def exact(m: Any) -> str:
            meter.tick()
            meter.alloc(len(literal))
            return literal

        if budget is None:
            return str(rx.pattern.sub(exact, text, count))
        left = max(0.001, meter.deadline - time.monotonic())
        return str(rx.pattern.sub(exact, text, count, timeout=left))
    except TimeoutError:
        raise _timed_out() from None
