"""MCP Tasks, client side: task ops of an ``MCPTools`` connection.

The client declares the ``io.modelcontextprotocol/tasks`` extension (SEP-2663) on its requests.
A ``tools/call`` of an async MCP tool may then answer with a task (``resultType: "task"``); its
``taskId`` becomes the op id ``mcptask-<label>-<taskId>`` (``label``: a hash of the server
configuration, so the op id names the server and the task, and a later process re-attaches to
it). ``TaskTable`` keeps each op's last known status and polls ``tasks/get`` (honouring
``pollIntervalMilliseconds``) until the task ends: ``completed`` → its ``CallToolResult`` (the
value, or a ``tool_error`` for ``isError``), ``failed`` → ``tool_error``, ``cancelled`` →
``op_cancelled``. A server that answers synchronously gives an op whose outcome is known at once.

On a 2025-11-25 connection (tasks in the core protocol) a declared task tool is called with
``params.task`` and answers ``{"task": {...}}``; ``tasks/get`` polls it the same way, and a
completed task's result comes from ``tasks/result``.

Everything from the server is checked: a task id must be a short printable string, a status one
of the five, a result a ``CallToolResult`` no bigger than ``max_result_bytes``; anything else is a
``tool_error`` naming what was wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp_types import (
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    CallToolResult,
    Request,
    RequestParams,
    Result,
)
from pydantic import ConfigDict, ValidationError

from .._errors import ToolError
from ._tasks import EXTENSION, TERMINAL

if TYPE_CHECKING:
    from ._client import MCPTools

__all__ = ["TaskRecord", "TaskTable", "client_extension"]

STATUSES = ("working", "input_required", "completed", "failed", "cancelled")
_TASK_ID = re.compile(r"[A-Za-z0-9._:~-]{1,200}")
MIN_POLL_S = 0.01


class CreatedTask(Result):
    """A ``CreateTaskResult`` as the SDK parses it; the task fields stay as extras."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    result_type: Literal["task"] = "task"


class _TaskParams(RequestParams):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    task_id: str
    request_state: str | None = None
    input_responses: dict[str, Any] | None = None


class _TaskRequest(Request[_TaskParams, str]):
    method: str
    params: _TaskParams
    name_param = "taskId"


class _Raw(Result):
    model_config = ConfigDict(extra="allow")


@dataclasses.dataclass
class TaskRecord:
    """What this client knows of one task op."""

    op_id: str
    tool: str
    task_id: str | None
    unwrap: bool = False
    status: str = "working"
    message: str | None = None
    input_requests: dict[str, Any] = dataclasses.field(default_factory=dict)
    request_state: str | None = None
    poll_s: float = 0.5
    outcome: dict[str, Any] | None = None
    """``{"value": v}`` or ``{"error": {"message", "code"}}`` once the task ended."""
    final: CallToolResult | None = None
    """The ``CallToolResult`` of a completed task."""
    failures: int = 0
    """Polls in a row that got no answer."""

    def info(self) -> dict[str, Any]:
        return {"op_id": self.op_id, "tool": self.tool, "task_id": self.task_id,
                "status": self.status, "message": self.message,
                "input_requests": self.input_requests}


class TaskTable:
    """The task ops of one ``MCPTools`` connection, by op id."""

    def __init__(self, mcp: MCPTools) -> None:
        self.mcp = mcp
        self.records: dict[str, TaskRecord] = {}

    @property
    def op_prefix(self) -> str:
        return f"mcptask-{self.mcp.label}-"

    def owns(self, op_id: str) -> bool:
        """Is ``op_id`` an op of this connection (known, or named like one of its tasks)?"""
        return op_id in self.records or (op_id.startswith(self.op_prefix) and bool(
            _TASK_ID.fullmatch(op_id[len(self.op_prefix):])))

    def record(self, op_id: str, tool: str | None = None) -> TaskRecord:
        """The op's record; an op named like one of this server's tasks but started by another
        process (before a restart) is re-attached by its task id (``tool``: the ptclisp name of
        the tool that started it, which says how to read its result)."""
        found = self.records.get(op_id)
        if found is not None:
            return found
        task_id = op_id[len(self.op_prefix):] if op_id.startswith(self.op_prefix) else ""
        if not _TASK_ID.fullmatch(task_id):
            raise ToolError(f"op {op_id!r} is not a task of the MCP server {self.mcp.server!r}",
                            hint="pass the MCPTools whose tool started the op")
        remote, unwrap = self.mcp.tool_info.get(tool or "", (tool or "?", False))
        return self.records.setdefault(op_id, TaskRecord(op_id, remote, task_id, unwrap))

    def forget(self, op_id: str) -> None:
        """Drop a finished op's record (its outcome was delivered); asking again re-attaches."""
        record = self.records.get(op_id)
        if record is not None and record.outcome is not None:
            del self.records[op_id]

    # ------------------------------------------------------------ start

    def start(self, tool: str, args: dict[str, Any], *, unwrap: bool) -> str:
        """Call an async tool: the op id of the task it started (or of its immediate result)."""
        try:
            return self.mcp.run_coroutine(self._start(tool, args, unwrap))
        except concurrent_timeout():
            raise ToolError(f"MCP tool {tool!r} did not answer within {self.mcp.timeout_s}s",
                            hint="try again later") from None

    async def _start(self, tool: str, args: dict[str, Any], unwrap: bool) -> str:
        from ._client import value_of

        try:
            if self.mcp.legacy_tasks(tool):
                result = await self._legacy_call(tool, args)
            else:
                result = await self.mcp.session.call_tool(tool, args, allow_claimed=True)
        except ToolError:
            raise
        except Exception as exc:
            raise ToolError(f"MCP tool {tool!r} failed: {type(exc).__name__}: {exc}",
                            hint="the MCP server could not start the task") from None
        if isinstance(result, CallToolResult):  # answered at once: an op already finished
            record = TaskRecord(f"mcp-{self.mcp.label}-{uuid.uuid4().hex[:16]}", tool, None,
                                unwrap, status="completed")
            record.outcome = _outcome(lambda: value_of(tool, result, unwrap))
            self.records[record.op_id] = record
            return record.op_id
        fields = result.fields if isinstance(result, _LegacyTask) else _fields(result)
        task = parse_task(fields, tool)
        op_id = self.op_prefix + task["taskId"]
        if op_id in self.records:
            raise ToolError(f"MCP tool {tool!r}: the server returned task id "
                            f"{task['taskId']!r}, which is already in use",
                            hint="the MCP server is broken: it reuses task ids")
        record = TaskRecord(op_id, tool, task["taskId"], unwrap)
        self.records[op_id] = record
        self._absorb(record, task, detailed=False)
        return op_id

    async def _legacy_call(self, tool: str, args: dict[str, Any]) -> Any:
        """A task-augmented ``tools/call`` (2025-11-25): ``{"task": {...}}`` or a result.

        The SDK's ``send_request`` checks a ``tools/call`` answer against that revision's
        ``CallToolResult``, which a ``CreateTaskResult`` is not; so this goes through the
        session's dispatcher (with the session's own request stamp)."""
        session = self.mcp.session
        stamp = getattr(session, "_stamp", None)
        dispatcher: Any = getattr(session, "_dispatcher", None)
        if stamp is None or not hasattr(dispatcher, "send_raw_request"):
            raise ToolError("this MCP SDK version cannot send a 2025-11-25 task-augmented call",
                            hint="connect with mode='auto' (the tasks extension)")
        data: dict[str, Any] = {"method": "tools/call",
                                "params": {"name": tool, "arguments": args, "task": {}}}
        opts: dict[str, Any] = {}
        stamp(data, opts)
        opts["timeout"] = self.mcp.timeout_s
        raw = await dispatcher.send_raw_request("tools/call", data["params"], opts)
        if isinstance(raw, dict) and "task" in raw:
            return _LegacyTask(raw["task"])
        try:
            return CallToolResult.model_validate(raw)
        except ValidationError as exc:
            raise ToolError(f"MCP tool {tool!r}: malformed answer to a task-augmented call: "
                            f"{exc.errors()[0]['msg']}", hint="the MCP server is broken") from None

    # ------------------------------------------------------------ poll

    def wait(self, op_id: str, timeout: float | None = None,
             on_status: Callable[[TaskRecord], None] | None = None,
             tool: str | None = None) -> dict[str, Any] | None:
        """Poll until the op's task ends: its outcome; None after ``timeout`` seconds."""
        record = self.record(op_id, tool)
        if record.outcome is not None:
            return record.outcome
        budget = None if timeout is None else max(timeout, 0.0)
        try:
            return self.mcp.run_coroutine(self._wait(record, budget, on_status),
                                          timeout=None if budget is None else budget + 30,
                                          forever=budget is None)
        except concurrent_timeout():
            return None

    async def _wait(self, record: TaskRecord, timeout: float | None,
                    on_status: Callable[[TaskRecord], None] | None) -> dict[str, Any] | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        seen: tuple[str, str | None] | None = None
        while True:
            await self.poll(record)
            if on_status is not None and (record.status, record.message) != seen:
                seen = (record.status, record.message)
                on_status(record)
            if record.outcome is not None:
                return record.outcome
            pause = min(record.poll_s, self.mcp.max_poll_s)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                pause = min(pause, left)
            await asyncio.sleep(max(pause, MIN_POLL_S))

    async def poll(self, record: TaskRecord) -> None:
        """One ``tasks/get``: the record updated (an unusable answer ends the op in error)."""
        if record.outcome is not None or record.task_id is None:
            return
        try:
            fields = await self._send("tasks/get", record)
            task = parse_task(fields, record.tool)
            if task["taskId"] != record.task_id:
                raise ToolError(f"MCP task {record.task_id!r}: tasks/get answered for task "
                                f"{task['taskId']!r}", hint="the MCP server is broken")
            if task["status"] == "completed" and "result" not in task:  # 2025-11-25
                task["result"] = await self._send("tasks/result", record)
        except _Unreachable as exc:  # maybe a blip: the op fails after a few in a row
            record.failures += 1
            if record.failures < self.mcp.max_poll_failures:
                return
            exc.message = f"{exc.message} ({record.failures} polls in a row failed)"
            record.status, record.outcome = "failed", {"error": _error(exc)}
            return
        except ToolError as exc:
            record.status, record.outcome = "failed", {"error": _error(exc)}
            return
        record.failures = 0
        self._absorb(record, task, detailed=True)

    def _absorb(self, record: TaskRecord, task: dict[str, Any], *, detailed: bool) -> None:
        from ._client import value_of

        record.status = task["status"]
        record.message = task.get("statusMessage")
        record.request_state = task.get("requestState")
        record.poll_s = max(task.get("pollIntervalMilliseconds", 500) / 1000, MIN_POLL_S)
        record.input_requests = task.get("inputRequests") or {}
        if not detailed or record.status not in TERMINAL:
            return
        name = record.tool
        if record.status == "completed":
            raw = task.get("result")

            def value() -> Any:
                record.final = self._checked_result(name, raw)
                return value_of(name, record.final, record.unwrap)

            record.outcome = _outcome(value)
        elif record.status == "failed":
            found = task.get("error")
            error: dict[str, Any] = found if isinstance(found, dict) else {}
            message = str(error.get("message") or record.message or "the task failed")[:2000]
            record.outcome = {"error": {"message": f"MCP task of tool {name!r} failed: {message}",
                                        "code": "tool_error"}}
        else:
            record.outcome = {"error": {"message": f"MCP task of tool {name!r} was cancelled"
                                        + (f": {record.message}" if record.message else ""),
                                        "code": "op_cancelled"}}

    def _checked_result(self, name: str, raw: Any) -> CallToolResult:
        if not isinstance(raw, dict):
            raise ToolError(f"MCP task of tool {name!r} completed without a result object",
                            hint="the MCP server is broken")
        size = len(json.dumps(raw, default=str))
        if size > self.mcp.max_result_bytes:
            raise ToolError(f"MCP task of tool {name!r}: its result is {size} bytes, more than "
                            f"max_result_bytes={self.mcp.max_result_bytes}",
                            hint="ask for less data, or raise MCPTools(max_result_bytes=...)")
        try:
            return CallToolResult.model_validate(raw)
        except ValidationError as exc:
            raise ToolError(f"MCP task of tool {name!r}: malformed result: "
                            f"{exc.errors()[0]['msg']}", hint="the MCP server is broken") from None

    # ------------------------------------------------------------ cancel and input

    def cancel(self, op_id: str) -> None:
        """Ask the server to cancel the op's task (``tasks/cancel``; best effort)."""
        record = self.record(op_id)
        if record.task_id is None or record.status in TERMINAL:
            return
        # cooperative: the server may be gone; the op is ended locally anyway
        with contextlib.suppress(Exception):
            self.mcp.run_coroutine(self._send("tasks/cancel", record))
        record.status = "cancelled"
        record.outcome = {"error": {"message": f"MCP task of tool {record.tool!r} was "
                                    "cancelled by this client", "code": "op_cancelled"}}

    def update(self, op_id: str, responses: dict[str, Any]) -> None:
        """Answer the task's input requests (``tasks/update`` with ``inputResponses``)."""
        record = self.record(op_id)
        if record.task_id is None:
            raise ToolError(f"op {op_id!r} has no task to update")
        try:
            self.mcp.run_coroutine(self._send("tasks/update", record, responses))
        except ToolError:
            raise
        except Exception as exc:
            raise ToolError(f"tasks/update for op {op_id!r} failed: {type(exc).__name__}: "
                            f"{exc}") from None

    async def _send(self, method: str, record: TaskRecord,
                    responses: dict[str, Any] | None = None) -> dict[str, Any]:
        assert record.task_id is not None
        params = _TaskParams(task_id=record.task_id, request_state=record.request_state,
                             input_responses=responses)
        try:
            answer = await self.mcp.session.send_request(
                _TaskRequest(method=method, params=params), _Raw,
                request_read_timeout_seconds=self.mcp.timeout_s)
        except ToolError:
            raise
        except Exception as exc:
            message = (f"MCP {method} for task {record.task_id!r} failed: "
                       f"{type(exc).__name__}: {exc}")[:2000]
            if getattr(exc, "code", None) in (INVALID_PARAMS, METHOD_NOT_FOUND) \
                    or isinstance(exc, ValidationError):
                raise ToolError(message, hint="the MCP server lost the task") from None
            if not self.mcp.connected:
                raise ToolError(message, hint="the MCP connection is closed") from None
            raise _Unreachable(message, hint="the MCP server is unreachable or too slow"
                               ) from None
        return _fields(answer)


class _Unreachable(ToolError):
    """A request about a task got no usable answer (connection, timeout, server error)."""


@dataclasses.dataclass
class _LegacyTask:
    fields: Any


def parse_task(fields: Any, tool: str) -> dict[str, Any]:
    """A task object from the server, checked (``ToolError`` naming the bad field)."""

    def bad(what: str) -> ToolError:
        return ToolError(f"MCP tool {tool!r}: the server returned a malformed task: {what}",
                         hint="the MCP server is broken")

    if not isinstance(fields, dict):
        raise bad("not an object")
    task_id = fields.get("taskId")
    if not isinstance(task_id, str) or not _TASK_ID.fullmatch(task_id):
        raise bad(f"taskId {str(task_id)[:80]!r} is not 1-200 letters, digits or ._:~-")
    status = fields.get("status")
    if status not in STATUSES:
        raise bad(f"status {str(status)[:40]!r}")
    task: dict[str, Any] = {"taskId": task_id, "status": status}
    message = fields.get("statusMessage")
    if isinstance(message, str):
        task["statusMessage"] = message[:2000]
    state = fields.get("requestState")
    if isinstance(state, str) and len(state) <= 65536:
        task["requestState"] = state
    poll = fields.get("pollIntervalMilliseconds", fields.get("pollInterval"))
    if isinstance(poll, (int, float)) and not isinstance(poll, bool) and poll >= 0:
        task["pollIntervalMilliseconds"] = poll
    requests = fields.get("inputRequests")
    if isinstance(requests, dict):
        task["inputRequests"] = requests
    for key in ("result", "error"):
        if key in fields:
            task[key] = fields[key]
    return task


def client_extension(mcp: MCPTools) -> ClientExtension:
    """Declares the tasks extension; a task answering a *synchronous* tool call is polled to
    its end within the call's ``timeout_s``."""

    async def resolve(created: CreatedTask, ctx: ClaimContext) -> CallToolResult:
        task = parse_task(_fields(created), ctx.tool_name)
        record = TaskRecord(f"sync-{task['taskId']}", ctx.tool_name, task["taskId"])
        table = mcp.tasks
        table._absorb(record, task, detailed=False)
        try:
            outcome = await table._wait(record, mcp.timeout_s, None)
        except asyncio.CancelledError:  # the caller gave up (timeout_s): so does the server
            await _quietly(table._send("tasks/cancel", record))
            raise
        if outcome is None:
            await _quietly(table._send("tasks/cancel", record))
            raise ToolError(f"MCP tool {ctx.tool_name!r}: its task did not end within "
                            f"{mcp.timeout_s}s", hint="try again later or with less work")
        if record.final is None:  # failed, cancelled, or an unusable result
            raise ToolError(outcome["error"]["message"], code="tool_error")
        return record.final

    class Tasks(ClientExtension):
        identifier = EXTENSION

        def claims(self) -> list[ResultClaim[Any]]:
            return [ResultClaim(result_type="task", model=CreatedTask, resolve=resolve)]

    return Tasks()


async def _quietly(coroutine: Any) -> None:
    """Best effort (a cancel on the way out): errors and a slow server are ignored."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(coroutine, 5)


def _fields(model: Any) -> dict[str, Any]:
    if isinstance(model, dict):
        return model
    dumped = model.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped if isinstance(dumped, dict) else {}


def _outcome(compute: Callable[[], Any]) -> dict[str, Any]:
    try:
        return {"value": compute()}
    except ToolError as exc:
        return {"error": _error(exc)}


def _error(exc: ToolError) -> dict[str, Any]:
    return {"message": exc.message, "code": exc.code or "tool_error"}


def concurrent_timeout() -> type[BaseException]:
    import concurrent.futures

    return concurrent.futures.TimeoutError
