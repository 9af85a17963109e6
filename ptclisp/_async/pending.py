"""``PendingStep``: a suspended run as plain data, and its byte format.

A run that awaits an op nobody has finished yet stops with a ``PendingStep`` instead of a
``Result``. It holds everything needed to continue in any process: the program, its inputs and
limits, the journal of what tools answered, which ops are pending, the budgets already spent and
an opaque ``host_state`` for the host (the agent loop keeps its conversation there).

Bytes (``serialize``/``deserialize``)::

    b"PTCL" | version: u16 big-endian | mac kind: u8 (0 sha256, 1 hmac-sha256) | digest: 32 bytes
    | body: msgpack map

The digest covers the version, mac kind and body, so any flipped byte is detected. Without a key
the digest is a checksum (accidents: truncation, bit rot, a wrong column); with ``key=`` it is an
HMAC and a forged or edited step is rejected too. Either way a bad blob is an error with a code,
never a wrong result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import operator
import struct
import uuid
from typing import Any, Literal

import msgpack

from .._limits import Limits
from .._values import codec as _codec
from .._values.types import bulk
from .checkpoint import decode_checkpoint, encode_checkpoint
from .journal import Journal, LazyEntry, PackedHead, PendingError, entry_value

__all__ = [
    "FORMAT_VERSION",
    "PendingError",
    "PendingStep",
    "deserialize",
    "program_hash",
    "serialize",
]

FORMAT_VERSION = 2
"""1: the journal as lists of entries. 2 (issue 15): ``~rows`` values, checkpoints, entries
before the checkpoint packed (``journal.head``); a step of another version is refused
(``pending_version``)."""
_MAGIC = b"PTCL"
_HEADER = struct.Struct(">4sHB32s")
_SHA256, _HMAC = 0, 1


def program_hash(source: str) -> str:
    """SHA-256 of the program text: ties a step to the program it suspended."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


@dataclasses.dataclass
class PendingStep:
    """A suspended run. ``status`` is always ``"pending"`` (a ``Result`` has ok/failed/error)."""

    source: str
    data: dict[str, Any]
    """The run's inputs (``data/name``) as ptclisp values."""
    limits: Limits
    journal: Journal
    awaiting: tuple[str, ...]
    """The op ids the program is blocked on right now."""
    output: str = ""
    """What the program printed before it suspended."""
    steps_spent: int = 0
    host_state: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Opaque to ptclisp; must be msgpack-able (use ``_codec.encode`` for ptclisp values)."""
    response: Any = None
    """An optional immediate answer for the caller while the ops run (a ptclisp value)."""
    step_id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)
    tools: dict[str, str] = dataclasses.field(default_factory=dict)
    """The fingerprint (``Tool.fingerprint``) of every tool the run used so far, by name: a
    resume with a missing or incompatible tool is refused (``pending_registry_mismatch``)."""
    budget: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The run's budget ledger (``ptclisp.Budget.to_dict()``), carried across resumes."""
    trace: dict[str, str] = dataclasses.field(default_factory=dict)
    """The OTel span context of the run this step continues (``traceparent`` form)."""
    program_hash: str = ""
    checkpoint: dict[str, Any] | None = None
    """The state at the start of the top-level form the run suspended in, so a resume skips
    the forms before it (``_async.checkpoint``); None: a resume replays from the top."""
    version: int = FORMAT_VERSION

    status: Literal["pending"] = dataclasses.field(default="pending", init=False)

    def __post_init__(self) -> None:
        if not self.program_hash:
            self.program_hash = program_hash(self.source)

    @property
    def pending_ops(self) -> dict[str, dict[str, Any]]:
        """``{op_id: {"tool": name, "args": {...}}}``: ops started and not yet resumed."""
        return self.journal.pending_ops()

    @property
    def time_spent_s(self) -> float:
        return self.journal.time_spent_s

    def to_dict(self) -> dict[str, Any]:
        """Plain data (msgpack-safe): ptclisp values are ``_codec``-encoded."""
        return {
            "version": self.version,
            "step_id": self.step_id,
            "source": self.source,
            "program_hash": self.program_hash,
            "data": {name: _codec.encode(v) for name, v in self.data.items()},
            "limits": self.limits.to_dict(),
            "journal": _journal_to_dict(self.journal,
                                        self.checkpoint["calls"] if self.checkpoint else None),
            "awaiting": list(self.awaiting),
            "output": self.output,
            "steps_spent": self.steps_spent,
            "host_state": self.host_state,
            "response": _codec.encode(self.response),
            "tools": dict(self.tools),
            "budget": dict(self.budget),
            "trace": dict(self.trace),
            "checkpoint": encode_checkpoint(self.checkpoint),
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> PendingStep:
        """Inverse of ``to_dict``; raises ``PendingError`` (``pending_corrupt``) on bad data."""
        try:
            return cls(
                source=_typed(body["source"], str),
                data={
                    _typed(k, str): _codec.decode(v) for k, v in _typed(body["data"], dict).items()
                },
                limits=Limits.from_dict(_typed(body["limits"], dict)),
                journal=_journal_from_dict(_typed(body["journal"], dict)),
                awaiting=tuple(_typed(x, str) for x in _typed(body["awaiting"], list)),
                output=_typed(body["output"], str),
                steps_spent=_typed(body["steps_spent"], int),
                host_state=_typed(body["host_state"], dict),
                response=_codec.decode(body["response"]),
                step_id=_typed(body["step_id"], str),
                tools={_typed(k, str): _typed(v, str)
                       for k, v in _typed(body.get("tools", {}), dict).items()},
                budget=_typed(body.get("budget", {}), dict),
                trace={_typed(k, str): _typed(v, str)
                       for k, v in _typed(body.get("trace", {}), dict).items()},
                program_hash=_typed(body["program_hash"], str),
                version=_typed(body["version"], int),
                checkpoint=decode_checkpoint(body.get("checkpoint")),
            )
        except PendingError:
            raise
        except Exception as exc:  # IndexError, EvalError, RecursionError...: all malformed data
            raise _corrupt(f"malformed pending step: {type(exc).__name__}: {exc}") from None


# ---------------------------------------------------------------- bytes


_BULK_BYTES = 1 << 16
"""Bodies at least this big are decoded with the garbage collector paused (``bulk``)."""


def serialize(step: PendingStep, *, key: bytes | None = None) -> bytes:
    """The step as bytes (msgpack + checksum; an HMAC when ``key`` is given)."""
    try:
        body = msgpack.packb(step.to_dict(), use_bin_type=True, unicode_errors="surrogatepass")
    except (TypeError, OverflowError, ValueError) as exc:
        raise PendingError(
            f"the pending step cannot be serialized: {exc}",
            code="pending_unserializable",
            hint="host_state must hold msgpack-able data; tool arguments must fit in 64 bits",
        ) from None
    _check_key(key)
    kind = _HMAC if key is not None else _SHA256
    digest = _digest(FORMAT_VERSION, kind, body, key)
    return _HEADER.pack(_MAGIC, FORMAT_VERSION, kind, digest) + body


def deserialize(
    blob: bytes, *, key: bytes | None = None, program: str | None = None
) -> PendingStep:
    """Bytes → ``PendingStep``, verified. ``program``: reject a step of any other program.

    Raises ``PendingError``: ``pending_corrupt`` (damaged, truncated, tampered, wrong or missing
    key), ``pending_version`` (another format version), ``pending_program_mismatch``.
    """
    _check_key(key)
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise _corrupt(f"expected bytes, got {type(blob).__name__}")
    blob = bytes(blob)
    if len(blob) < _HEADER.size or not blob.startswith(_MAGIC):
        raise _corrupt("not a ptclisp pending step (bad header or truncated)")
    _, version, kind, digest = _HEADER.unpack_from(blob)
    if version != FORMAT_VERSION:
        raise PendingError(
            f"pending step format version {version}, this ptclisp reads version {FORMAT_VERSION}",
            code="pending_version",
            hint="resume it with the ptclisp version that created it, or start the run again",
        )
    body = blob[_HEADER.size :]
    _check_digest(version, kind, body, digest, key)
    with bulk if len(body) >= _BULK_BYTES else contextlib.nullcontext():
        try:
            data = msgpack.unpackb(body, raw=False, strict_map_key=False,
                                   unicode_errors="surrogatepass")
        except Exception as exc:  # msgpack raises several types for bad input
            raise _corrupt(f"undecodable pending step body: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != version:
            raise _corrupt("pending step body does not match its header")
        step = PendingStep.from_dict(data)
    if step.program_hash != program_hash(step.source):
        raise PendingError(
            "the pending step's program does not match its recorded hash",
            code="pending_program_mismatch",
        )
    if program is not None and program_hash(program) != step.program_hash:
        raise PendingError(
            "the pending step belongs to a different program",
            code="pending_program_mismatch",
            hint="resume a step with the program that created it",
        )
    return step


def _check_key(key: Any) -> None:
    if key is None:
        return
    if not isinstance(key, (bytes, bytearray)) or not key:
        shown = "empty bytes" if isinstance(key, (bytes, bytearray)) else type(key).__name__
        raise PendingError(
            f"key: an HMAC key must be non-empty bytes, got {shown}",
            code="invalid_args",
            hint="pass a secret of 32 random bytes (secrets.token_bytes(32)), or key=None",
        )


def _digest(version: int, kind: int, body: bytes, key: bytes | None) -> bytes:
    prefix = struct.pack(">HB", version, kind)
    if kind == _HMAC:
        assert key is not None
        return hmac.new(key, prefix + body, hashlib.sha256).digest()
    return hashlib.sha256(prefix + body).digest()


def _check_digest(version: int, kind: int, body: bytes, digest: bytes, key: bytes | None) -> None:
    if kind not in (_SHA256, _HMAC):
        raise _corrupt(f"unknown checksum kind {kind}")
    if key is not None and kind != _HMAC:
        raise _corrupt(
            "the pending step is not signed, but a key was given",
            hint="sign it: serialize(step, key=...)",
        )
    if key is None and kind == _HMAC:
        raise _corrupt(
            "the pending step is signed: pass its key", hint="deserialize(blob, key=...)"
        )
    if not hmac.compare_digest(digest, _digest(version, kind, body, key)):
        if kind == _HMAC:
            raise _corrupt(
                "pending step signature mismatch: wrong key or tampered bytes",
                hint="deserialize with the key it was signed with; if the key is right, the "
                "stored bytes were changed and the step is unusable",
            )
        raise _corrupt("pending step checksum mismatch: the bytes were corrupted or tampered with")


def _corrupt(message: str, *, hint: str | None = None) -> PendingError:
    return PendingError(
        message,
        code="pending_corrupt",
        hint=hint or "the stored step is unusable; start the run again from its program",
    )


def _cost(value: Any) -> tuple[int, int]:
    """A recorded conversion cost: ``[steps, bytes]``, both non-negative integers."""
    steps, nbytes = _typed(value, list)
    if _typed(steps, int) < 0 or _typed(nbytes, int) < 0:
        raise TypeError("a negative cost")
    return steps, nbytes


def _typed(value: Any, kind: type) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


# ---------------------------------------------------------------- journal encoding
#
# A journal entry never changes once it is in the journal, and a resume's successor shares the
# entries of the step it continues (``resume._journal_copy`` copies the dicts, not the values).
# So each entry keeps its encoded form under ``"enc"`` — made the first time a step holding it is
# serialized, or the form it was read from — and a later step serializes it without encoding it
# again: k sequential awaits encode each entry once, not k times.


def _journal_to_dict(journal: Journal, upto: int | None = None) -> dict[str, Any]:
    """The journal as plain data; with ``upto`` (the checkpoint's call count) the calls before
    it and every delivered op result go into ``"head"``, packed (``_head_to_dict``)."""
    head = journal.head
    _, calls, ops = journal.loaded()
    done = head.ncalls if head is not None else 0
    if upto is None or not done <= upto <= done + len(calls):
        head, calls, ops = None, journal.calls, journal.op_results  # unpacks a head
        return {
            "calls": [c.get("enc") or _call_to_dict(c) for c in calls],
            "op_results": [[op_id, o.get("enc") or _outcome_to_dict(o)]
                           for op_id, o in ops.items()],
            "awaits_done": journal.awaits_done,
            "time_spent_s": journal.time_spent_s,
        }
    return {
        "head": _head_to_dict(head, calls[:upto - done], ops),
        "calls": [c.get("enc") or _call_to_dict(c) for c in calls[upto - done:]],
        "op_results": [],
        "awaits_done": journal.awaits_done,
        "time_spent_s": journal.time_spent_s,
    }


def _pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True, unicode_errors="surrogatepass")


def _head_to_dict(head: PackedHead | None, moved: list[dict[str, Any]],
                  ops: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``head`` extended by the calls ``moved`` into it and the op results ``ops``: the bytes
    of the head are copied as they are, only the new entries are packed."""
    calls = b"".join([head.calls if head is not None else b"",
                      *(_pack(c.get("enc") or _call_to_dict(c)) for c in moved)])
    packed_ops = b"".join([head.ops if head is not None else b"",
                           *(_pack([op_id, o.get("enc") or _outcome_to_dict(o)])
                             for op_id, o in ops.items())])
    op_ids = [*(head.op_ids if head is not None else ()), *ops]
    started = dict(head.started) if head is not None else {}
    started.update((c["op_id"], {"tool": c["tool"], "args": c["args"]})
                   for c in moved if c.get("op_id") is not None)
    tools = dict.fromkeys(head.tools if head is not None else ())
    tools.update(dict.fromkeys(map(operator.itemgetter("tool"), moved)))
    return {"calls": calls, "ncalls": (head.ncalls if head else 0) + len(moved),
            "ops": packed_ops, "op_ids": op_ids,
            "started": [[op_id, o["tool"], o["args"]] for op_id, o in started.items()
                        if op_id not in ops and (head is None or op_id not in head.op_set)],
            "tools": list(tools)}


def _head_from_dict(body: dict[str, Any]) -> PackedHead:
    """The packed head of a serialized journal: its index checked here, its entries when they
    are unpacked (``unpack_head``)."""
    if set(body) != {"calls", "ncalls", "ops", "op_ids", "started", "tools"}:
        raise TypeError("a journal head has unexpected fields")
    op_ids = _typed(body["op_ids"], list)
    started = _typed(body["started"], list)
    tools = _typed(body["tools"], list)
    if not _TEXTS.issuperset(map(type, op_ids)) or len(set(op_ids)) != len(op_ids) or \
            not _TEXTS.issuperset(map(type, tools)) or not _LISTS.issuperset(map(type, started)):
        raise TypeError("a journal head has a malformed index")
    delivered = set(op_ids)
    for triple in started:
        if len(triple) != 3 or type(triple[0]) is not str or type(triple[1]) is not str or \
                type(triple[2]) is not dict or triple[0] in delivered:
            raise TypeError("a journal head has a malformed started op")
    if len({t[0] for t in started}) != len(started) or _typed(body["ncalls"], int) < 0:
        raise TypeError("a journal head has a malformed index")
    return PackedHead(calls=_typed(body["calls"], bytes), ncalls=body["ncalls"],
                      ops=_typed(body["ops"], bytes), op_ids=tuple(op_ids),
                      started={t[0]: {"tool": t[1], "args": t[2]} for t in started},
                      tools=tuple(tools))


def _array(n: int) -> bytes:
    """The msgpack header of an array of ``n`` items."""
    if n < 16:
        return bytes([0x90 | n])
    if n < 1 << 16:
        return b"\xdc" + n.to_bytes(2, "big")
    return b"\xdd" + n.to_bytes(4, "big")


def unpack_head(head: PackedHead) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The entries of a packed head (``Journal`` asks when it needs one), checked as a
    deserialized journal's are and against the head's index: ``pending_corrupt`` otherwise."""
    size = len(head.calls) + len(head.ops)
    try:
        with bulk if size >= _BULK_BYTES else contextlib.nullcontext():
            raw_calls = msgpack.unpackb(_array(head.ncalls) + head.calls, raw=False,
                                        strict_map_key=False, unicode_errors="surrogatepass")
            raw_ops = msgpack.unpackb(_array(len(head.op_ids)) + head.ops, raw=False,
                                      strict_map_key=False, unicode_errors="surrogatepass")
            calls = _calls_from_list(raw_calls)
            ops = _results_from_list(_typed(raw_ops, list))
            del raw_calls, raw_ops  # a big value's encoded rows die here, the collector paused
        if tuple(ops) != head.op_ids:
            raise TypeError("its op results do not match its index")
        started = {c["op_id"]: {"tool": c["tool"], "args": c["args"]}
                   for c in calls if c["op_id"] is not None and c["op_id"] not in ops}
        if started != head.started or set(head.tools) != {c["tool"] for c in calls} or \
                len(head.tools) != len(set(head.tools)):
            raise TypeError("its calls do not match its index")
    except PendingError:
        raise
    except Exception as exc:  # msgpack's errors, TypeError, ValueError...: malformed data
        raise _corrupt(f"the pending step is damaged: its packed journal is malformed: "
                       f"{type(exc).__name__}: {exc}",
                       hint="resume from an intact copy of the step") from None
    return calls, ops


def _call_to_dict(c: dict[str, Any]) -> dict[str, Any]:
    enc = {
        "tool": c["tool"],
        "args": c["args"],
        "value": _codec.encode(entry_value(c)),
        "error": c["error"],
        "duration_s": c.get("duration_s", 0.0),
        "op_id": c["op_id"],
        **({"pos": c["pos"]} if c.get("pos") is not None else {}),
        **({"cost": list(c["cost"])} if c.get("cost") else {}),
    }
    c["enc"] = enc
    return enc


def _outcome_to_dict(outcome: dict[str, Any]) -> dict[str, Any]:
    if outcome.get("error") is not None:
        enc = {"error": outcome["error"]}
    else:
        cost = outcome.get("cost")
        enc = {"value": _codec.encode(entry_value(outcome)),
               **({"cost": list(cost)} if cost else {})}
    outcome["enc"] = enc
    return enc


def _journal_from_dict(body: dict[str, Any]) -> Journal:
    """The journal of a serialized step; its values are decoded when used (``entry_value``).
    Every check runs over whole columns in C (``issuperset`` over ``map``): the journal of a
    step with k awaits holds ~2k entries, and a per-entry Python check made a resume O(k)."""
    head = body.get("head")
    journal = Journal(
        calls=_calls_from_list(_typed(body["calls"], list)),
        op_results=_results_from_list(_typed(body["op_results"], list)),
        awaits_done=_typed(body["awaits_done"], int),
        time_spent_s=float(body["time_spent_s"]),
        head=_head_from_dict(_typed(head, dict)) if head is not None else None,
    )
    if journal.head is not None and not journal.head.op_set.isdisjoint(journal.loaded()[2]):
        raise TypeError("an op result is journaled twice")
    return journal


_CALL_KEYS = frozenset({"tool", "args", "value", "error", "duration_s", "op_id", "pos", "cost"})
_NONE = type(None)
_CALL_FIELDS = (
    ("tool", frozenset({str})), ("args", frozenset({dict})), ("error", frozenset({_NONE, dict})),
    ("op_id", frozenset({_NONE, str})), ("duration_s", frozenset({float, int})),
    ("value", frozenset({int, float, bool, _NONE, str, list, dict})),
)
_POS_TYPES = frozenset({_NONE, str})
_DICTS = frozenset({dict})
_LISTS = frozenset({list})
_TEXTS = frozenset({str})
_get_pos = operator.methodcaller("get", "pos")


def _calls_from_list(calls: list[Any]) -> list[dict[str, Any]]:
    if not _DICTS.issuperset(map(type, calls)) or \
            not all(map(_CALL_KEYS.issuperset, calls)):
        raise TypeError("a journal entry must be a map of the known fields")
    for name, types in _CALL_FIELDS:  # KeyError for a missing field
        if not types.issuperset(map(type, map(operator.itemgetter(name), calls))):
            raise TypeError(f"a journal entry has a malformed {name}")
    if not _POS_TYPES.issuperset(map(type, map(_get_pos, calls))):
        raise TypeError("a journal entry has a malformed pos")
    entries = list(map(_call_entry, calls))
    for entry in entries:
        if entry.get("cost") is not None:  # what converting the result cost: charged on replay
            entry["cost"] = _cost(entry["cost"])
    _decode_big(entries)
    return entries


_BIG = 1_000
"""Journaled values with at least this many top-level items are decoded with the step."""


def _decode_big(entries: Any) -> None:
    """Decode the big values (a 10,000-record tool result) now, while ``deserialize`` holds
    the collector paused (``bulk``), and drop their encoded form: decoded later, in the run,
    the table's maps and the still-referenced encoded rows would each cost the collector a
    pass over them. Small values stay lazy."""
    for entry in entries:
        body = entry["enc"].get("value")
        if type(body) is dict and len(body) == 1:
            body = next(iter(body.values()))
        if type(body) is list and len(body) >= _BIG:
            entry["value"]  # LazyEntry decodes it (pending_corrupt if malformed)
            del entry["enc"]  # the encoded rows die now; a later serialize encodes it again


def _call_entry(encoded: dict[str, Any]) -> dict[str, Any]:
    entry = LazyEntry(encoded)
    del entry["value"]  # decoded when first read (LazyEntry)
    entry["enc"] = encoded
    return entry


def _results_from_list(pairs: list[Any]) -> dict[str, dict[str, Any]]:
    if not _LISTS.issuperset(map(type, pairs)) or not {2}.issuperset(map(len, pairs)):
        raise TypeError("an op result must be [op id, outcome]")
    ids = list(map(operator.itemgetter(0), pairs))
    outcomes = list(map(operator.itemgetter(1), pairs))
    if not _TEXTS.issuperset(map(type, ids)) or not _DICTS.issuperset(map(type, outcomes)) \
            or not all(map(_OUTCOME_KEYS.issuperset, outcomes)):
        raise TypeError("an op result must be [op id, {value, cost} or {error}]")
    results = {op_id: _outcome_entry(o) for op_id, o in zip(ids, outcomes)}
    _decode_big(o for o in results.values() if "enc" in o and "error" not in o)
    return results


_OUTCOME_KEYS = frozenset({"value", "cost", "error"})


def _outcome_entry(encoded: dict[str, Any]) -> dict[str, Any]:
    if "error" in encoded:
        if len(encoded) != 1:
            raise TypeError("an op error outcome has other fields")
        return {"error": _typed(encoded["error"], dict), "enc": encoded}
    if "value" not in encoded:
        raise TypeError("an op outcome needs a value or an error")
    entry = LazyEntry(enc=encoded)  # the value is decoded when first read
    if encoded.get("cost") is not None:
        entry["cost"] = _cost(encoded["cost"])
    return entry
