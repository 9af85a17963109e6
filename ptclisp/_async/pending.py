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
import struct
import uuid
from typing import Any, Literal

import msgpack

from .._limits import Limits
from .._values import codec as _codec
from .._values.types import bulk
from .checkpoint import decode_checkpoint, encode_checkpoint
from .journal import Journal, PendingError

__all__ = [
    "FORMAT_VERSION",
    "PendingError",
    "PendingStep",
    "deserialize",
    "program_hash",
    "serialize",
]

FORMAT_VERSION = 1
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
            "journal": _journal_to_dict(self.journal),
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


def _journal_to_dict(journal: Journal) -> dict[str, Any]:
    return {
        "calls": [
            {
                "tool": c["tool"],
                "args": c["args"],
                "value": _codec.encode(c["value"]),
                "error": c["error"],
                "duration_s": c.get("duration_s", 0.0),
                "op_id": c["op_id"],
                **({"pos": c["pos"]} if c.get("pos") is not None else {}),
                **({"cost": list(c["cost"])} if c.get("cost") else {}),
            }
            for c in journal.calls
        ],
        "op_results": [[op_id, _outcome_to_dict(o)] for op_id, o in journal.op_results.items()],
        "awaits_done": journal.awaits_done,
        "time_spent_s": journal.time_spent_s,
    }


def _outcome_to_dict(outcome: dict[str, Any]) -> dict[str, Any]:
    if outcome.get("error") is not None:
        return {"error": outcome["error"]}
    cost = outcome.get("cost")
    return {"value": _codec.encode(outcome.get("value")), **({"cost": list(cost)} if cost else {})}


def _journal_from_dict(body: dict[str, Any]) -> Journal:
    calls = []
    for c in _typed(body["calls"], list):
        _typed(c, dict)
        op_id = c["op_id"]
        calls.append(
            {
                "tool": _typed(c["tool"], str),
                "args": _typed(c["args"], dict),
                "value": _codec.decode(c["value"]),
                "error": None if c["error"] is None else _typed(c["error"], dict),
                "duration_s": float(c["duration_s"]),
                "op_id": None if op_id is None else _typed(op_id, str),
                **({} if c.get("pos") is None else {"pos": _typed(c["pos"], str)}),
                **({} if c.get("cost") is None else {"cost": _cost(c["cost"])}),
            }
        )
    results: dict[str, dict[str, Any]] = {}
    for pair in _typed(body["op_results"], list):
        op_id, outcome = _typed(pair, list)
        _typed(outcome, dict)
        if "error" in outcome:
            results[_typed(op_id, str)] = {"error": _typed(outcome["error"], dict)}
        else:
            results[_typed(op_id, str)] = {"value": _codec.decode(outcome["value"]),
                                           **({} if outcome.get("cost") is None
                                              else {"cost": _cost(outcome["cost"])})}
    return Journal(
        calls=calls,
        op_results=results,
        awaits_done=_typed(body["awaits_done"], int),
        time_spent_s=float(body["time_spent_s"]),
    )
