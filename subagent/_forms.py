"""Split program text into its top-level forms, textually (no evaluation, no reader state).

The agent re-establishes ``def``/``defn`` definitions of earlier turns by re-running their
top-level forms (see ``_memory``); finding them needs only bracket matching that respects
strings, character literals and comments.
"""

from __future__ import annotations

__all__ = ["definition_forms", "top_level_forms"]

_OPEN = "([{"
_CLOSE = ")]}"
_DEFINERS = ("def", "defn", "defn-", "defonce")


def top_level_forms(source: str) -> list[str]:
    """The top-level bracketed forms of ``source``, in order (atoms between them are skipped)."""
    forms: list[str] = []
    depth = 0
    start = 0
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == '"':
            i = _skip_string(source, i)
            continue
        if ch == ";":
            while i < n and source[i] != "\n":
                i += 1
            continue
        if ch == "\\":
            i += 2
            continue
        if ch in _OPEN:
            if depth == 0:  # keep a dispatch prefix: #{...} #(...) and the discard #_(...)
                if source[max(i - 2, 0) : i] == "#_":
                    start = i - 2
                else:
                    start = i - (source[i - 1 : i] == "#")
            depth += 1
        elif ch in _CLOSE and depth > 0:
            depth -= 1
            if depth == 0:
                forms.append(source[start : i + 1])
        i += 1
    return forms


def _skip_string(source: str, i: int) -> int:
    i += 1
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source[i] == '"':
            return i + 1
        i += 1
    return i


def definition_forms(source: str) -> list[str]:
    """The top-level ``(def ...)``/``(defn ...)`` forms of ``source``."""
    found = []
    for form in top_level_forms(source):
        if not form.startswith("("):
            continue
        head = form[1:].lstrip().split(None, 1)
        if head and head[0] in _DEFINERS:
            found.append(form)
    return found
