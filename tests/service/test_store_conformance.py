"""One conformance suite for every ``HostStore`` backend: SQLite and a real PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from ptclisp.subagent import HostStore, HostStoreError, OpRecord, open_store


@pytest.fixture
def store(store_url: str) -> Iterator[HostStore]:
    s = open_store(store_url)
    yield s
    s.close()


def _op(op_id: str, run_id: str, deadline: float | None = None) -> OpRecord:
    return OpRecord(op_id, run_id, "ask", {"q": 1}, "agent", "pending", time.time(), deadline)


def _suspended(store: HostStore, run_id: str, *ops: OpRecord) -> None:
    store.create_run(run_id, "agent", {"x": 1}, "w1", 30)
    store.commit_step(run_id, "w1", None, b"\x00checkpoint\xff", 3, list(ops))
    assert store.release_lease(run_id, "w1")


def test_protocol_and_run_round_trip(store: HostStore) -> None:
    assert isinstance(store, HostStore)
    store.create_run("r1", "agent", {"n": [1, "two"]}, "w1", 30)
    run = store.get_run("r1")
    assert (run.status, run.input, run.checkpoint, run.lease_owner) == (
        "running", {"n": [1, "two"]}, None, "w1")
    assert store.list_runs() == ["r1"] and store.list_runs("running") == ["r1"]
    with pytest.raises(HostStoreError) as err:
        store.get_run("nope")
    assert err.value.code == "unknown_run"
    store.setup()  # idempotent
    assert store.get_run("r1").agent == "agent"


def test_checkpoint_bytes_and_ops(store: HostStore) -> None:
    _suspended(store, "r1", _op("op-a", "r1"), _op("op-b", "r1"))
    run = store.get_run("r1")
    assert (run.status, run.checkpoint, run.effects_base) == ("pending", b"\x00checkpoint\xff", 3)
    assert [o.op_id for o in store.inbox()] == ["op-a", "op-b"]
    assert store.get_op("op-a").args == {"q": 1} and store.get_op("op-a").state == "pending"
    with pytest.raises(HostStoreError) as err:
        store.get_op("missing")
    assert err.value.code == "pending_unknown_op"
    store.create_run("r2", "agent", {}, "w2", 30)
    with pytest.raises(HostStoreError) as err:
        store.commit_step("r2", "w2", None, b"c", 0, [_op("op-a", "r2")])
    assert err.value.code == "op_conflict"
    assert store.get_run("r2").status == "running"  # the failed commit changed nothing


def test_first_delivery_wins(store: HostStore) -> None:
    _suspended(store, "r1", _op("op-a", "r1"))
    first = store.deliver("op-a", {"value": 1})
    again = store.deliver("op-a", {"value": 2})
    assert first.accepted and not again.accepted
    assert again.outcome == {"value": 1} and again.state == "delivered"
    assert store.inbox() == []
    assert store.next_delivered("r1").op_id == "op-a"
    assert store.recoverable_runs() == ["r1"]
    with pytest.raises(HostStoreError):
        store.deliver("unknown", {"value": 1})


def test_release_keeps_the_lease_while_work_is_queued(store: HostStore) -> None:
    _suspended(store, "r1", _op("op-a", "r1"))
    assert store.acquire_lease("r1", "w1", 30)
    store.deliver("op-a", {"value": 1})
    assert not store.release_lease("r1", "w1")  # queued: the holder must go on
    assert store.get_run("r1").lease_owner == "w1"
    store.commit_step("r1", "w1", "op-a", b"next", 5, [])
    assert store.get_op("op-a").state == "done"
    assert store.release_lease("r1", "w1")
    assert store.get_run("r1").lease_owner is None


def test_leases_expire_and_are_taken_over(store: HostStore) -> None:
    store.create_run("r1", "agent", {}, "w1", 0.3)
    assert not store.acquire_lease("r1", "w2", 30)
    assert store.renew_lease("r1", "w1", 0.3)
    assert store.recoverable_runs() == []
    time.sleep(0.4)
    assert store.recoverable_runs() == ["r1"]
    assert store.acquire_lease("r1", "w2", 30)
    assert not store.renew_lease("r1", "w1", 30)
    with pytest.raises(HostStoreError) as err:
        store.commit_final("r1", "w1", None, "ok", {"status": "ok"})
    assert err.value.code == "lease_lost"
    store.commit_final("r1", "w2", None, "ok", {"status": "ok", "return_value": 1})
    run = store.get_run("r1")
    assert (run.status, run.result["return_value"], run.lease_owner) == ("ok", 1, None)
    assert not store.acquire_lease("r1", "w3", 30)  # finished runs are not leased


def test_effects_first_record_wins(store: HostStore) -> None:
    store.create_run("r1", "agent", {}, "w1", 30)
    assert store.record_effect("r1", 0, "tool", "t", {"a": 1}, {"value": 1}) == {"value": 1}
    assert store.record_effect("r1", 0, "tool", "t", {"a": 1}, {"value": 2}) == {"value": 1}
    store.record_effect("r1", 1, "llm", "agent", None, {"content": "x"})
    assert store.effects("r1", 0) == {0: ("tool", "t", {"a": 1}, {"value": 1}),
                                      1: ("llm", "agent", None, {"content": "x"})}
    assert list(store.effects("r1", 1)) == [1]


def test_final_commit_closes_open_ops(store: HostStore) -> None:
    _suspended(store, "r1", _op("op-a", "r1"), _op("op-b", "r1"))
    store.deliver("op-a", {"value": 1})
    assert store.acquire_lease("r1", "w1", 30)
    store.commit_final("r1", "w1", "op-a", "ok", {"status": "ok"})
    assert [store.get_op(o).state for o in ("op-a", "op-b")] == ["done", "closed"]
    assert store.inbox() == [] and store.list_runs("ok") == ["r1"]
    assert not store.deliver("op-b", {"value": 1}).accepted


def test_cancel_run(store: HostStore) -> None:
    _suspended(store, "r1", _op("op-a", "r1"))
    assert store.cancel_run("r1") == "cancelled"
    assert store.cancel_run("r1") == "cancelled"
    assert store.get_op("op-a").state == "closed" and store.inbox() == []
    assert store.get_run("r1").result["error"]["code"] == "cancelled"
    with pytest.raises(HostStoreError):
        store.cancel_run("nope")


def test_expired_ops(store: HostStore) -> None:
    now = time.time()
    _suspended(store, "r1", _op("late", "r1", now - 1), _op("later", "r1", now + 60),
               _op("never", "r1"))
    assert store.expired_ops(now) == ["late"]
    store.deliver("late", {"error": {"message": "timeout", "code": "timeout"}})
    assert store.expired_ops(now) == []


def test_concurrent_deliveries_and_leases_have_one_winner(store_url: str) -> None:
    setup = open_store(store_url)
    _suspended(setup, "r1", _op("op-a", "r1"))
    results: list[bool] = []
    leases: list[bool] = []
    barrier = threading.Barrier(8)

    def race(i: int) -> None:
        barrier.wait()
        results.append(setup.deliver("op-a", {"value": i}).accepted)
        leases.append(setup.acquire_lease("r1", f"w{i}", 30))

    threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert sorted(leases) == [False] * 7 + [True]
    setup.close()


def test_snapshot_reads_a_run_and_its_ops_together(store: HostStore) -> None:
    _suspended(store, "r1", _op("op-a", "r1"))
    run, ops = store.snapshot("r1")
    assert run.status == "pending" and [o.op_id for o in ops] == ["op-a"]
    with pytest.raises(HostStoreError) as err:
        store.snapshot("nope")
    assert err.value.code == "unknown_run"
