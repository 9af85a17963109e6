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
    "search",
    "sub",
    "sub_literal",
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


# ---------------------------------------------------------------- bounded matching


def _budget(text: str) -> float | None:
    """Seconds the match may take (the run's remaining time); charges steps for the scan."""
    try:
        meter = current_meter()
    except RuntimeError:
        return _NO_RUN_TIMEOUT_S if HAS_TIMEOUT else None
    meter.tick(1 + (len(text) >> 6))
    if not HAS_TIMEOUT:
        return None
    return max(0.001, meter.deadline - time.monotonic())


def _timed_out() -> LimitExceeded:
    return LimitExceeded(
        "regex matching ran out of time",
        code="timeout",
        hint="the pattern backtracks catastrophically on this input: simplify it "
        "(avoid nested quantifiers like (a+)+)",
    )


def _run(call: Callable[..., Any], text: str, *args: Any) -> Any:
    budget = _budget(text)
    try:
        if budget is None:
            return call(*args)
        return call(*args, timeout=budget)
    except TimeoutError:
        raise _timed_out() from None


def search(rx: Regex, text: str, pos: int = 0) -> Any:
    """The first match of ``rx`` in ``text`` at or after ``pos``, or None."""
    return _run(rx.pattern.search, text, text, pos)


def fullmatch(rx: Regex, text: str) -> Any:
    """The match of ``rx`` against the whole of ``text``, or None."""
    return _run(rx.pattern.fullmatch, text, text)


def finditer(rx: Regex, text: str) -> list[Any]:
    """All non-overlapping matches, realised (the whole scan shares one time budget)."""
    budget = _budget(text)
    try:
        if budget is None:
            return list(rx.pattern.finditer(text))
        return list(rx.pattern.finditer(text, timeout=budget))
    except TimeoutError:
        raise _timed_out() from None


def sub(rx: Regex, repl: Callable[[Any], str], text: str, count: int = 0) -> str:
    """``text`` with matches replaced by ``repl(match)`` (at most ``count`` if non-zero)."""
    return _run(rx.pattern.sub, text, repl, text, count)


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
    budget = max(0.001, meter.deadline - time.monotonic()) if HAS_TIMEOUT else None
    template = literal.replace("\\", "\\\\") if "\\" in literal else literal  # engine escapes
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
