"""The journal: everything a run learned from the outside world, in the order it learned it.

Deterministic replay needs exactly this. A resumed run re-executes the program from the top;
every tool call and op start already in the journal is answered from it (never re-executed), and
every op result delivered by ``resume`` is in ``op_results`` (in delivery order). A ptclisp program
has no other source of nondeterminism: there is no ``rand``, no clock and no I/O except tools.

Entries hold live ptclisp values; ``_pending`` encodes them when a step is serialized. An entry
read from a serialized step keeps its encoded form (``"enc"``) and decodes its value when first
used (``LazyEntry``): a resume from a checkpoint uses the values of few entries, and decoding
all of them on every resume made k sequential awaits cost O(k²).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .._errors import PtclispError

__all__ = ["Journal", "LazyEntry", "PendingError", "entry_value"]


class PendingError(PtclispError):
    """A pending step cannot be stored, loaded or resumed. ``code`` says why:

    ``pending_version`` (format from another ptclisp version), ``pending_corrupt`` (bytes damaged
    or tampered with), ``pending_program_mismatch`` (not the program the host expected),
    ``pending_unknown_op``, ``pending_op_done`` (result already delivered), ``pending_finished``
    (the step already ran to completion), ``pending_claimed`` (another resumer won),
    ``pending_diverged`` (replay did not follow the journal), ``pending_unserializable``.
    """

    code = "pending_error"


@dataclasses.dataclass
class Journal:
    calls: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    """Executed tool calls in completion order: ``{"tool", "args", "value", "error",
    "duration_s", "op_id"}`` — ``value`` a ptclisp value, ``error`` an error dict, ``op_id`` set
    for an async op start."""
    op_results: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    """Delivered op results in delivery order: ``{"value": v}`` or ``{"error": {...}}``."""
    awaits_done: int = 0
    """``await`` forms completed before the last suspension: replay ends at the next one."""
    time_spent_s: float = 0.0
    """Wall time the run has used, replays excluded (the time budget carries over)."""

    def started_ops(self) -> dict[str, dict[str, Any]]:
        """``{op_id: {"tool", "args"}}`` for every op the run started."""
        # entries are only ever appended, and never change: the map of the first n entries
        # is kept (a resume asks several times)
        n = len(self.calls)
        cached = self.__dict__.get("_started")
        if cached is None or cached[0] != n:
            start, found = (cached[0], dict(cached[1])) if cached and cached[0] < n else (0, {})
            for c in self.calls[start:]:
                if c.get("op_id") is not None:
                    found[c["op_id"]] = {"tool": c["tool"], "args": c["args"]}
            cached = self.__dict__["_started"] = (n, found)
        return dict(cached[1])

    def pending_ops(self) -> dict[str, dict[str, Any]]:
        """Started ops whose result has not been delivered yet."""
        return {k: dict(v) for k, v in self.started_ops().items() if k not in self.op_results}


class LazyEntry(dict[str, Any]):
    """A journal entry read from a serialized step: ``entry["value"]`` decodes its value from
    the encoded entry (``"enc"``) on first read (``"value" in entry`` is false until then). A
    value that does not decode is ``pending_corrupt`` (the step's bytes held a malformed
    value)."""

    __slots__ = ()

    def __missing__(self, key: str) -> Any:
        if key != "value" or "enc" not in self:
            raise KeyError(key)
        from .._values import codec

        try:
            value = codec.decode(self["enc"]["value"])
        except Exception as exc:  # any malformed encoding (the decoder raises several types)
            raise PendingError(
                f"the pending step is damaged: a journaled value is malformed: {exc}",
                code="pending_corrupt",
                hint="resume from an intact copy of the step",
            ) from None
        self["value"] = value
        return value


def entry_value(entry: dict[str, Any]) -> Any:
    """The ptclisp value of a journal call entry or op outcome (decoded on first use when it
    was read from a serialized step: ``LazyEntry``); None for an error outcome, which has none."""
    try:
        return entry["value"]
    except KeyError:
        return None
