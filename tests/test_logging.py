"""Per-module loggers: claim conflicts (SQLiteStore), worker replacement (process sandbox); LLM
retries are covered in tests/subagent/test_llm_clients_ecosystem.py."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ptclisp import Limits, PendingError, PendingStep, SQLiteStore
from ptclisp._async.journal import Journal


def step(*op_ids: str) -> PendingStep:
    calls = [{"tool": "call", "args": {"n": i}, "value": None, "error": None,
              "duration_s": 0.0, "op_id": op} for i, op in enumerate(op_ids)]
    return PendingStep(source="(await (tool/call {}))", data={}, limits=Limits(),
                       journal=Journal(calls=calls), awaiting=op_ids)


def test_claim_conflicts_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ptclisp._async.store")
    store = SQLiteStore(tmp_path / "steps.db")
    saved = step("op-1", "op-2")
    store.save(saved)
    store.claim("op-1")
    with pytest.raises(PendingError):
        store.claim("op-1")
    with pytest.raises(PendingError):
        store.claim("op-2")
    messages = [r.getMessage() for r in caplog.records if r.name == "ptclisp._async.store"]
    assert messages == [
        "claim of op op-1 refused: already claimed or delivered",
        f"claim of op op-2 refused: step {saved.step_id} is being resumed by another process",
    ]


def test_worker_replacement_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    from ptclisp import sandbox

    caplog.set_level(logging.INFO, logger="ptclisp.sandbox._process")
    with sandbox.ProcessPool(size=1, max_runs=2) as pool:
        (first,) = pool.worker_pids()
        crashed = pool.run("(tool/test-crash {:status 70})", _hooks=True)
        assert crashed.error is not None and crashed.error.code == "sandbox_crash"
        (second,) = pool.worker_pids()
        for _ in range(2):
            assert pool.run("(+ 1 1)").value == 2
    messages = [r.getMessage() for r in caplog.records if r.name == "ptclisp.sandbox._process"]
    assert messages[:2] == [
        f"replacing sandbox worker pid {first}: it breached a limit, crashed or stopped answering",
        f"replacing sandbox worker pid {second}: it served 2 runs (max_runs)",
    ]
