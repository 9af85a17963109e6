"""SQLiteStore: save/load/list/delete, the claim state machine, and a real two-process race."""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ptclisp._async.journal import Journal, PendingError
from ptclisp._async.pending import PendingStep
from ptclisp._async.store import PendingStore, SQLiteStore
from ptclisp._limits import Limits
from ptclisp._result import Result

ROOT = Path(__file__).resolve().parents[2]


def make_step(*op_ids: str, source: str = "(await (tool/call {}))") -> PendingStep:
    calls = [
        {"tool": "call", "args": {"n": i}, "value": None, "error": None, "duration_s": 0.0,
         "op_id": op}
        for i, op in enumerate(op_ids)
    ]
    return PendingStep(
        source=source, data={}, limits=Limits(), journal=Journal(calls=calls), awaiting=op_ids
    )


@pytest.fixture
def store(tmp_path):
    return SQLiteStore(tmp_path / "steps.db")


def codes(fn, *args):
    with pytest.raises(PendingError) as info:
        fn(*args)
    return info.value.code


def test_is_a_pending_store(store):
    assert isinstance(store, PendingStore)


def test_save_load_list_delete(store):
    a, b = make_step("op-a"), make_step("op-b1", "op-b2")
    assert store.save(a) == a.step_id
    store.save(b)
    assert store.list_by_status("pending") == [a.step_id, b.step_id]
    loaded = store.load(b.step_id)
    assert loaded.step_id == b.step_id and set(loaded.pending_ops) == {"op-b1", "op-b2"}
    assert store.step_for_op("op-b2") == b.step_id
    store.delete(a.step_id)
    assert store.list_by_status("pending") == [b.step_id]
    assert codes(store.load, a.step_id) == "pending_unknown_step"
    assert codes(store.step_for_op, "op-a") == "pending_unknown_op"
    store.delete(a.step_id)  # deleting twice is fine


def test_claim_once_then_claimed(store):
    step = make_step("op-1")
    store.save(step)
    assert store.claim("op-1").step_id == step.step_id
    assert store.status(step.step_id) == "running"
    assert codes(store.claim, "op-1") == "pending_claimed"
    assert codes(store.claim, "nope") == "pending_unknown_op"


def test_other_op_of_a_running_step_is_busy_until_released(store):
    store.save(make_step("op-1", "op-2"))
    store.claim("op-1")
    assert codes(store.claim, "op-2") == "pending_busy"
    store.release("op-1")
    store.claim("op-2")
    assert codes(store.claim, "op-1") == "pending_busy"


def test_complete_with_a_successor_registers_its_ops(store):
    step = make_step("op-1")
    store.save(step)
    store.claim("op-1")
    successor = make_step("op-1", "op-2")
    successor.step_id = step.step_id
    successor.journal.op_results["op-1"] = {"value": 5}
    store.complete("op-1", successor)
    assert store.status(step.step_id) == "pending"
    assert codes(store.claim, "op-1") == "pending_claimed"
    assert store.claim("op-2").journal.op_results["op-1"]["value"] == 5


def test_complete_with_a_result_finishes_the_step(store):
    step = make_step("op-1", "op-2")
    store.save(step)
    store.claim("op-1")
    store.complete("op-1", Result(status="ok", value=42))
    assert store.list_by_status("done") == [step.step_id]
    assert store.result(step.step_id).value == 42
    assert codes(store.claim, "op-2") == "pending_finished"
    assert codes(store.claim, "op-1") == "pending_finished"


def test_complete_needs_a_claim(store):
    store.save(make_step("op-1"))
    assert codes(store.complete, "op-1", Result(status="ok")) == "pending_error"


def test_signed_store_rejects_a_tampered_row(tmp_path):
    import sqlite3

    path = tmp_path / "signed.db"
    store = SQLiteStore(path, key=b"secret")
    step = make_step("op-1")
    store.save(step)
    db = sqlite3.connect(path)
    (blob,) = db.execute("SELECT blob FROM ptclisp_steps").fetchone()
    forged = blob.replace(b"(tool/call {})", b"(tool/CALL {})")
    db.execute("UPDATE ptclisp_steps SET blob = ?", (forged,))
    db.commit()
    db.close()
    assert codes(store.load, step.step_id) == "pending_corrupt"
    assert codes(SQLiteStore(path).load, step.step_id) == "pending_corrupt"  # no key


CLAIMER = textwrap.dedent(
    """
    import json, os, sys, time
    from ptclisp._async.store import SQLiteStore
    from ptclisp._async.journal import PendingError
    path, go, op_ids = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    store = SQLiteStore(path)
    while not os.path.exists(go):
        time.sleep(0.001)
    outcome = {}
    for op in op_ids:
        try:
            store.claim(op)
            outcome[op] = "won"
        except PendingError as exc:
            outcome[op] = exc.code
    print(json.dumps(outcome))
    """
)


def test_two_processes_racing_for_the_same_ops_one_wins_each(tmp_path):
    path, go = tmp_path / "race.db", tmp_path / "go"
    store = SQLiteStore(path)
    op_ids = [f"op-{i}" for i in range(20)]
    for op in op_ids:
        store.save(make_step(op))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(path), str(go), ",".join(op_ids)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    time.sleep(0.3)  # both processes are importing / polling; the race starts at once
    go.touch()
    outcomes = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    for op in op_ids:
        results = sorted(o[op] for o in outcomes)
        assert results == ["pending_claimed", "won"], (op, results)
    assert len(store.list_by_status("running")) == 20
