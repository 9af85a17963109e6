"""Find the program in an LLM reply.

Rules, in order:

1. ``<think>...</think>`` sections (local reasoning models) are dropped.
2. Fenced blocks: the *last* block tagged ``clojure``, ``clj``, ``lisp``, ``ptclisp``, ``edn`` or
   ``scheme`` wins; failing that, the last untagged block. Models often sketch a draft first and
   give the final program last.
3. No fence: the whole reply, when it starts with ``(`` (models told to answer with code only).

Otherwise there is no program, and the loop tells the LLM how to answer.
"""

from __future__ import annotations

import re

__all__ = ["extract_program"]

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$",
                    re.DOTALL | re.MULTILINE)
_LISP_TAGS = frozenset({"clojure", "clj", "lisp", "ptclisp", "edn", "scheme", "cljs"})


def extract_program(reply: str) -> str | None:
    """The program text in ``reply``, or ``None`` when there is none."""
    text = _THINK.sub("", reply)
    tagged: list[str] = []
    untagged: list[str] = []
    for match in _FENCE.finditer(text):
        body = match.group(3).strip()
        if not body:
            continue
        tag = match.group(2).lower()
        if tag in _LISP_TAGS:
            tagged.append(body)
        elif not tag:
            untagged.append(body)
    if tagged:
        return tagged[-1]
    if untagged:
        return untagged[-1]
    stripped = text.strip()
    if stripped.startswith("(") and "```" not in stripped:
        return stripped
    return None
