"""An SDK MCP server with MCP Tasks (ptclisp.mcp.TasksExtension), for the task tests.

    python sdk_task_server.py              # stdio
    python sdk_task_server.py --port 8123  # streamable HTTP on 127.0.0.1:8123/mcp

Task tools: ``slow`` (works for a while, then doubles its value), ``approve`` (goes
``input_required`` with an elicitation until the client answers), ``doomed`` (fails with a
JSON-RPC error), ``forever`` (never ends; honours cancellation). ``hostile`` answers with broken
tasks picked by its ``mode`` (served by a hand-written extension, not TasksExtension).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError

from ptclisp.mcp import ServerTask, TaskFailed, TasksExtension
from ptclisp.mcp._tasks import TaskParams

CANCELLED: list[str] = []


def slow_task(args: dict[str, Any], task: ServerTask) -> int:
    task.status("started")
    end = time.monotonic() + float(args["seconds"])
    while time.monotonic() < end:
        if task.cancelled:
            CANCELLED.append(task.task_id)
            return 0
        time.sleep(0.01)
    return int(args["value"]) * 2


def approve_task(args: dict[str, Any], task: ServerTask) -> dict[str, Any]:
    request = {"method": "elicitation/create", "params": {
        "mode": "form", "message": f"Approve {args['item']}?",
        "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}}
    answers = task.input_required(f"waiting for a human to approve {args['item']}",
                                  {"approval": request})
    answer = answers["approval"]
    return {"item": args["item"], "approved": bool(answer.get("content", {}).get("ok"))}


def doomed_task(args: dict[str, Any], task: ServerTask) -> None:
    raise TaskFailed(f"doomed: {args['reason']}", code=-32001)


def forever_task(args: dict[str, Any], task: ServerTask) -> None:
    while not task.cancelled:
        time.sleep(0.01)
    CANCELLED.append(task.task_id)


class Hostile(Extension):
    """Broken task answers for ``hostile`` (a second tasks implementation under its own id)."""

    identifier = "dev.ptclisp/hostile-tasks"

    def __init__(self) -> None:
        self.modes: dict[str, str] = {}
        self.polls: dict[str, int] = {}
        self.count = 0
        self.lock = threading.Lock()

    def methods(self) -> Sequence[MethodBinding]:
        return [MethodBinding("hostile/noop", TaskParams, self._noop)]

    async def _noop(self, ctx: Any, params: TaskParams) -> dict[str, Any]:
        return {}

    async def intercept_tool_call(self, params: Any, ctx: Any, call_next: Any) -> Any:
        if params.name != "hostile":
            return await call_next(ctx)
        mode = (params.arguments or {}).get("mode", "")
        with self.lock:
            self.count += 1
            task_id = {"bogus_id": "../../etc/passwd with spaces", "dup_id": "same-id",
                       "huge_id": "x" * 5000}.get(mode, f"h{self.count}-{mode}")
        self.modes[task_id] = mode
        if mode == "state":  # requestState: the client must echo the latest one
            self.polls[task_id] = 0
            return {"resultType": "task", "taskId": task_id, "status": "working",
                    "createdAt": "x", "lastUpdatedAt": "x", "ttlSeconds": None,
                    "pollIntervalMilliseconds": 10, "requestState": "state-0"}
        if mode == "not_a_task":
            return {"resultType": "task", "taskId": task_id, "status": "exploded",
                    "createdAt": "x", "lastUpdatedAt": "x", "ttlSeconds": None}
        return {"resultType": "task", "taskId": task_id, "status": "working", "createdAt": "x",
                "lastUpdatedAt": "x", "ttlSeconds": None, "pollIntervalMilliseconds": 10}

    def answer(self, task_id: str, state: str | None) -> dict[str, Any]:
        """What ``tasks/get`` says for a hostile task (``state``: the echoed requestState)."""
        mode = self.modes.get(task_id, "")
        base = {"taskId": task_id, "createdAt": "x", "lastUpdatedAt": "x", "ttlSeconds": None,
                "pollIntervalMilliseconds": 10}
        if mode == "state":
            polls = self.polls[task_id]
            if state != f"state-{polls}":
                return {**base, "status": "failed",
                        "error": {"code": -32602, "message": f"stale requestState {state!r}"}}
            self.polls[task_id] = polls + 1
            if polls < 3:
                return {**base, "status": "working", "requestState": f"state-{polls + 1}"}
            return {**base, "status": "completed",
                    "result": {"content": [], "structuredContent": {"result": "polled 4"}}}
        if mode in ("flaky", "broken"):  # tasks/get errors: twice, or always
            polls = self.polls.get(task_id, 0)
            self.polls[task_id] = polls + 1
            if mode == "broken" or polls < 2:
                raise MCPError(code=-32603, message="the task store is busy")
            return {**base, "status": "completed",
                    "result": {"content": [], "structuredContent": {"result": "steady"}}}
        if mode == "malformed_result":
            return {**base, "status": "completed", "result": {"content": 5}}
        if mode == "no_result":
            return {**base, "status": "completed", "result": "just text"}
        if mode == "huge":
            text = "y" * (12 << 20)
            return {**base, "status": "completed",
                    "result": {"content": [{"type": "text", "text": text}]}}
        if mode == "other_id":
            return {**base, "taskId": "someone-else", "status": "completed",
                    "result": {"content": []}}
        if mode == "bad_status":
            return {**base, "status": "sleeping"}
        if mode == "wrong_type":  # `hostile` declares a string result
            return {**base, "status": "completed",
                    "result": {"content": [], "structuredContent": {"result": 5}}}
        if mode == "tool_error":
            return {**base, "status": "completed",
                    "result": {"content": [{"type": "text", "text": "no such city"}],
                               "isError": True}}
        return {**base, "status": "working"}  # never: never ends


HOSTILE = Hostile()


class HostileGet(TasksExtension):
    """``tasks/get`` that answers for hostile tasks too (one server serves both kinds)."""

    async def _get(self, ctx: Any, params: TaskParams) -> dict[str, Any]:
        if params.task_id in HOSTILE.modes:
            return HOSTILE.answer(params.task_id, params.request_state)
        return await super()._get(ctx, params)


tasks = HostileGet({"slow": slow_task, "approve": approve_task, "doomed": doomed_task,
                    "forever": forever_task}, poll_ms=20)
server = MCPServer("tasks", extensions=[tasks, HOSTILE], middleware=[tasks.legacy])


@server.tool()
def slow(seconds: float, value: int) -> int:
    """Double a value, slowly (a task)."""
    time.sleep(seconds)
    return value * 2


@server.tool()
def approve(item: str) -> dict[str, Any]:
    """Ask a human to approve an item (a task that needs input)."""
    return {"item": item, "approved": False}


@server.tool()
def doomed(reason: str) -> str:
    """Always fails (a task)."""
    return reason


@server.tool()
def forever(note: str = "") -> str:
    """Never ends (a task)."""
    return note


@server.tool()
def hostile(mode: str) -> str:
    """Answers with a broken task."""
    return mode


@server.tool()
def cancelled_tasks() -> list[str]:
    """The task ids whose handler saw a cancellation."""
    return list(CANCELLED)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--port":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
