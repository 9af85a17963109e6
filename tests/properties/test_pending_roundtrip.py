"""``deserialize(serialize(step))`` gives back the same step; any flipped byte is an error."""

import math

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp._async.journal import Journal, PendingError, entry_value
from ptclisp._async.pending import PendingStep, deserialize, serialize
from ptclisp._limits import Limits
from ptclisp._values.types import Char, Keyword, List, Map, Set, Symbol, Vector

names = st.text("abcdefghxyz0123-?!", max_size=8).map(lambda s: "k" + s)
atoms = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.text(max_size=10),
    st.builds(Keyword, names),
    st.builds(lambda n, ns: Keyword(n, ns), names, names),
    st.builds(Symbol, names),
    st.builds(Char, st.characters(codec="utf-8")),
)
hashable = st.recursive(atoms, lambda inner: st.lists(inner, max_size=3).map(Vector), max_leaves=6)
values = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(Vector),
        st.lists(inner, max_size=3).map(List),
        st.dictionaries(hashable, inner, max_size=3).map(Map),
        st.frozensets(hashable, max_size=3).map(Set),
    ),
    max_leaves=12,
)
json_like = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
errors = st.builds(
    lambda code, msg: {"code": code, "message": msg, "hint": None, "line": None, "column": None},
    st.sampled_from(["tool_error", "invalid_args", "timeout"]),
    st.text(max_size=20),
)


@st.composite
def journals(draw):
    calls = []
    op_ids = []
    for i in range(draw(st.integers(0, 5))):
        is_op = draw(st.booleans())
        op_id = f"op-{i}" if is_op else None
        failed = not is_op and draw(st.booleans())
        calls.append(
            {
                "tool": draw(names),
                "args": draw(st.dictionaries(st.text(max_size=6), json_like, max_size=3)),
                "value": None if is_op or failed else draw(values),
                "error": draw(errors) if failed else None,
                "duration_s": draw(st.floats(0, 10)),
                "op_id": op_id,
            }
        )
        if is_op:
            op_ids.append(op_id)
    delivered = draw(st.lists(st.sampled_from(op_ids), unique=True)) if op_ids else []
    results = {
        op: ({"error": draw(errors)} if draw(st.booleans()) else {"value": draw(values)})
        for op in delivered
    }
    return Journal(
        calls=calls,
        op_results=results,
        awaits_done=draw(st.integers(0, 10)),
        time_spent_s=draw(st.floats(0, 100)),
    )


steps = st.builds(
    PendingStep,
    source=st.text(max_size=200),
    data=st.dictionaries(names, values, max_size=3),
    limits=st.builds(Limits, max_steps=st.integers(1, 10**9), timeout_s=st.floats(0.1, 1e4)),
    journal=journals(),
    awaiting=st.lists(names, max_size=3).map(tuple),
    output=st.text(max_size=50),
    steps_spent=st.integers(0, 10**9),
    host_state=st.dictionaries(st.text(max_size=6), json_like, max_size=3),
    response=values,
)


def _entry(entry):
    """A journal entry as the run sees it: its value decoded (entries read from bytes decode
    theirs when first used), without the cached encoding."""
    plain = {k: v for k, v in entry.items() if k != "enc"}
    if entry.get("error") is None or "tool" in entry:
        plain["value"] = entry_value(entry)
    return dict(sorted(plain.items()))


def _entries(calls):
    return [_entry(c) for c in calls]


def same(a, b):
    """Equal and of the same type all the way down (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb) for (ka, va), (kb, vb) in zip(a.items(), b.items())
        )
    if isinstance(a, frozenset):
        return len(a) == len(b) and all(any(same(x, y) for y in b) for x in a)
    return a == b


@settings(max_examples=100, deadline=None)
@given(steps, st.one_of(st.none(), st.binary(min_size=1, max_size=16)))
def test_round_trip_keeps_every_field(step, key):
    back = deserialize(serialize(step, key=key), key=key)
    assert back.status == "pending"
    plain = ("source", "program_hash", "step_id", "limits", "awaiting", "output", "steps_spent")
    for field in (*plain, "host_state", "version"):
        assert same(getattr(back, field), getattr(step, field)), field
    assert same(back.data, step.data)
    assert same(back.response, step.response)
    assert back.pending_ops == step.pending_ops
    assert same(_entries(back.journal.calls), _entries(step.journal.calls))
    assert same({k: _entry(o) for k, o in back.journal.op_results.items()},
                {k: _entry(o) for k, o in step.journal.op_results.items()})
    assert back.journal.awaits_done == step.journal.awaits_done
    assert back.journal.time_spent_s == step.journal.time_spent_s


@settings(max_examples=60, deadline=None)
@given(steps, st.data())
def test_any_flipped_byte_is_an_error_never_a_step(step, data):
    blob = bytearray(serialize(step))
    at = data.draw(st.integers(0, len(blob) - 1))
    blob[at] ^= data.draw(st.integers(1, 255))
    with pytest.raises(PendingError) as info:
        deserialize(bytes(blob))
    assert info.value.code in {"pending_corrupt", "pending_version"}


@settings(max_examples=30, deadline=None)
@given(steps, st.data())
def test_truncated_blob_is_an_error(step, data):
    blob = serialize(step)
    cut = data.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(PendingError) as info:
        deserialize(blob[:cut])
    assert info.value.code == "pending_corrupt"


def test_body_is_plain_msgpack():
    step = PendingStep(source="(+ 1 2)", data={}, limits=Limits(), journal=Journal(), awaiting=())
    body = serialize(step)[39:]
    assert msgpack.unpackb(body, raw=False)["source"] == "(+ 1 2)"
