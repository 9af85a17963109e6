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
import functools
import operator
import threading
from typing import Any

from .._errors import PtclispError

__all__ = ["Journal", "LazyEntry", "PackedHead", "PendingError", "compact_entry", "entry_value"]


class PendingError(PtclispError):
    """A pending step cannot be stored, loaded or resumed. ``code`` says why:

    ``pending_version`` (format from another ptclisp version), ``pending_corrupt`` (bytes damaged
    or tampered with), ``pending_program_mismatch`` (not the program the host expected),
    ``pending_unknown_op``, ``pending_op_done`` (result already delivered), ``pending_finished``
    (the step already ran to completion), ``pending_claimed`` (another resumer won),
    ``pending_diverged`` (replay did not follow the journal), ``pending_unserializable``.
    """

    code = "pending_error"


@dataclasses.dataclass(frozen=True)
class PackedHead:
    """The journal entries before a step's checkpoint, as the step's bytes hold them: a resume
    from the checkpoint never reads them, so they stay packed (msgpack, one object after
    another) until something does (``Journal`` unpacks them then). Beside the bytes, what a
    resume asks without reading entries: how many calls, which ops have results (in delivery
    order), the ops started there still without a result, and the tools used."""

    calls: bytes
    """The encoded call entries, msgpack objects back to back (``ncalls`` of them)."""
    ncalls: int
    ops: bytes
    """The encoded ``[op id, outcome]`` pairs, back to back (one per ``op_ids``)."""
    op_ids: tuple[str, ...]
    """The ops with a result here, in delivery order."""
    started: dict[str, dict[str, Any]]
    """``{op_id: {"tool", "args"}}``: ops started by these calls with no result here."""
    tools: tuple[str, ...]
    """The tools these calls used (each once)."""

    @functools.cached_property
    def op_set(self) -> frozenset[str]:
        return frozenset(self.op_ids)


_unpack_lock = threading.Lock()


class Journal:
    """The run's tool calls and op results. ``calls``: executed tool calls in completion order,
    ``{"tool", "args", "value", "error", "duration_s", "op_id"}`` — ``value`` a ptclisp value,
    ``error`` an error dict, ``op_id`` set for an async op start. ``op_results``: delivered op
    results in delivery order, ``{"value": v}`` or ``{"error": {...}}``. ``awaits_done``:
    ``await`` forms completed before the last suspension (replay ends at the next one).
    ``time_spent_s``: wall time the run has used, replays excluded.

    A journal read from a step may keep its first entries packed (``head``: ``PackedHead``);
    ``calls``/``op_results`` unpack them when read, while the methods a resume uses
    (``ncalls``, ``call``, ``result``, ``pending_ops``...) answer without unpacking them unless
    they need one of those entries."""

    def __init__(self, calls: list[dict[str, Any]] | None = None,
                 op_results: dict[str, dict[str, Any]] | None = None, awaits_done: int = 0,
                 time_spent_s: float = 0.0, head: PackedHead | None = None) -> None:
        # one tuple, replaced at once when the head is unpacked: a reader in another thread
        # (pmap items) sees either the packed or the unpacked state, never half of each
        self._state: tuple[PackedHead | None, list[dict[str, Any]], dict[str, dict[str, Any]]] \
            = (head, calls if calls is not None else [],
               op_results if op_results is not None else {})
        self.awaits_done = awaits_done
        self.time_spent_s = time_spent_s
        self._expanded = len(self._state[1])
        """Calls before this index are entry dicts; after it a call may still be a compact
        tuple (``compact_calls``), expanded by ``_expand`` before any reader sees it."""

    # ------------------------------------------------------------ compact entries

    def compact_calls(self) -> list[Any] | None:
        """The list to append a first run's successful calls to as compact tuples ``(tool,
        args, value, cost, raw, duration_s, pos)`` (a dict display of nine keys per call costs
        ~5 tuples): every reader gets them expanded to their entry dicts (``compact_entry``).
        None when the journal keeps a packed head (its list is replaced when unpacked)."""
        head, calls, _ = self._state
        return calls if head is None else None

    def _current(self) -> tuple[Any, list[Any], dict[str, dict[str, Any]]]:
        """``_state``, its compact calls expanded (what every reader of the calls must see)."""
        state = self._state
        if self._expanded < len(state[1]):
            self._expand(state[1])
        return state

    def _expand(self, calls: list[Any]) -> None:
        """Replace the compact tuples appended since the last expansion by their entries."""
        with _unpack_lock:
            n = len(calls)  # calls appended meanwhile stay for the next expansion
            for i in range(self._expanded, n):
                if type(calls[i]) is tuple:
                    calls[i] = compact_entry(calls[i])
            self._expanded = n

    # ------------------------------------------------------------ whole lists (unpacking)

    @property
    def head(self) -> PackedHead | None:
        return self._state[0]

    @property
    def calls(self) -> list[dict[str, Any]]:
        return self._unpacked()[1]

    @property
    def op_results(self) -> dict[str, dict[str, Any]]:
        return self._unpacked()[2]

    def loaded(self) -> tuple[int, list[dict[str, Any]], dict[str, dict[str, Any]]]:
        """``(offset, calls, op_results)``: the entries held unpacked (calls from index
        ``offset`` on), without unpacking the head."""
        head, calls, ops = self._current()
        return (head.ncalls if head else 0), calls, ops

    def _unpacked(self) -> tuple[Any, list[dict[str, Any]], dict[str, dict[str, Any]]]:
        state = self._state
        if state[0] is None:
            return self._current()
        with _unpack_lock:
            head, calls, ops = self._state
            if head is not None:
                from .pending import unpack_head

                head_calls, head_ops = unpack_head(head)
                if not head_ops.keys().isdisjoint(ops):
                    raise PendingError(
                        "the pending step is damaged: an op result is journaled twice",
                        code="pending_corrupt", hint="resume from an intact copy of the step")
                self._state = (None, head_calls + calls, {**head_ops, **ops})
                self.__dict__.pop("_started", None)
            return self._state

    # ------------------------------------------------------------ entries (no unpacking)

    def ncalls(self) -> int:
        head, calls, _ = self._state
        return (head.ncalls if head else 0) + len(calls)

    def call(self, index: int) -> dict[str, Any]:
        head, calls, _ = self._current()
        if head is not None:
            if index >= head.ncalls:
                return calls[index - head.ncalls]
            calls = self._unpacked()[1]
        return calls[index]

    def append_call(self, entry: dict[str, Any]) -> None:
        state = self._state
        if state[0] is None:  # no packed head: nothing swaps the list (list.append is atomic)
            state[1].append(entry)
            return
        with _unpack_lock:
            self._state[1].append(entry)

    def result(self, op_id: str) -> dict[str, Any] | None:
        """The delivered outcome of ``op_id``, or None."""
        head, _, ops = self._state
        found = ops.get(op_id)
        if found is None and head is not None and op_id in head.op_set:
            return self._unpacked()[2].get(op_id)
        return found

    def has_result(self, op_id: str) -> bool:
        head, _, ops = self._state
        return op_id in ops or (head is not None and op_id in head.op_set)

    def has_results(self, op_ids: set[str]) -> bool:
        """Whether every op in ``op_ids`` has a delivered result (set operations, in C)."""
        head, _, ops = self._state
        missing = op_ids.difference(ops)
        return not missing or (head is not None and head.op_set.issuperset(missing))

    def add_result(self, op_id: str, outcome: dict[str, Any]) -> None:
        with _unpack_lock:
            self._state[2][op_id] = outcome

    def newest_result(self) -> str | None:
        """The op id delivered last, or None."""
        head, _, ops = self._state
        if ops:
            return next(reversed(ops))
        return head.op_ids[-1] if head is not None and head.op_ids else None

    def tool_names(self) -> list[str]:
        """The tools the journaled calls used, each once (in first-use order)."""
        head, calls, _ = self._current()
        names = dict.fromkeys(head.tools) if head is not None else {}
        names.update(dict.fromkeys(map(operator.itemgetter("tool"), calls)))
        return list(names)

    def successor(self) -> Journal:
        """A resume's journal: the same entries (immutable once journaled: a ``LazyEntry``
        only caches its decoded value, a serialized entry its encoding) in new lists, the same
        packed head."""
        head, calls, ops = self._current()
        copy = Journal(list(calls), dict(ops), self.awaits_done, self.time_spent_s, head)
        if "_started" in self.__dict__:  # same unpacked entries (so far): same started ops
            copy.__dict__["_started"] = self.__dict__["_started"]
        return copy

    # ------------------------------------------------------------ ops

    def _tail_started(self) -> dict[str, dict[str, Any]]:
        """``{op_id: {"tool", "args"}}`` for every op the unpacked calls started."""
        # entries are only ever appended, and never change: the map of the first n entries
        # is kept (a resume asks several times)
        # keyed by the head too: the unpacked list of a packed journal starts with other entries
        head, calls, _ = self._current()
        n = len(calls)
        cached = self.__dict__.get("_started")
        if cached is None or cached[0] != n or cached[2] is not head:
            start, found = (cached[0], dict(cached[1])) \
                if cached and cached[0] < n and cached[2] is head else (0, {})
            for c in calls[start:]:
                if c.get("op_id") is not None:
                    found[c["op_id"]] = {"tool": c["tool"], "args": c["args"]}
            cached = self.__dict__["_started"] = (n, found, head)
        return cached[1]

    def started_ops(self) -> dict[str, dict[str, Any]]:
        """``{op_id: {"tool", "args"}}`` for every op the run started (unpacks the head)."""
        self._unpacked()
        return dict(self._tail_started())

    def is_started(self, op_id: str) -> bool:
        head = self._state[0]
        if head is not None and (op_id in head.started or op_id in head.op_set):
            return True
        return op_id in self._tail_started()

    def started_op(self, op_id: str) -> dict[str, Any] | None:
        """``{"tool", "args"}`` of a started op, or None."""
        head = self._state[0]
        if head is not None:
            if op_id in head.started:
                return head.started[op_id]
            found = self._tail_started().get(op_id)
            if found is not None or op_id not in head.op_set:
                return found
            self._unpacked()
        return self._tail_started().get(op_id)

    def pending_ops(self) -> dict[str, dict[str, Any]]:
        """Started ops whose result has not been delivered yet."""
        head = self._state[0]
        started = dict(head.started) if head is not None else {}
        started.update(self._tail_started())
        return {k: dict(v) for k, v in started.items() if not self.has_result(k)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Journal):
            return NotImplemented
        return (self.calls, self.op_results, self.awaits_done, self.time_spent_s) == \
            (other.calls, other.op_results, other.awaits_done, other.time_spent_s)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        head, calls, ops = self._state
        packed = f", packed={head.ncalls} calls/{len(head.op_ids)} results" if head else ""
        return (f"Journal(calls={len(calls)}, op_results={len(ops)}{packed}, "
                f"awaits_done={self.awaits_done}, time_spent_s={self.time_spent_s})")


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


def compact_entry(call: tuple[Any, ...]) -> dict[str, Any]:
    """The entry dict of a compact call ``(tool, args, value, cost, raw, duration_s, pos)``:
    the keys ``ToolHost._execute`` writes, in its order, for a call that succeeded (``cost``
    None: an atom result, whose entry has no ``cost``)."""
    tool, args, value, cost, raw, duration_s, pos = call
    if cost is None:  # an atom: converting it cost nothing
        return {"tool": tool, "args": args, "value": value, "error": None, "op_id": None,
                "raw": raw, "duration_s": duration_s, "pos": pos}
    return {"tool": tool, "args": args, "value": value, "error": None, "op_id": None,
            "cost": cost, "raw": raw, "duration_s": duration_s, "pos": pos}


def entry_value(entry: dict[str, Any]) -> Any:
    """The ptclisp value of a journal call entry or op outcome (decoded on first use when it
    was read from a serialized step: ``LazyEntry``); None for an error outcome, which has none."""
    try:
        return entry["value"]
    except KeyError:
        return None
