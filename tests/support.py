"""Helpers shared by test folders (importable as ``support``: pytest puts ``tests/`` on the path
for the root conftest.py)."""

from __future__ import annotations

from typing import Any

from ptclisp._values.types import OpHandle
from ptclisp.subagent import LLMResponse, ScriptedLLM


def clj(program: str) -> str:
    """An LLM reply carrying ``program`` as a clojure code block."""
    return f"```clojure\n{program}\n```"


class FlakyLLM(ScriptedLLM):
    """A scripted LLM whose client has a bug: the calls numbered in ``crash_on`` (from 1) raise a
    non-LLM error, as a crashing client would."""

    def __init__(self, replies: list[str], crash_on: set[int]) -> None:
        super().__init__(replies)
        self.crash_on = crash_on
        self.attempts = 0

    def complete(self, messages: Any, on_token: Any = None) -> LLMResponse:
        self.attempts += 1
        if self.attempts in self.crash_on:
            raise RuntimeError(f"client bug on attempt {self.attempts}")
        return super().complete(messages, on_token=on_token)


class Endless(list):  # type: ignore[type-arg]
    """A host object (a buggy tool's) that says it is an empty list and never stops iterating."""

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Any:
        while True:
            yield 1


def same(a: Any, b: Any) -> bool:
    """Equal and of the same type all the way down, maps in the same key order (1, 1.0 and
    true differ; op handles by id and tool)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, OpHandle):
        return (a.op_id, a.tool) == (b.op_id, b.tool)
    return bool(a == b)
