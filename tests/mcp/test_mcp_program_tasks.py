"""``run_program`` as an MCP task (``ptclisp mcp serve --tasks``, ``ProgramTasks``): a ptclisp
program awaits a remote ptclisp program that itself awaits an op; the op's answer travels as an
input response (``tasks/update``) or ``ProgramTasks.deliver``; bad answers are asked again."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import start, stop

import ptclisp
from ptclisp import HostInputError, PendingStep
from ptclisp.mcp import MCPTools, ProgramTasks, TaskWatcher, build_server, stdio

SERVE = ["-m", "ptclisp", "mcp", "serve", "--tasks", "--registry",
         "tests.mcp.task_registry:registry"]
INNER = """(let [p (tool/quote {:item "lamp"})
      a (await (tool/approval {:item "lamp" :price p}))]
  (if (:approved a) p 0))"""
OUTER = "(:value (await (tool/run_program {:program data/inner})))"


@pytest.fixture(scope="module", params=["stdio", "http", "http-2025-11-25"])
def mcp(request: pytest.FixtureRequest) -> Iterator[MCPTools]:
    proc = None
    if request.param == "stdio":
        server: Any = stdio(sys.executable, SERVE)
    else:
        proc, port = start(SERVE)
        server = f"http://127.0.0.1:{port}/mcp"
    mode = "legacy" if request.param.endswith("2025-11-25") else "auto"
    try:
        with MCPTools(server, timeout_s=20, mode=mode) as connection:  # run_program: declared
            assert {t.name: t.is_async for t in connection.tools} == {"run_program": True}
            yield connection
    finally:
        if proc is not None:
            stop(proc)


def asking(watcher: TaskWatcher, op_id: str, since: str = "") -> dict[str, Any]:
    """Poll until the task asks for input (with a request key other than ``since``)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        watcher.outcome(op_id, timeout=0)
        info = watcher.status(op_id)
        if info["status"] == "input_required" and since not in info["input_requests"]:
            return info
        time.sleep(0.05)
    raise AssertionError(f"the task never asked: {watcher.status(op_id)}")


def answer(watcher: TaskWatcher, op_id: str, key: str, action: str = "accept",
           result_json: str | None = None) -> None:
    content = {} if result_json is None else {"result_json": result_json}
    watcher.answer(op_id, {key: {"action": action, "content": content}})


def test_a_program_awaits_a_remote_program_that_awaits_an_op(mcp: MCPTools) -> None:
    step = ptclisp.start(OUTER, tools=mcp.registry(), data={"inner": INNER})
    assert isinstance(step, PendingStep)
    (op_id,) = step.awaiting
    watcher = TaskWatcher(mcp)
    info = asking(watcher, op_id)
    assert info["message"].startswith("the program awaits op approval-")
    (key, request), = info["input_requests"].items()
    assert request["method"] == "elicitation/create"
    assert '"price": 40' in request["params"]["message"]
    answer(watcher, op_id, key, result_json=json.dumps({"approved": True}))
    result = watcher.resume(step, tools=mcp.registry(), timeout_s=20)
    assert result.status == "ok" and result.value == 40


def test_a_program_that_does_not_suspend_is_answered_without_a_task(mcp: MCPTools) -> None:
    step = ptclisp.start(OUTER, tools=mcp.registry(),
                         data={"inner": '(* 2 (tool/quote {:item "cup"}))'})
    (op_id,) = step.awaiting
    legacy = mcp.session.protocol_version == "2025-11-25"  # asked for a task: gets one
    assert op_id.startswith("mcptask-" if legacy else f"mcp-{mcp.label}-")
    assert TaskWatcher(mcp).resume(step, tools=mcp.registry(), timeout_s=20).value == 60


def test_bad_answers_are_asked_again_and_a_decline_fails_the_op(mcp: MCPTools) -> None:
    step = ptclisp.start(OUTER, tools=mcp.registry(), data={"inner": INNER})
    (op_id,) = step.awaiting
    watcher = TaskWatcher(mcp)
    key = next(iter(asking(watcher, op_id)["input_requests"]))
    answer(watcher, op_id, key, result_json="{not json")
    again = asking(watcher, op_id, since=key)
    assert again["message"].startswith("result_json is not JSON")
    key = next(iter(again["input_requests"]))
    answer(watcher, op_id, key, result_json=json.dumps({"approved": "yes"}))  # wrong type
    again = asking(watcher, op_id, since=key)
    assert "does not match its declared result type" in again["message"]
    key = next(iter(again["input_requests"]))
    answer(watcher, op_id, "op:no-such-op:0", result_json="1")  # ignored (not outstanding)
    answer(watcher, op_id, key, action="decline")
    result = watcher.resume(step, tools=mcp.registry(), timeout_s=20)
    assert result.status == "error" and result.error is not None
    assert result.error.code == "tool_error" and "declined" in result.error.message


def test_hostile_calls_to_the_task_server(mcp: MCPTools) -> None:
    watcher = TaskWatcher(mcp)
    # arguments the client-side signature would refuse, sent anyway
    op_id = mcp.run_coroutine(mcp.tasks._start("run_program", {"program": 5}, False))
    outcome = watcher.outcome(op_id, timeout=20)
    assert outcome is not None and "run_program takes" in outcome["error"]["message"]
    unknown = watcher.outcome(f"mcptask-{mcp.label}-no-such-task", timeout=5,
                              tool="run_program")
    assert unknown is not None and "unknown task" in unknown["error"]["message"]
    ghost = f"mcptask-{mcp.label}-ghost"
    watcher.cancel(ghost)  # acknowledged for an unknown task (the spec): nothing raised
    watcher.answer(ghost, {"x": {"action": "accept"}})


def test_program_tasks_deliver_in_process() -> None:
    from tests.mcp.task_registry import registry

    tasks = ProgramTasks(poll_ms=20)
    server = build_server(registry, tasks=tasks)
    with MCPTools(server, async_tools=["run_program"]) as mcp:
        step = ptclisp.start(OUTER, tools=mcp.registry(), data={"inner": INNER})
        (op_id,) = step.awaiting
        watcher = TaskWatcher(mcp)
        asking(watcher, op_id)
        (inner_op,) = tasks.waiting()
        assert inner_op.startswith("approval-")
        with pytest.raises(HostInputError, match="op_id"):
            tasks.deliver("no-such-op", {"approved": True})
        tasks.deliver(inner_op, {"approved": True})
        assert watcher.resume(step, tools=mcp.registry(), timeout_s=20).value == 40
    with pytest.raises(HostInputError, match="tasks"):
        build_server(registry, tasks="yes")  # type: ignore[arg-type]
