"""The source text one turn runs, and reading its outcome back.

A turn runs ``prelude + program``. The prelude re-establishes what earlier turns defined (their
top-level ``def``/``defn`` forms, their tool results replayed) and binds ``*1 *2 *3`` to the
results of earlier turns (``(def *1 data/__history_1)``): the source is self-contained, so a
suspended turn can be resumed in another process by replaying it.

The program's last top-level form ``F`` is wrapped as ``[:subagent/done-<nonce> F]``. A program
that runs to its end therefore yields that vector, and one that calls ``(return v)`` yields ``v``
(the unwinding skips the wrapper): that is how the loop tells "show the LLM this value and go on"
from "the task is done". Error positions are mapped back to the program as the LLM wrote it.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

from ptclisp._errors import PtclispError, ReadError
from ptclisp._values import Keyword, Vector

from ._ptc import read_forms

__all__ = ["TurnSource", "compose"]

HISTORY_KEYS = ("__history_1", "__history_2", "__history_3")


@dataclasses.dataclass
class TurnSource:
    text: str
    marker: str | None
    """The qualified name of the completion keyword, ``None`` if the program was not wrapped."""
    prelude_lines: int
    wrap_line: int = 0
    wrap_column: int = 0
    wrap_width: int = 0

    def completed(self, value: Any) -> tuple[bool, Any]:
        """``(ran to the end, value)`` for the value a run produced."""
        if (
            self.marker is not None
            and type(value) is Vector
            and len(value) == 2
            and value[0] is Keyword.parse(self.marker)
        ):
            return True, value[1]
        return False, value

    def map_error(self, error: PtclispError) -> PtclispError:
        """Shift the error's line/column from the composed source to the program."""
        if error.line is None:
            return error
        line = error.line - self.prelude_lines
        if line < 1:
            error.message += " (in a definition from an earlier turn)"
            error.line = error.column = None
            return error
        column = error.column
        if self.marker is not None and line == self.wrap_line and column is not None:
            if column > self.wrap_column + self.wrap_width - 1:
                column -= self.wrap_width
        error.line, error.column = line, column
        return error


def compose(prelude: list[str], history_count: int, program: str) -> TurnSource:
    """The source of one turn (see the module doc)."""
    head = list(prelude)
    head += [f"(def *{i + 1} data/{HISTORY_KEYS[i]})" for i in range(min(history_count, 3))]
    prelude_text = "".join(form + "\n" for form in head)
    prelude_lines = prelude_text.count("\n")
    try:
        forms = read_forms(program)
    except ReadError:
        return TurnSource(prelude_text + program, None, prelude_lines)
    if not forms:
        return TurnSource(prelude_text + program, None, prelude_lines)
    last = forms[-1]
    line, column = int(last.start_line), int(last.start_column)
    offset = _offset(program, line, column)
    marker = f"subagent/done-{secrets.token_hex(4)}"
    prefix = f"[:{marker} "
    wrapped = program[:offset] + prefix + program[offset:] + "\n]"
    return TurnSource(prelude_text + wrapped, marker, prelude_lines, line, column, len(prefix))


def _offset(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    return sum(len(s) + 1 for s in lines[: line - 1]) + column - 1
