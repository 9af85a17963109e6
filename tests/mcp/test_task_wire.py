"""Properties of the task wire format: what a TasksExtension server sends, the client reads back
unchanged; and whatever JSON a server sends instead, the client's parser answers with the task or
a ToolError — never another exception."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp import ToolError
from ptclisp.mcp import ServerTask
from ptclisp.mcp._taskclient import STATUSES, parse_task

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=20)
task_ids = st.from_regex(r"[A-Za-z0-9._:~-]{1,200}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(task_id=task_ids, message=st.none() | st.text(max_size=200),
       poll_ms=st.integers(0, 10**6), ttl_s=st.none() | st.integers(0, 10**6),
       ending=st.sampled_from(["working", "input", "completed", "failed", "cancelled"]))
def test_a_server_task_reads_back_the_same(task_id: str, message: str | None, poll_ms: int,
                                           ttl_s: int | None, ending: str) -> None:
    task = ServerTask(task_id, "tool", poll_ms=poll_ms, ttl_s=ttl_s)
    task.status(message)
    if ending == "input":
        task.state, task.requests = "input_required", {"k": {"method": "elicitation/create"}}
    elif ending == "completed":
        task.finish({"content": [], "structuredContent": {"v": 1}})
    elif ending == "failed":
        task.finish(error={"code": -32000, "message": message or "no"})
    elif ending == "cancelled":
        task.cancel()
    wire = task.wire(detailed=True)
    read = parse_task(wire, "tool")
    assert read["taskId"] == task_id and read["status"] == task.state
    assert read.get("statusMessage") == (None if task.message is None else task.message[:2000])
    assert read["pollIntervalMilliseconds"] == poll_ms
    if task.state == "completed":
        assert read["result"] == task.result
    if task.state == "input_required":
        assert read["inputRequests"] == task.requests


@settings(max_examples=200, deadline=None)
@given(fields=json_values | st.dictionaries(
    st.sampled_from(["taskId", "status", "statusMessage", "pollIntervalMilliseconds",
                     "pollInterval", "requestState", "inputRequests", "result", "error"]),
    json_values | st.sampled_from(list(STATUSES)) | task_ids))
def test_any_json_is_a_task_or_a_tool_error(fields: Any) -> None:
    try:
        task = parse_task(fields, "tool")
    except ToolError as exc:
        assert "malformed task" in exc.message
        return
    assert task["status"] in STATUSES and isinstance(task["taskId"], str)
    assert isinstance(task.get("pollIntervalMilliseconds", 0), (int, float))


@pytest.mark.parametrize("bad", ["", "a b", "x" * 201, "../etc", "é", None, 5, ["id"]])
def test_task_ids_that_are_refused(bad: Any) -> None:
    with pytest.raises(ToolError, match="taskId"):
        parse_task({"taskId": bad, "status": "working"}, "tool")
