"""Format 2's packed journal head: the entries before a step's checkpoint stay msgpack bytes
that a resume from the checkpoint does not unpack (``Journal.head``, ``PendingStep`` format 2).

Round trips (hypothesis) compare a journal written with a head — and a successor's, whose head
grows — with the journal itself, before and after unpacking; resumes through heads, signed or
not, give the same results as in-memory runs; a step of another format version, and a head
whose bytes or index were tampered with, are refused with a code."""

from __future__ import annotations

import hashlib
import hmac
import struct
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pending_roundtrip import _entries, _entry, journals, same

import ptclisp
from ptclisp import PendingError, PendingStep, Result
from ptclisp._async import pending as P
from ptclisp._async.journal import Journal


def _through_bytes(journal: Journal, upto: int | None) -> Journal:
    body = msgpack.packb(P._journal_to_dict(journal, upto), use_bin_type=True)
    return P._journal_from_dict(msgpack.unpackb(body, raw=False, strict_map_key=False))


def _ops(journal: Journal) -> set[str]:
    return {c["op_id"] for c in journal.calls if c["op_id"] is not None}


@settings(max_examples=150, deadline=None)
@given(journals(), st.data())
def test_a_packed_head_round_trips_and_grows(journal: Journal, data: Any) -> None:
    n = len(journal.calls)
    upto = data.draw(st.integers(0, n))
    back = _through_bytes(journal, upto)
    assert back.head is not None and back.head.ncalls == upto
    # what a resume asks, answered from the index without unpacking
    assert back.ncalls() == n
    assert back.pending_ops() == journal.pending_ops()
    for op_id in _ops(journal) | {"op-nope"}:
        assert back.is_started(op_id) == (op_id in _ops(journal))
        assert back.has_result(op_id) == (op_id in journal.op_results)
    assert set(back.tool_names()) == {c["tool"] for c in journal.calls}
    assert back.newest_result() == next(reversed(journal.op_results), None)
    assert back.head is not None  # still packed
    # a successor packs further: its head is the old bytes plus the entries moved into it
    later = data.draw(st.integers(upto, n))
    again = _through_bytes(back.successor(), later)
    assert again.head is not None and again.head.calls.startswith(back.head.calls)
    for got in (back, again):
        assert same(_entries(got.calls), _entries(journal.calls))  # unpacks the head
        assert same({k: _entry(o) for k, o in got.op_results.items()},
                    {k: _entry(o) for k, o in journal.op_results.items()})
        assert got.head is None and got.pending_ops() == journal.pending_ops()
    # an entry read through the index is the entry at that position
    third = _through_bytes(journal, upto)
    for i in range(n):
        assert same(_entry(third.call(i)), _entry(journal.calls[i]))


PROGRAM = "\n".join(["(def big (tool/rows {:n 1200}))"] +
                    [f"(def a{i} (await (tool/slow {{:i {i}}})))\n(def s{i} (+ (:x a{i}) {i}))"
                     for i in range(5)] + ["[(count big) s0 s1 s2 s3 s4]"])


def _tools() -> dict[str, Any]:
    return {"slow": ptclisp.Tool("slow", lambda **kw: None, is_async=True,
                                 signature="(i :int) -> :any"),
            "rows": lambda args: [{"id": i, "tag": f"t{i % 3}"} for i in range(args["n"])]}


def _drive(*, key: bytes | None, through_bytes: bool) -> tuple[Any, ...]:
    tools = _tools()
    step = ptclisp.start(PROGRAM, tools=tools)
    heads = []
    n = 0
    while isinstance(step, PendingStep):
        if through_bytes:
            step = ptclisp.deserialize(ptclisp.serialize(step, key=key), key=key)
            heads.append(step.journal.head.ncalls if step.journal.head else 0)
        (op_id,) = step.pending_ops
        step = ptclisp.resume(step, op_id, {"x": n}, tools=tools)
        n += 1
    assert isinstance(step, Result) and step.ok, step.error
    calls = [(c.name, c.args, c.op_id is None) for c in step.tool_calls]
    return ptclisp.to_python(step.value), step.steps, step.memory, step.output, calls, heads


@pytest.mark.parametrize("key", [None, b"k" * 32])
def test_resumes_through_packed_heads_match_in_memory_ones(key: bytes | None) -> None:
    *outcome, heads = _drive(key=key, through_bytes=True)
    *expected, _ = _drive(key=None, through_bytes=False)
    assert outcome == expected
    assert outcome[0] == [1200, 0, 2, 4, 6, 8]
    assert heads[0] == 1 and heads == sorted(heads) and heads[-1] == 5  # the head grows


def test_a_resume_from_a_checkpoint_leaves_the_head_packed() -> None:
    tools = _tools()
    step = ptclisp.start(PROGRAM, tools=tools)
    for n in range(3):
        step = ptclisp.deserialize(ptclisp.serialize(step))
        journal = step.journal
        step = ptclisp.resume(step, next(iter(step.pending_ops)), {"x": n}, tools=tools)
        assert journal.head is not None and isinstance(step, PendingStep)
        assert step.journal.head is journal.head  # never unpacked by the resume


# ---------------------------------------------------------------- versions


def _blob(body: dict[str, Any], version: int, key: bytes | None = None) -> bytes:
    packed = msgpack.packb(body, use_bin_type=True)
    kind = 1 if key else 0
    prefix = struct.pack(">HB", version, kind)
    digest = (hmac.new(key, prefix + packed, hashlib.sha256).digest() if key
              else hashlib.sha256(prefix + packed).digest())
    return P._HEADER.pack(b"PTCL", version, kind, digest) + packed


def _suspended_body() -> dict[str, Any]:
    tools = _tools()
    step = ptclisp.start(PROGRAM, tools=tools)
    step = ptclisp.resume(step, next(iter(step.pending_ops)), {"x": 0}, tools=tools)
    assert isinstance(step, PendingStep) and step.checkpoint is not None
    body = msgpack.unpackb(ptclisp.serialize(step)[P._HEADER.size:], raw=False,
                           strict_map_key=False)
    assert "head" in body["journal"]
    return body


@pytest.mark.parametrize("version", [0, 1, 3, 65535])
def test_a_step_of_another_format_version_is_refused(version: int) -> None:
    assert P.FORMAT_VERSION == 2
    body = _suspended_body()
    if version == 1:  # what version 1 wrote: the journal as lists, no head
        journal = body["journal"]
        head = journal.pop("head")
        journal["calls"] = msgpack.unpackb(P._array(head["ncalls"]) + head["calls"]) + \
            journal["calls"]
    body["version"] = version
    for key in (None, b"s" * 32):
        with pytest.raises(PendingError) as info:
            ptclisp.deserialize(_blob(body, version, key), key=key)
        assert info.value.code == "pending_version"
        assert f"version {version}" in info.value.message
        assert "start the run again" in (info.value.hint or "")
    body["version"] = P.FORMAT_VERSION  # the same body under this version's header reads
    back = ptclisp.deserialize(_blob(body, P.FORMAT_VERSION))
    assert (back.journal.head is None) == (version == 1)


# ---------------------------------------------------------------- hostile heads


def _with_head(change: Any) -> dict[str, Any]:
    body = _suspended_body()
    change(body["journal"]["head"], body["journal"])
    return body


def _head_set(field: str, value: Any) -> Any:
    return lambda head, journal: head.__setitem__(field, value)


REFUSED_BY_DESERIALIZE = [
    _head_set("calls", "text"),
    _head_set("calls", None),
    _head_set("ops", [1]),
    _head_set("ncalls", -1),
    _head_set("ncalls", "1"),
    _head_set("ncalls", True),
    _head_set("op_ids", "abc"),
    _head_set("op_ids", [1]),
    _head_set("tools", [None]),
    _head_set("started", {"x": 1}),
    _head_set("started", [["op", "slow"]]),
    _head_set("started", [["op", "slow", [1]]]),
    _head_set("started", [["op", "slow", {}], ["op", "slow", {}]]),
    lambda head, journal: head.__setitem__("op_ids", head["op_ids"] * 2),
    lambda head, journal: head.__setitem__("started", [[head["op_ids"][0], "slow", {}]]),
    lambda head, journal: head.__setitem__("extra", 1),
    lambda head, journal: head.pop("tools"),
    lambda head, journal: journal.__setitem__("head", [1, 2]),
    lambda head, journal: journal.__setitem__(  # one op's result journaled twice
        "op_results", [[head["op_ids"][0], {"value": 1}]]),
]

REFUSED_WHEN_UNPACKED = [
    lambda head, journal: head.__setitem__("ncalls", head["ncalls"] + 1),
    lambda head, journal: head.__setitem__("ncalls", head["ncalls"] - 1),
    lambda head, journal: head.__setitem__("ncalls", 2**40),
    lambda head, journal: head.__setitem__("calls", head["calls"][:-5]),
    lambda head, journal: head.__setitem__("calls", head["calls"] + b"\xc0"),
    lambda head, journal: head.__setitem__("calls", b"\xc1" + head["calls"][1:]),
    lambda head, journal: head.__setitem__("ops", head["ops"][:-1]),
    lambda head, journal: head.__setitem__("op_ids", ["op-forged"]),
    lambda head, journal: head.__setitem__("op_ids", []),
    lambda head, journal: head.__setitem__("tools", ["slow", "rows", "mail"]),
    lambda head, journal: head.__setitem__("tools", []),
    lambda head, journal: head.__setitem__("started", [["op-forged", "slow", {"i": 9}]]),
    lambda head, journal: head.__setitem__(  # a call entry of the wrong shape
        "calls", msgpack.packb([1, 2]) + head["calls"].split(b"\x88", 2)[-1]),
]


@pytest.mark.parametrize("change", REFUSED_BY_DESERIALIZE)
def test_a_malformed_head_index_is_refused_by_deserialize(change: Any) -> None:
    with pytest.raises(PendingError) as info:
        ptclisp.deserialize(_blob(_with_head(change), P.FORMAT_VERSION))
    assert info.value.code == "pending_corrupt"


def _resumed_to_the_end(blob: bytes) -> Any:
    """Resume the step until it ends; the ``PendingError`` raised, or the final outcome."""
    tools = _tools()
    try:
        step: Any = ptclisp.deserialize(blob)
        n = 1
        while isinstance(step, PendingStep):
            ops = step.pending_ops
            if not ops:
                return "no pending op"
            step = ptclisp.resume(step, next(iter(ops)), {"x": n}, tools=tools)
            n += 1
        return step
    except PendingError as exc:
        return exc


@pytest.mark.parametrize("change", REFUSED_WHEN_UNPACKED)
def test_a_damaged_head_fails_the_run_that_unpacks_it(change: Any) -> None:
    outcome = _resumed_to_the_end(_blob(_with_head(change), P.FORMAT_VERSION))
    code = outcome.code if isinstance(outcome, PendingError) else \
        outcome.error.code if isinstance(outcome, Result) and outcome.error else outcome
    assert code == "pending_corrupt", outcome


def test_a_signed_step_with_a_head_refuses_an_edited_head() -> None:
    key = b"k" * 32
    tools = _tools()
    step = ptclisp.start(PROGRAM, tools=tools)
    step = ptclisp.resume(step, next(iter(step.pending_ops)), {"x": 0}, tools=tools)
    blob = ptclisp.serialize(step, key=key)
    body = msgpack.unpackb(blob[P._HEADER.size:], raw=False, strict_map_key=False)
    at = blob.index(body["journal"]["head"]["calls"]) + 5  # inside the packed head's bytes
    edited = blob[:at] + bytes([blob[at] ^ 1]) + blob[at + 1:]
    with pytest.raises(PendingError) as info:
        ptclisp.deserialize(edited, key=key)
    assert info.value.code == "pending_corrupt"
    intact = ptclisp.deserialize(blob, key=key)
    assert intact.journal.head is not None and intact.journal.head.ncalls == 2
    with pytest.raises(PendingError) as info:  # the signed bytes need their key
        ptclisp.deserialize(blob)
    assert info.value.code == "pending_corrupt"
