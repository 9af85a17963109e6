"""MCP Tasks, server side: the ``io.modelcontextprotocol/tasks`` extension (SEP-2663) for an SDK
``MCPServer``.

    tasks = TasksExtension({"render": render_video})     # name -> handler(arguments, task)
    server = MCPServer("media", extensions=[tasks])
    server.add_tool(render_video_tool, name="render")      # listed as usual

A ``tools/call`` of a task tool from a client that declares the extension in its request
capabilities returns a task (``resultType: "task"``) at once; the handler runs in a worker thread.
``tasks/get`` reports its status (``working``, ``input_required`` with ``inputRequests``,
``completed`` with ``result``, ``failed`` with ``error``, ``cancelled``), ``tasks/update`` answers
input requests, ``tasks/cancel`` asks the handler to stop. A client without the extension gets
the tool's ordinary synchronous result.

A handler receives the arguments as the client sent them (the SDK's validation against the
tool's signature does not run for a task: check what you use) and a ``ServerTask``:
``task.status(message)`` reports progress, ``task.input_required(message, requests)`` waits for
the client's answers (``tasks/update``), ``task.cancelled`` tells whether the client cancelled,
``raise TaskFailed(message)`` fails the task with a JSON-RPC error. Its return value is the
result (a ``CallToolResult``, or a value made into one); an exception is a completed result with
``isError`` (a tool error, as the spec wants).

Clients of the 2025-11-25 revision (tasks in the core protocol: ``params.task`` on
``tools/call``, ``tasks/result``) are served too when the server also runs ``tasks.legacy`` as
middleware: ``MCPServer(extensions=[tasks], middleware=[tasks.legacy])``.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio
from mcp.server.extension import Extension, MethodBinding
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, RequestParams, TextContent
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ConfigDict

__all__ = ["EXTENSION", "ServerTask", "TaskCancelled", "TaskFailed", "TasksExtension"]

EXTENSION = "io.modelcontextprotocol/tasks"
CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
TERMINAL = ("completed", "failed", "cancelled")

TaskHandler = Callable[[dict[str, Any], "ServerTask"], Any]


class TaskFailed(Exception):
    """Raised by a handler: the task ends ``failed`` with this JSON-RPC error."""

    def __init__(self, message: str, code: int = -32603) -> None:
        super().__init__(message)
        self.code = code


class TaskCancelled(Exception):
    """Raised inside a handler waiting for input when the client cancelled the task."""


class TaskParams(RequestParams):
    """Params of ``tasks/get``, ``tasks/update`` and ``tasks/cancel``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    task_id: str
    request_state: str | None = None
    input_responses: dict[str, Any] | None = None


class ServerTask:
    """One task: its status and payload, changed by the handler thread, read by ``tasks/get``."""

    def __init__(self, task_id: str, tool: str, *, poll_ms: int, ttl_s: int | None) -> None:
        self.task_id = task_id
        self.tool = tool
        self.poll_ms = poll_ms
        self.ttl_s = ttl_s
        self.created = _now()
        self.updated = self.created
        self.state = "working"
        self.message: str | None = None
        self.result: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None
        self.requests: dict[str, Any] = {}
        self._responses: dict[str, Any] = {}
        self._changed = threading.Condition()

    # ------------------------------------------------------------ handler side

    @property
    def cancelled(self) -> bool:
        return self.state == "cancelled"

    def status(self, message: str | None) -> None:
        """Report progress (the status message of a ``working`` task)."""
        with self._changed:
            if self.state not in TERMINAL:
                self.message = message
                self._touch()

    def input_required(self, message: str, requests: Mapping[str, Any],
                       timeout: float | None = None, *, any_: bool = False) -> dict[str, Any]:
        """Ask the client for input (``inputRequests``: key -> ``{"method", "params"}``) and wait
        for an answer to each key (``tasks/update``; ``any_``: to one of them). Raises
        ``TaskCancelled`` if the client cancels, ``TimeoutError`` after ``timeout`` seconds."""
        self.ask(message, requests)
        return self.answers(timeout, any_=any_)

    def ask(self, message: str, requests: Mapping[str, Any]) -> None:
        """``input_required`` without waiting: the requests are outstanding from now on."""
        with self._changed:
            if self.state == "cancelled":
                raise TaskCancelled(self.task_id)
            self.requests = dict(requests)
            self.state, self.message = "input_required", message
            self._touch()

    def answers(self, timeout: float | None = None, *, any_: bool = False) -> dict[str, Any]:
        """Wait for the answers to the outstanding requests (see ``input_required``)."""
        deadline = None if timeout is None else time.monotonic() + timeout

        def answered() -> bool:
            keys = set(self.requests) & set(self._responses)
            return bool(keys) if any_ else keys == set(self.requests)

        with self._changed:
            while not answered():
                if self.state == "cancelled":
                    raise TaskCancelled(self.task_id)
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"no input for task {self.task_id}")
                self._changed.wait(left)
            answers = {key: self._responses.pop(key) for key in self.requests
                       if key in self._responses}
            self.requests = {}
            if self.state != "cancelled":
                self.state, self.message = "working", None
                self._touch()
            return answers

    def respond(self, responses: Mapping[str, Any]) -> None:
        """Answers to outstanding input requests (``tasks/update``; others are ignored)."""
        with self._changed:
            for key, value in responses.items():
                if key in self.requests:
                    self._responses[key] = value
            self._changed.notify_all()

    def cancel(self) -> None:
        with self._changed:
            if self.state not in TERMINAL:
                self.state, self.message = "cancelled", "cancelled by the client"
                self._touch()
            self._changed.notify_all()

    def finish(self, result: dict[str, Any] | None = None,
               error: dict[str, Any] | None = None) -> None:
        with self._changed:
            if self.state in TERMINAL:
                return  # cancelled first: the outcome is dropped
            if error is not None:
                self.state, self.error = "failed", error
                self.message = str(error.get("message", "failed"))
            else:
                self.state, self.result = "completed", result
            self.requests = {}
            self._touch()
            self._changed.notify_all()

    def _touch(self) -> None:
        self.updated = _now()

    # ------------------------------------------------------------ wire

    def wire(self, *, detailed: bool) -> dict[str, Any]:
        """The task as ``CreateTaskResult`` fields (``detailed``: with its payload, as
        ``tasks/get`` answers)."""
        with self._changed:
            body: dict[str, Any] = {
                "taskId": self.task_id, "status": self.state, "createdAt": self.created,
                "lastUpdatedAt": self.updated, "ttlSeconds": self.ttl_s,
                "pollIntervalMilliseconds": self.poll_ms,
                # the 2025-11-25 spellings (milliseconds), for clients of that revision
                "ttl": None if self.ttl_s is None else self.ttl_s * 1000,
                "pollInterval": self.poll_ms,
            }
            if self.message is not None:
                body["statusMessage"] = self.message
            if detailed:
                if self.state == "input_required":
                    body["inputRequests"] = dict(self.requests)
                elif self.state == "completed":
                    body["result"] = self.result
                elif self.state == "failed":
                    body["error"] = self.error
            return body


class TasksExtension(Extension):
    """The tasks extension: ``handlers`` maps tool names to ``handler(arguments, task)``.

    ``first`` (optional, by tool name): ``first(arguments)`` runs within the request (in a
    worker thread) and returns either the final ``CallToolResult`` — then no task is made — or a
    handler that finishes the work as a task: a tool that can often answer at once becomes a task
    only when it must wait. (A 2025-11-25 client that asks for a task always gets one.)"""

    identifier = EXTENSION

    def __init__(self, handlers: Mapping[str, TaskHandler] | None = None, *,
                 first: Mapping[str, Callable[[dict[str, Any]], Any]] | None = None,
                 poll_ms: int = 200, ttl_s: int | None = 3600, max_tasks: int = 10_000) -> None:
        self.handlers = dict(handlers or {})
        self.first = dict(first or {})
        self.poll_ms = poll_ms
        self.ttl_s = ttl_s
        self.max_tasks = max_tasks
        self.tasks: dict[str, ServerTask] = {}
        self._lock = threading.Lock()

    def methods(self) -> Sequence[MethodBinding]:
        return [MethodBinding("tasks/get", TaskParams, self._get),
                MethodBinding("tasks/update", TaskParams, self._update),
                MethodBinding("tasks/cancel", TaskParams, self._cancel),
                MethodBinding("tasks/result", TaskParams, self._result)]

    @property
    def legacy(self) -> Any:
        """Server middleware for clients of the 2025-11-25 revision, where tasks were part of
        the core protocol: ``MCPServer(extensions=[tasks], middleware=[tasks.legacy])``.

        It advertises ``capabilities.tasks.requests.tools.call``, marks the task tools
        ``execution.taskSupport: "optional"`` in ``tools/list`` (on every revision: a 2026 client
        ignores the field or reads it as a hint), and answers a task-augmented ``tools/call``
        (``params.task``) with ``{"task": {...}}``; ``tasks/result`` is served for them."""
        return self._middleware

    async def _middleware(self, ctx: Any, call_next: Any) -> Any:
        method = ctx.method
        params = ctx.params if isinstance(ctx.params, Mapping) else {}
        legacy = ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS
        if method == "tools/call" and legacy and params.get("name") in self.handlers \
                and isinstance(params.get("task"), Mapping):
            arguments = params.get("arguments")
            task = self.start(params["name"], self.handlers[params["name"]],
                              dict(arguments) if isinstance(arguments, Mapping) else {})
            return {"task": task.wire(detailed=False)}
        result = await call_next(ctx)
        if method == "initialize" and isinstance(result, dict) and self.handlers:
            capabilities = result.setdefault("capabilities", {})
            capabilities["tasks"] = {"requests": {"tools": {"call": {}}}, "cancel": {}}
        elif method == "tools/list" and isinstance(result, dict):
            for tool in result.get("tools") or ():
                if isinstance(tool, dict) and tool.get("name") in self.handlers:
                    tool["execution"] = {"taskSupport": "optional"}
        return result

    async def intercept_tool_call(self, params: Any, ctx: Any, call_next: Any) -> Any:
        handler = self.handlers.get(params.name)
        if handler is None or not _client_declares(params):
            return await call_next(ctx)
        arguments = dict(params.arguments or {})
        first = self.first.get(params.name)
        if first is not None:
            begun = await anyio.to_thread.run_sync(_begin, first, arguments)
            if isinstance(begun, CallToolResult):
                return begun
            handler = begun
        task = self.start(params.name, handler, arguments)
        return {"resultType": "task", **task.wire(detailed=False)}

    # ------------------------------------------------------------ tasks

    def start(self, tool: str, handler: TaskHandler, arguments: dict[str, Any]) -> ServerTask:
        """Create a task and run ``handler`` for it in a worker thread."""
        task = ServerTask(uuid.uuid4().hex, tool, poll_ms=self.poll_ms, ttl_s=self.ttl_s)
        with self._lock:
            self._forget_expired()
            if len(self.tasks) >= self.max_tasks:
                raise MCPError(code=-32000, message=f"too many tasks on this server "
                               f"(max_tasks={self.max_tasks}); try again later")
            self.tasks[task.task_id] = task
        threading.Thread(target=_run_handler, args=(handler, arguments, task), daemon=True,
                         name=f"mcp-task-{tool}").start()
        return task

    def get(self, task_id: str) -> ServerTask:
        task = self.tasks.get(task_id)
        if task is None:
            raise MCPError(code=-32602, message=f"unknown task {task_id!r}")
        return task

    def _forget_expired(self) -> None:
        if self.ttl_s is None:
            return
        cutoff = time.time() - self.ttl_s
        for task_id, task in list(self.tasks.items()):
            if task.state in TERMINAL and _epoch(task.created) < cutoff:
                del self.tasks[task_id]

    async def _get(self, ctx: Any, params: TaskParams) -> dict[str, Any]:
        return self.get(params.task_id).wire(detailed=True)

    async def _update(self, ctx: Any, params: TaskParams) -> dict[str, Any]:
        task = self.tasks.get(params.task_id)  # an ack even for an unknown task (the spec)
        if task is not None and params.input_responses:
            task.respond(params.input_responses)
        return {}

    async def _cancel(self, ctx: Any, params: TaskParams) -> dict[str, Any]:
        task = self.tasks.get(params.task_id)
        if task is None:
            return {}
        task.cancel()
        return task.wire(detailed=False)  # the 2025-11-25 answer; an ack with extras on 2026

    async def _result(self, ctx: Any, params: TaskParams) -> dict[str, Any]:
        """``tasks/result`` (2025-11-25): waits for the task to end; its ``CallToolResult``."""
        task = self.get(params.task_id)
        while task.state not in TERMINAL:
            await anyio.sleep(min(task.poll_ms, 1000) / 1000 or 0.01)
        if task.state == "completed":
            return dict(task.result or {})
        if task.state == "failed":
            error = task.error or {}
            raise MCPError(code=int(error.get("code", -32603)),
                           message=str(error.get("message", "the task failed")))
        raise MCPError(code=-32603, message=f"task {task.task_id} was cancelled")


def tool_result(value: Any) -> dict[str, Any]:
    """A handler's return value as a ``CallToolResult`` (wire form)."""
    if isinstance(value, CallToolResult):
        result = value
    elif isinstance(value, str):
        result = CallToolResult(content=[TextContent(type="text", text=value)])
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
        structured = value if isinstance(value, dict) else {"result": value}
        result = CallToolResult(content=[TextContent(type="text", text=text)],
                                structured_content=structured)
    return result.model_dump(by_alias=True, mode="json", exclude_none=True)


def _begin(first: Callable[[dict[str, Any]], Any], arguments: dict[str, Any]) -> Any:
    """``first(arguments)``: a ``CallToolResult`` (an exception becomes one with ``isError``)
    or the handler that goes on as a task."""
    try:
        begun = first(arguments)
    except Exception as exc:
        return CallToolResult(content=[TextContent(type="text", text=f"{exc}")], is_error=True)
    if isinstance(begun, CallToolResult) or callable(begun):
        return begun
    return CallToolResult.model_validate(tool_result(begun))


def _run_handler(handler: TaskHandler, arguments: dict[str, Any], task: ServerTask) -> None:
    try:
        value = handler(arguments, task)
    except TaskCancelled:
        return
    except TaskFailed as exc:
        task.finish(error={"code": exc.code, "message": str(exc)})
        return
    except Exception as exc:  # the tool failed: a completed result with isError (the spec)
        failed = CallToolResult(content=[TextContent(type="text", text=f"{exc}")], is_error=True)
        task.finish(failed.model_dump(by_alias=True, mode="json", exclude_none=True))
        return
    task.finish(tool_result(value))


def _client_declares(params: Any) -> bool:
    meta = params.meta or {}
    capabilities = meta.get(CAPABILITIES_KEY) if isinstance(meta, Mapping) else None
    extensions = capabilities.get("extensions") if isinstance(capabilities, Mapping) else None
    return isinstance(extensions, Mapping) and EXTENSION in extensions


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def _epoch(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp).timestamp()
