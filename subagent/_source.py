"""The source text one turn runs, and reading its outcome back.

A turn runs ``prelude + program``. The prelude re-establishes what earlier turns defined (their
top-level ``def``/``defn`` forms, their tool results replayed) and binds ``*1 *2 *3`` to the
results of earlier turns (``(def *1 data/__history_1)``): the source is self-contained, so a
suspended turn can be resumed in another process by replaying it.

Whether the program ended with ``(return v)`` ("the task is done") or by reaching its last form
("show the LLM this value and go on") is ``Result.returned``. Error positions are mapped back to
the program as the LLM wrote it.
"""

from __future__ import annotations

import dataclasses

from ptclisp import PtclispError

__all__ = ["TurnSource", "compose"]

HISTORY_KEYS = ("__history_1", "__history_2", "__history_3")


@dataclasses.dataclass
class TurnSource:
    text: str
    prelude_lines: int

    def map_error(self, error: PtclispError) -> PtclispError:
        """Shift the error's line from the composed source to the program."""
        if error.line is None:
            return error
        line = error.line - self.prelude_lines
        if line < 1:
            error.message += " (in a definition from an earlier turn)"
            error.line = error.column = None
            return error
        error.line = line
        return error


def compose(prelude: list[str], history_count: int, program: str) -> TurnSource:
    """The source of one turn (see the module doc)."""
    head = list(prelude)
    head += [f"(def *{i + 1} data/{HISTORY_KEYS[i]})" for i in range(min(history_count, 3))]
    prelude_text = "".join(form + "\n" for form in head)
    return TurnSource(prelude_text + program, prelude_text.count("\n"))
