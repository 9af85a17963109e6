"""Agent runs as supervised runtime processes: a crash restarts from the last turn checkpoint."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from support import FlakyLLM, clj

import ptclisp
from ptclisp import runtime as rt
from ptclisp.subagent import ScriptedLLM, Step, SubAgent


class SQLiteMapping(MutableMapping[str, Any]):
    """A durable checkpoint store: real SQLite, JSON values."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("CREATE TABLE IF NOT EXISTS cp (k TEXT PRIMARY KEY, v TEXT)")

    def __getitem__(self, key: str) -> Any:
        row = self.db.execute("SELECT v FROM cp WHERE k = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return json.loads(row[0])

    def __setitem__(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO cp VALUES (?, ?)", (key, json.dumps(value)))

    def __delitem__(self, key: str) -> None:
        self.db.execute("DELETE FROM cp WHERE k = ?", (key,))

    def __iter__(self) -> Iterator[str]:
        return iter([k for (k,) in self.db.execute("SELECT k FROM cp")])

    def __len__(self) -> int:
        return self.db.execute("SELECT count(*) FROM cp").fetchone()[0]


def agent() -> tuple[SubAgent, list[int]]:
    charged: list[int] = []

    @ptclisp.tool
    def charge(amount: int) -> dict:
        """Charge a card (must happen once)."""
        charged.append(amount)
        return {"charged": amount}

    return SubAgent(name="biller", prompt="bill", tools=[charge], max_turns=4), charged


REPLIES = [clj("(def r (tool/charge {:amount 30}))\nr"), clj("(return (:charged r))")]


def test_a_crashed_agent_restarts_from_its_last_checkpoint(tmp_path: Path) -> None:
    billing, charged = agent()
    llm = FlakyLLM(list(REPLIES), crash_on={2})  # the second LLM call crashes the process
    store = SQLiteMapping(tmp_path / "cp.db")
    with rt.Runtime() as runtime:
        step = rt.supervised_run(billing, llm=llm, runtime=runtime, checkpoints=store,
                                 key="run-1", timeout=60)
    assert isinstance(step, Step) and step.status == "ok", step
    assert step.return_value == 30
    assert charged == [30]  # turn 1 was not redone after the crash
    assert [t.status for t in step.turns] == ["continue", "returned"]
    assert store["run-1"]["state"]["subagent"]["agent"] == "biller"


def test_past_the_restart_intensity_the_run_ends_with_a_clear_code() -> None:
    billing, charged = agent()
    llm = FlakyLLM(list(REPLIES), crash_on={2, 3, 4, 5, 6})
    with rt.Runtime() as runtime, pytest.raises(rt.AgentCrashed) as info:
        rt.supervised_run(billing, llm=llm, runtime=runtime, max_restarts=2, timeout=60)
    assert info.value.code == "agent_crashed"
    assert "client bug" in info.value.message and info.value.hint
    assert charged == [30]


def test_a_supervised_run_is_a_one_line_call_on_the_default_runtime() -> None:
    billing, _ = agent()
    step = rt.supervised_run(billing, llm=ScriptedLLM(list(REPLIES)))
    assert step.return_value == 30


def test_restart_rejects_a_foreign_or_malformed_checkpoint() -> None:
    billing, _ = agent()
    for bad in ({"nope": 1}, {"state": "text"}, {"state": {"subagent": {"version": 1, "x": 2}}},
                "string"):
        with pytest.raises(ptclisp.PtclispError) as info:
            billing.restart(bad, llm=ScriptedLLM([]))
        assert info.value.code in ("pending_corrupt", "pending_error")
    other = SubAgent(name="other", prompt="x")
    saved: list[Any] = []
    other.run(llm=ScriptedLLM([clj("1"), clj("(return 1)")]), checkpoint=saved.append)
    with pytest.raises(ptclisp.PtclispError) as info:
        billing.restart(saved[0], llm=ScriptedLLM([]))
    assert info.value.code == "pending_error"


def test_tools_as_processes_run_on_the_runtime_pool_and_crashes_are_tool_errors() -> None:
    import threading

    threads: list[str] = []
    attempts: list[int] = []

    @ptclisp.tool
    def where(n: int) -> dict:
        """Report the thread; crashes on its first call."""
        attempts.append(n)
        threads.append(threading.current_thread().name)
        if len(attempts) == 1:
            raise KeyError("tool bug")
        return {"n": n}

    worker = SubAgent(name="w", prompt="x", tools=[where], max_turns=3)
    llm = ScriptedLLM([clj("(tool/where {:n 1})"), clj("(return (tool/where {:n 2}))")])
    with rt.Runtime(max_threads=2) as runtime:
        step = rt.supervised_run(worker, llm=llm, runtime=runtime, tools_as_processes=True,
                                 timeout=60)
    assert step.return_value == {"n": 2}
    assert step.turns[0].error.code == "tool_crashed"
    assert threads and all(name.startswith("runtime-sync") for name in threads)


def test_a_checkpoint_is_not_changed_by_later_turns() -> None:
    billing, _ = agent()
    saved: list[tuple[Any, str]] = []
    llm = ScriptedLLM([clj("(def x 1)\nx"), clj("(def y (tool/charge {:amount 5}))\ny"),
                       clj("(return (+ x (:charged y)))")])
    step = billing.run(llm=llm, checkpoint=lambda c: saved.append((c, json.dumps(c))))
    assert step.return_value == 6
    assert len(saved) == 3
    for checkpoint, text in saved:
        assert json.dumps(checkpoint) == text  # exactly as it was when taken
    assert [len(c["state"]["subagent"]["turns"]) for c, _ in saved] == [1, 2, 3]
