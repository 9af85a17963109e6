"""Checkpoints: a resume skips the top-level forms that finished before the run suspended.

Without one, a resume replays the program from the top (every journaled call answered from the
journal), so k sequential awaits, each in its own top-level form, cost O(k²) in total. A
checkpoint is the state at the start of the top-level form the run suspended in:

    form        its index; the resume starts there (that form replays up to its await)
    values      the namespace's plain-data values (no fn, no lazy seq) at that point
    fn_forms    the top-level ``(defn f ...)``/``(def f (fn ...))`` forms before it, re-run on
                resume to re-create the namespace's fns (making a fn has no effect)
    steps, memory, tool_calls, printed   the meter at that point (a replay charges exactly
                these: the meter is deterministic)
    output      what the program had printed
    calls, awaits   journaled calls and completed awaits of the skipped forms
    refs        namespace values that are a journaled tool result or op result, by reference
                (``[call index]`` or ``op id``): a 10,000-record tool result is stored once

A run takes a checkpoint only when the namespace can be rebuilt exactly that way: every value
plain data, or a fn whose name only top-level fn definitions ever define. Otherwise the step has
none and the resume replays from the top, as before.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterator
from typing import Any

from .._analyzer import ast as A
from .._identity import by_identity
from .._values import codec as _codec
from .._values.types import Char, Keyword, List, Map, OpHandle, Regex, Set, Symbol, Vector
from .journal import Journal, PendingError, entry_value

__all__ = ["decode_checkpoint", "encode_checkpoint", "make_checkpoint", "restore"]

_ATOMS = frozenset({int, float, str, bool, type(None), Keyword, Symbol, Char, Regex, OpHandle})
_COLLS = frozenset({Vector, List, Set})
_INTS = ("form", "steps", "memory", "tool_calls", "printed", "calls", "awaits")


def make_checkpoint(program: A.Program, mark: tuple[Any, ...] | None, output: list[str],
                    journal: Journal) -> dict[str, Any] | None:
    """The checkpoint of a run that suspended after ``mark`` (``ToolHost.mark_form``), or
    None when the forms before it cannot be skipped exactly."""
    if mark is None or mark[0] == 0:
        return None
    index, names, steps, memory, tool_calls, printed, items, calls, awaits, cursor, lazy = mark
    defs = _form_defs(program)
    fn_forms = defs.fns_before(index)
    # atoms are kept as they are; names restored by reference and never read since stay
    # references, undecoded; the other values are looked up among the journaled results
    values = {n: v for n, v in names.items() if type(v) in _ATOMS}
    refs: dict[str, Any] = {n: r for n, r in lazy.items() if n not in names} if lazy else {}
    others = [(n, v) for n, v in names.items() if type(v) not in _ATOMS]
    journaled = _journaled(journal) if others else {}
    for name, value in others:
        ref = journaled.get(id(value))
        if ref is not None:
            refs[name] = ref
        elif _plain(value, 0):
            values[name] = value
        elif not (callable(value) and defs.rebuildable_fn(name, index)):
            return None
    return {"form": index, "values": values, "refs": refs, "fn_forms": fn_forms,
            "steps": steps, "memory": memory, "tool_calls": tool_calls, "printed": printed,
            "output": "".join(output[:items]), "calls": calls, "awaits": awaits,
            "cursor": list(cursor)}


def _journaled(journal: Journal) -> dict[int, Any]:
    """id(value) → its reference, for the journal's tool results and op results (immutable
    ptclisp values the journal holds, so their ids stay theirs)."""
    # a value not decoded yet is in no namespace; the first reference to a value wins
    # entries still packed (``Journal.head``) were never read: their values are in no namespace
    offset, calls, ops = journal.loaded()
    found: dict[int, Any] = {id(o["value"]): op_id for op_id, o in
                             reversed(ops.items()) if "value" in o}
    found.update({id(c["value"]): [i] for i, c in reversed(list(enumerate(calls, offset)))
                  if "value" in c and c["error"] is None and c["op_id"] is None})
    return found


def restore(checkpoint: dict[str, Any], program: A.Program, limits: Any, ns: Any,
            journal: Journal, cancel: Any = None) -> Any:
    """Rebuild the namespace ``ns`` of ``checkpoint`` (re-running its fn definitions under a
    throwaway meter); returns the run's meter, charged as at the checkpoint."""
    from .._limits import Meter

    if checkpoint["form"] > len(program.forms) or any(
            i >= checkpoint["form"] or not _is_fn_def(program.forms[i])
            for i in checkpoint["fn_forms"]):
        raise _corrupt("its checkpoint does not fit the program")
    if any(checkpoint[field] > limit for field, limit in (
            ("steps", limits.max_steps), ("memory", limits.max_memory),
            ("tool_calls", limits.max_tool_calls), ("printed", limits.max_output))):
        raise _corrupt("its checkpoint is past the step's limits")
    if checkpoint["fn_forms"]:
        ns.update(_made_fns(tuple(checkpoint["fn_forms"]), program, limits, ns))
    ns.update(checkpoint["values"])
    refs = checkpoint["refs"]
    if not refs.keys().isdisjoint(checkpoint["values"]):
        raise _corrupt("its checkpoint restores a name twice")
    _check_refs(refs.values(), journal)
    # read when the program first uses the name: a 10,000-record result or the k results
    # of k earlier awaits are not decoded for forms that do not read them
    ns.lazy = dict(refs)
    ns.resolve = functools.partial(_resolve, journal=journal)
    meter = Meter(limits, steps_spent=checkpoint["steps"], cancel=cancel)
    meter.memory, meter.tool_calls = checkpoint["memory"], checkpoint["tool_calls"]
    meter.output = checkpoint["printed"]
    return meter


def _made_fns(key: tuple[int, ...], program: A.Program, limits: Any, ns: Any) -> dict[str, Any]:
    """The fns the top-level fn definitions ``key`` make, by name: made once per namespace (a
    reused program's) and kept for its later resumes. A top-level fn captures nothing and
    reads its namespace, run context and meter when called, so the same fn object serves
    every run in that namespace — and keeps its call count, so a fn called on every resume
    becomes a source fn (``fns``: same steps, same results) instead of starting cold each
    time."""
    from .._compiler.compiler import compile_program
    from .._limits import Meter, use_meter

    made: dict[tuple[int, ...], dict[str, Any]] = ns.__dict__.setdefault("fn_forms_made", {})
    fns = made.get(key)
    if fns is None:
        forms = tuple(program.forms[i] for i in key)
        ctx = ns.context
        ctx.meter = Meter(limits)
        with use_meter(ctx.meter):
            compile_program(A.Program(forms, program.nslots, program.defs), ns)()
        fns = made[key] = {form.name: ns[form.name] for form in forms
                           if isinstance(form, A.Def)}
    return fns


def _check_refs(refs: Any, journal: Journal) -> None:
    """References to journaled tool results (``[call index]``) or op results (``op id``) that
    the journal holds, checked together (a step after k awaits holds ~k of them); whether the
    entry is a value and not an error is checked when the reference is resolved."""
    ops = [r for r in refs if type(r) is str]
    calls = [r for r in refs if type(r) is not str]
    n = journal.ncalls()
    if not journal.has_results(set(ops)) or not all(
            type(r) is list and len(r) == 1 and type(r[0]) is int and 0 <= r[0] < n
            for r in calls):
        raise _corrupt("its checkpoint refers to a result the journal does not hold")


def _resolve(ref: Any, journal: Journal) -> Any:
    """The value ``ref`` (checked by ``_check_refs``) refers to; ``pending_corrupt`` when the
    journal holds an error there, or the value malformed."""
    entry = journal.call(ref[0]) if type(ref) is list else journal.result(ref)
    if entry is None or entry.get("error") is not None or entry.get("op_id") is not None:
        raise _corrupt("its checkpoint refers to a result the journal does not hold")
    return entry_value(entry)


def encode_checkpoint(checkpoint: dict[str, Any] | None) -> dict[str, Any] | None:
    if checkpoint is None:
        return None
    values = {name: v if type(v) in _PLAIN and (type(v) is not int or -_I64 <= v < _I64)
              else _codec.encode(v) for name, v in checkpoint["values"].items()}
    return {**checkpoint, "values": values}


_PLAIN = frozenset({int, float, str, bool, type(None)})
"""Values that encode as themselves (64-bit integers only)."""
_I64 = 2**63


def decode_checkpoint(body: Any) -> dict[str, Any] | None:
    """Inverse of ``encode_checkpoint``; ``pending_corrupt`` for anything malformed."""
    if body is None:
        return None
    try:
        if not isinstance(body, dict) or \
                set(body) != {*_INTS, "values", "refs", "fn_forms", "output", "cursor"}:
            raise TypeError("unexpected fields")
        cursor = body["cursor"]
        if not isinstance(cursor, list) or len(cursor) != 2 or \
                any(type(n) is not int or n < 0 for n in cursor):
            raise TypeError("cursor must be [calls, pmaps] (journal positions)")
        for field in _INTS:
            if type(body[field]) is not int or body[field] < 0:
                raise TypeError(f"{field} must be a non-negative integer")
        if not isinstance(body["output"], str) or not isinstance(body["values"], dict) or \
                not isinstance(body["fn_forms"], list) or \
                any(type(i) is not int or i < 0 for i in body["fn_forms"]):
            raise TypeError("malformed output, values or fn_forms")
        refs, values = body["refs"], body["values"]
        if type(refs) is not dict or not _TEXT.issuperset(map(type, refs)) or \
                not _REF_TYPES.issuperset(map(type, refs.values())):
            raise TypeError("malformed refs")
        if not _TEXT.issuperset(map(type, values)):
            raise TypeError("a value's name must be text")
        if not _PLAIN.issuperset(map(type, values.values())):  # atoms decode to themselves
            values = {name: _codec.decode(value) for name, value in values.items()}
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise _corrupt(f"malformed checkpoint: {exc}") from None
    return {**body, "values": values}


_TEXT = frozenset({str})
_REF_TYPES = frozenset({str, list})


# ---------------------------------------------------------------- helpers


def _plain(value: Any, depth: int) -> bool:
    """Data the codec carries exactly: no fn, no lazy seq (encoding would realize it)."""
    t = type(value)
    if t in _ATOMS:
        return True
    if depth > 100:
        return False
    if t in _COLLS:
        return all(_plain(x, depth + 1) for x in value)
    if t is Map:
        return all(_plain(k, depth + 1) and _plain(v, depth + 1) for k, v in value.items())
    return False


def _is_fn_def(node: A.Node) -> bool:
    return isinstance(node, A.Def) and isinstance(node.expr, A.Fn)


class _Defs:
    """Where a program's top-level forms define names, computed once per program (a resume
    suspends again and again, one form further each time): a checkpoint at form ``index`` asks
    about the forms before it in O(log forms), not by walking them."""

    __slots__ = ("first_fn", "first_other", "fn_forms")

    def __init__(self, program: A.Program) -> None:
        self.fn_forms: list[int] = []
        """Indexes of the top-level fn definitions (``defn``, ``(def f (fn ...))``)."""
        self.first_fn: dict[str, int] = {}
        """Name → the first form defining it as a top-level fn definition."""
        self.first_other: dict[str, int] = {}
        """Name → the first form defining it any other way (a nested def, a def of data)."""
        for i, form in enumerate(program.forms):
            if _is_fn_def(form):
                assert isinstance(form, A.Def)
                self.fn_forms.append(i)
                self.first_fn.setdefault(form.name, i)
                nested = _defs(form.expr)
            else:
                nested = _defs(form)
            for d in nested:
                self.first_other.setdefault(d.name, i)

    def fns_before(self, index: int) -> list[int]:
        return self.fn_forms[:bisect.bisect_left(self.fn_forms, index)]

    def rebuildable_fn(self, name: str, index: int) -> bool:
        """Before form ``index``, ``name`` is defined by top-level fn definitions only."""
        return self.first_fn.get(name, index) < index <= self.first_other.get(name, index)


_FORM_DEFS: dict[int, tuple[A.Program, _Defs]] = {}


def _form_defs(program: A.Program) -> _Defs:
    return by_identity(_FORM_DEFS, program, _Defs, 256)


def _defs(node: Any) -> Iterator[A.Def]:
    """Every ``Def`` node inside ``node`` (itself included)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, A.Def):
            yield current
        if isinstance(current, A.Node):
            for slot in type(current).__slots__:
                stack.extend(_children(getattr(current, slot, None)))


def _children(value: Any) -> Iterator[Any]:
    if isinstance(value, A.Node):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _children(item)


def _corrupt(message: str) -> PendingError:
    return PendingError(f"the pending step is damaged: {message}", code="pending_corrupt",
                        hint="resume from an intact copy of the step")
