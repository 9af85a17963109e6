"""Suspend, serialize, resume in other processes: same answer as an all-sync run, exactly once.

Real subprocesses (`python`), a real SQLite counter shared across them, a real SQLite store.
The worker side of the subprocess tests is ``worker_main`` below (this module is imported by
the child with ``tests/ptclisp`` on its path).
"""

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ptclisp._async.journal import PendingError
from ptclisp._async.pending import PendingStep, deserialize, serialize
from ptclisp._async.resume import resume, start
from ptclisp._async.store import SQLiteStore, resume_stored
from ptclisp._errors import ToolError
from ptclisp._limits import Limits
from ptclisp._result import Result
from ptclisp._run import run
from ptclisp._tools.registry import Tool
from ptclisp._values.printer import pr_str

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

THREE_AWAITS = """
(def a (tool/count {:key "before"}))
(def h1 (tool/phone {:number "1"}))
(println "calling 1")
(def r1 (await h1))
(def b (tool/count {:key "after-1"}))
(def h2 (tool/phone {:number "2"}))
(def r2 (await h2))
(println "got" (:said r2))
(def c (tool/count {:key "after-2"}))
(def h3 (tool/phone {:number "3"}))
(def r3 (await h3))
(def d (tool/count {:key "after-3"}))
(println "done")
{:counts [a b c d] :answers (mapv :said [r1 r2 r3])}
"""

TWO_AT_ONCE = """
(let [x (tool/phone {:number "x"})
      y (tool/phone {:number "y"})
      n (tool/count {:key "start"})
      [rx ry] (await-all [x y])
      m (tool/count {:key "end"})]
  [n m (:said rx) (:said ry)])
"""


# ---------------------------------------------------------------- tools shared with the worker


def count_in(db_path):
    """A tool counting its calls per key in a SQLite file (visible across processes)."""

    def count(args):
        db = sqlite3.connect(db_path, timeout=30, isolation_level=None)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS counts (key TEXT PRIMARY KEY, n INTEGER)")
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO counts VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET n = n + 1",
                (args["key"],),
            )
            (n,) = db.execute("SELECT n FROM counts WHERE key = ?", (args["key"],)).fetchone()
            db.execute("COMMIT")
            return n
        finally:
            db.close()

    return count


def counts(db_path):
    db = sqlite3.connect(db_path)
    try:
        return dict(db.execute("SELECT key, n FROM counts").fetchall())
    finally:
        db.close()


def async_tools(db_path):
    return {
        "count": count_in(db_path),
        "phone": Tool("phone", lambda number: None, is_async=True, signature="(number :string)"),
    }


def sync_tools(db_path):
    return {"count": count_in(db_path), "phone": lambda args: answer(args["number"])}


def answer(number):
    return {"said": f"answer-{number}"}


def worker_main():
    """Child process: resume the step in argv[1] with op argv[2]; write the outcome."""
    blob_path, op_id, out_path, db_path = sys.argv[1:5]
    step = deserialize(Path(blob_path).read_bytes())
    number = step.pending_ops[op_id]["args"]["number"]
    outcome = resume(step, op_id, answer(number), tools=async_tools(db_path))
    if isinstance(outcome, PendingStep):
        Path(out_path).write_bytes(serialize(outcome))
        print(json.dumps({"status": "pending", "ops": list(outcome.pending_ops)}))
    else:
        print(json.dumps(summary(outcome)))


def summary(result):
    return {
        "status": result.status,
        "value": pr_str(result.value),
        "output": result.output,
        "steps": result.steps,
        "calls": [c.name for c in result.tool_calls],
    }


def resume_in_child(tmp_path, step, op_id, db_path):
    blob, out = tmp_path / "in.bin", tmp_path / "out.bin"
    blob.write_bytes(serialize(step))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
    proc = subprocess.run(
        [sys.executable, "-c", "import test_async_resume as t; t.worker_main()",
         str(blob), op_id, str(out), str(db_path)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    reply = json.loads(proc.stdout)
    if reply["status"] == "pending":
        return deserialize(out.read_bytes()), reply
    return None, reply


# ---------------------------------------------------------------- across processes


def test_three_cycles_across_processes_match_the_sync_run_exactly_once(tmp_path):
    expected = run(THREE_AWAITS, tools=sync_tools(tmp_path / "sync.db"))
    assert expected.ok, expected.error
    db = tmp_path / "async.db"
    step = start(THREE_AWAITS, tools=async_tools(db))
    assert step.status == "pending" and step.output == "calling 1\n"
    final = None
    for cycle in range(3):
        (op_id,) = step.pending_ops
        assert step.awaiting == (op_id,)
        step, final = resume_in_child(tmp_path, step, op_id, db)
        assert (step is None) == (cycle == 2)
    assert final == summary(expected)
    assert final["value"] == '{:counts [1 1 1 1], :answers ["answer-1" "answer-2" "answer-3"]}'
    assert counts(db) == {"before": 1, "after-1": 1, "after-2": 1, "after-3": 1}


def test_two_pending_ops_resumed_in_either_order(tmp_path):
    expected = summary(run(TWO_AT_ONCE, tools=sync_tools(tmp_path / "sync.db")))
    for order in (("x", "y"), ("y", "x")):
        db = tmp_path / f"{''.join(order)}.db"
        step = start(TWO_AT_ONCE, tools=async_tools(db))
        by_number = {op["args"]["number"]: op_id for op_id, op in step.pending_ops.items()}
        assert set(step.awaiting) == set(by_number.values())
        step, reply = resume_in_child(tmp_path, step, by_number[order[0]], db)
        assert reply["status"] == "pending" and reply["ops"] == [by_number[order[1]]]
        step, final = resume_in_child(tmp_path, step, by_number[order[1]], db)
        assert step is None and final == expected
        assert counts(db) == {"start": 1, "end": 1}


RACER = """
import json, sys
import test_async_resume as t
from ptclisp._async.journal import PendingError
from ptclisp._async.store import SQLiteStore, resume_stored
store_path, db_path, op_id, go = sys.argv[1:5]
import os, time
store = SQLiteStore(store_path)
while not os.path.exists(go):
    time.sleep(0.001)
try:
    out = resume_stored(store, op_id, t.answer("1"), tools=t.async_tools(db_path))
    print(json.dumps({"won": out.status}))
except PendingError as exc:
    print(json.dumps({"lost": exc.code}))
"""


def test_two_processes_racing_to_resume_the_same_op_only_one_wins(tmp_path):
    db, store_path, go = tmp_path / "count.db", tmp_path / "store.db", tmp_path / "go"
    store = SQLiteStore(store_path)
    step = start(THREE_AWAITS, tools=async_tools(db))
    store.save(step)
    (op_id,) = step.pending_ops
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
    procs = [
        subprocess.Popen([sys.executable, "-c", RACER, str(store_path), str(db), op_id, str(go)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    time.sleep(0.3)
    go.touch()
    replies = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        replies.append(json.loads(out))
    assert sorted(map(json.dumps, replies)) == sorted(
        [json.dumps({"won": "pending"}), json.dumps({"lost": "pending_claimed"})]
    )
    assert counts(db) == {"before": 1, "after-1": 1}  # the code after the await ran once
    assert store.list_by_status("pending") == [step.step_id]


def test_store_drives_a_run_to_completion(tmp_path):
    db = tmp_path / "count.db"
    store = SQLiteStore(tmp_path / "store.db", key=b"k")
    step = start(THREE_AWAITS, tools=async_tools(db))
    step_id = store.save(step)
    for number in ("1", "2", "3"):
        (op_id,) = store.load(step_id).pending_ops
        outcome = resume_stored(store, op_id, answer(number), tools=async_tools(db))
    assert isinstance(outcome, Result) and outcome.ok
    assert store.list_by_status("done") == [step_id]
    assert pr_str(store.result(step_id).value) == pr_str(outcome.value)
    with pytest.raises(PendingError) as info:
        resume_stored(store, op_id, answer("3"), tools=async_tools(db))
    assert info.value.code == "pending_finished"


def test_a_failed_resume_releases_the_claim(tmp_path):
    store = SQLiteStore(tmp_path / "store.db")
    db = tmp_path / "count.db"
    store.save(start(THREE_AWAITS, tools=async_tools(db)))
    (step_id,) = store.list_by_status("pending")
    (op_id,) = store.load(step_id).pending_ops
    with pytest.raises(PendingError):  # the result is not data: resume refuses it
        resume_stored(store, op_id, object(), tools=async_tools(db))
    assert store.list_by_status("pending") == [step_id]
    assert resume_stored(store, op_id, answer("1"), tools=async_tools(db)).status == "pending"


# ---------------------------------------------------------------- clear errors


@pytest.fixture
def pending(tmp_path):
    return start(THREE_AWAITS, tools=async_tools(tmp_path / "c.db")), async_tools(tmp_path / "c.db")


def code_of(fn, *args, **kwargs):
    with pytest.raises(PendingError) as info:
        fn(*args, **kwargs)
    return info.value


def test_resume_with_an_unknown_op_id(pending):
    step, tools = pending
    err = code_of(resume, step, "no-such-op", 1, tools=tools)
    assert err.code == "pending_unknown_op" and next(iter(step.pending_ops)) in err.hint


def test_resume_of_a_finished_step(pending):
    step, tools = pending
    (op_id,) = step.pending_ops
    successor = resume(step, op_id, answer("1"), tools=tools)
    assert isinstance(successor, PendingStep)
    assert code_of(resume, step, op_id, answer("1"), tools=tools).code == "pending_finished"
    assert code_of(resume, successor, op_id, answer("1"), tools=tools).code == "pending_op_done"
    final = Result(status="ok", value=1)
    assert code_of(resume, final, op_id, 1, tools=tools).code == "pending_finished"


def test_resume_of_a_tampered_blob(pending):
    step, _ = pending
    blob = serialize(step)
    tampered = blob.replace(b'"before"', b'"BEFORE"')
    assert tampered != blob
    assert code_of(deserialize, tampered).code == "pending_corrupt"
    assert code_of(deserialize, blob[:-3]).code == "pending_corrupt"
    newer = blob[:4] + (99).to_bytes(2, "big") + blob[6:]
    assert code_of(deserialize, newer).code == "pending_version"
    assert code_of(deserialize, blob, program="(+ 1 2)").code == "pending_program_mismatch"
    assert deserialize(blob, program=THREE_AWAITS).step_id == step.step_id


# ---------------------------------------------------------------- semantics


def test_plain_run_returns_the_pending_step(tmp_path):
    out = run(THREE_AWAITS, tools=async_tools(tmp_path / "c.db"))
    assert isinstance(out, PendingStep) and out.status == "pending"


def test_final_result_has_every_call_and_the_whole_output_once(pending):
    step, tools = pending
    for number in "123":
        (op_id,) = step.pending_ops
        step = resume(step, op_id, answer(number), tools=tools)
    assert step.output == "calling 1\ngot answer-2\ndone\n"
    assert [c.name for c in step.tool_calls] == ["count", "phone"] * 3 + ["count"]
    assert [c.result for c in step.tool_calls if c.op_id] == [answer(n) for n in "123"]


def test_op_failure_reaches_the_program_as_a_tool_error(pending):
    step, tools = pending
    (op_id,) = step.pending_ops
    result = resume(step, op_id, error="line busy", tools=tools)
    assert result.status == "error" and isinstance(result.error, ToolError)
    assert "line busy" in result.error.message


def test_await_any_answers_the_same_after_replay(tmp_path):
    src = """
    (let [a (tool/phone {:number "a"}) b (tool/phone {:number "b"})
          first-in (await-any [a b])
          both (await-all [a b])]
      [(:said first-in) (mapv :said both)])
    """
    tools = async_tools(tmp_path / "c.db")
    step = start(src, tools=tools)
    ops = {op["args"]["number"]: op_id for op_id, op in step.pending_ops.items()}
    step = resume(step, ops["b"], answer("b"), tools=tools)
    assert step.awaiting == (ops["a"],)
    result = resume(step, ops["a"], answer("a"), tools=tools)
    assert pr_str(result.value) == '["answer-b" ["answer-a" "answer-b"]]'


def test_steps_carry_over_so_the_budget_bounds_the_whole_run(tmp_path):
    src = """
    (def before (reduce + (range 3000)))
    (def r (await (tool/phone {:number "1"})))
    (reduce + (range 3000))
    """
    tools = async_tools(tmp_path / "c.db")
    expected = run(src, tools=sync_tools(tmp_path / "s.db"))
    step = start(src, tools=tools)
    assert 0 < step.steps_spent < expected.steps
    (op_id,) = step.pending_ops
    assert resume(step, op_id, answer("1"), tools=tools).steps == expected.steps
    tight = Limits(max_steps=step.steps_spent + (expected.steps - step.steps_spent) // 2)
    step = start(src, tools=tools, limits=tight)
    (op_id,) = step.pending_ops
    result = resume(step, op_id, answer("1"), tools=tools)
    assert result.status == "error" and result.error.code == "step_limit"


def test_time_spent_carries_over_but_waiting_is_free(tmp_path):
    src = """
    (def r (await (tool/phone {:number "1"})))
    (loop [i 0] (if (< i 20000) (recur (inc i)) i))
    """
    tools = async_tools(tmp_path / "c.db")
    step = start(src, tools=tools, limits=Limits(timeout_s=1.0))
    assert step.time_spent_s < 1.0
    (op_id,) = step.pending_ops
    time.sleep(1.1)  # waiting for the op longer than the whole budget costs nothing
    assert resume(step, op_id, answer("1"), tools=tools).value == 20000
    exhausted = start(src, tools=tools, limits=Limits(timeout_s=1.0))
    exhausted.journal.time_spent_s = 0.999  # as if earlier segments had used the budget
    (op_id,) = exhausted.pending_ops
    result = resume(exhausted, op_id, answer("1"), tools=tools)
    assert result.status == "error" and result.error.code == "timeout"


def test_host_state_and_step_id_travel_with_the_step(tmp_path):
    tools = async_tools(tmp_path / "c.db")
    step = start(THREE_AWAITS, tools=tools, host_state={"turn": 3, "messages": ["hi"]})
    again = deserialize(serialize(step))
    (op_id,) = again.pending_ops
    successor = resume(again, op_id, answer("1"), tools=tools)
    assert successor.step_id == step.step_id
    assert successor.host_state == {"turn": 3, "messages": ["hi"]}


def test_typed_tools_whose_validation_rewrites_arguments_still_replay_exactly_once(tmp_path):
    seen = []

    def lookup(customer_id: int, weight: float) -> dict:
        seen.append((customer_id, weight))
        return {"id": customer_id, "weight": weight}

    tools = {**async_tools(tmp_path / "c.db"), "lookup": Tool("lookup", lookup)}
    src = """
    (let [c (tool/lookup {:customer-id 7 :weight 2})
          r (await (tool/phone {:number "1"}))]
      [c (:said r)])
    """
    step = start(src, tools=tools)
    (op_id,) = step.pending_ops
    result = resume(deserialize(serialize(step)), op_id, answer("1"), tools=tools)
    assert pr_str(result.value) == '[{:id 7, :weight 2.0} "answer-1"]'
    assert seen == [(7, 2.0)]
    assert result.tool_calls[0].args == {"customer-id": 7, "weight": 2}


def test_a_replay_that_departs_from_the_first_run_stops_with_a_clear_error(tmp_path):
    db = tmp_path / "c.db"
    tools = async_tools(db)
    calls_other = """
    (let [x (tool/count {:key data/k}) r (await (tool/phone {:number "1"}))] [x r])
    """
    ends_early = """(if (= data/k "a") (await (tool/phone {:number "1"})) :no-call)"""
    for src in (calls_other, ends_early):
        step = start(src, tools=tools, data={"k": "a"})
        step.data = {"k": "b"}  # as if the program depended on something that changed
        (op_id,) = step.pending_ops
        result = resume(step, op_id, answer("1"), tools=tools)
        assert result.status == "error" and result.error.code == "pending_diverged"
    assert counts(db) == {"a": 1}  # the diverging call to "b" was never made


def test_op_handles_print_as_op_ids_and_cross_the_codec(tmp_path):
    from ptclisp._tools.host import OpHandle
    from ptclisp._values.codec import decode, encode

    tools = async_tools(tmp_path / "c.db")
    step = start('(let [h (tool/phone {:number "1"})] (println h) (await h))', tools=tools)
    (op_id,) = step.pending_ops
    assert step.output == f'#op["{op_id}"]\n'
    handle = OpHandle(op_id, "phone")
    assert pr_str(handle) == f'#op["{op_id}"]' and decode(encode(handle)) == handle
    returned = run('(tool/phone {:number "2"})', tools=tools)
    assert returned.ok and isinstance(returned.value, OpHandle)
