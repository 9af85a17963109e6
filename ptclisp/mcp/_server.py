"""The MCP server: ptclisp as a "code mode" tool other agents call.

    server = build_server(tools=registry, limits=Limits(timeout_s=10))
    serve(server)                       # stdio
    serve(server, port=8765)            # streamable HTTP on http://127.0.0.1:8765/mcp

or from the command line: ``ptclisp mcp serve [--port N] [--registry module:attr] [--tools JSON]``.

Tool ``run_program(program, data?)``: runs the program against the configured tools with the
configured limits. Structured result ``{"status", "value", "output", "steps", "error"}``
(``value`` as JSON-like data, or its printed form when it is not data; ``error`` is
``{"code", "message", "hint", "line", "column"}``); the text content is the printed value or the
error; ``isError`` is true unless the status is ``ok``.

Resources: ``ptclisp://reference`` (the language reference: special forms and every builtin with
its arglists and doc) and ``ptclisp://tools`` (the configured tools and their signatures).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from mcp_types import CallToolResult, TextContent

from .._async.journal import PendingError
from .._errors import HostInputError
from .._limits import Limits
from ._tasks import ServerTask, TasksExtension

__all__ = ["ProgramTasks", "build_server", "language_reference", "serve"]

SPECIAL_FORMS = ("def defn fn let if when when-not cond case do loop recur and or -> ->> as-> "
                 "cond-> some-> doseq for try catch throw return fail await quote")

INSTRUCTIONS = """\
ptclisp runs small Clojure-like programs in a sandbox with resource limits. Call run_program
with a program; tools are called as (tool/name {:arg value}), inputs are data/name. Read the
resource ptclisp://reference for the builtins and ptclisp://tools for the tools."""


def build_server(tools: Mapping[str, Any] | Any = None, *, data: Mapping[str, Any] | None = None,
                 limits: Limits | Mapping[str, Any] | None = None, name: str = "ptclisp",
                 tasks: bool | ProgramTasks = False) -> Any:
    """An ``mcp.server.mcpserver.MCPServer`` with ``run_program`` and the two resources.

    ``tools``, ``data`` and ``limits`` are what ``ptclisp.run`` takes (checked the same way);
    ``data`` given here is merged under the ``data`` of each call. ``tasks`` (true, or a
    ``ProgramTasks`` to keep for ``deliver``): for a client with the MCP tasks extension,
    ``run_program`` answers with a task that waits for the ops a suspended program awaits.
    """
    from mcp.server.mcpserver import MCPServer

    from .._host_input import check_data, check_limits, check_tools

    tool_map = check_tools(tools) or {}
    base_data = dict(check_data(data) or {})
    run_limits = check_limits(limits) or Limits()
    if tasks is True:
        tasks = ProgramTasks()
    extensions, middleware = [], []
    if isinstance(tasks, ProgramTasks):
        tasks.bind(tool_map, base_data, run_limits)
        extensions.append(tasks.extension)
        middleware.append(tasks.extension.legacy)
    elif tasks is not False:
        raise HostInputError(f"tasks: expected a bool or ProgramTasks, got {type(tasks).__name__}")
    server = MCPServer(name, instructions=INSTRUCTIONS, extensions=extensions,
                       middleware=middleware)

    def run_program(program: str, data: dict[str, Any] | None = None) -> CallToolResult:
        """Run a ptclisp program against this server's tools. `data` holds its inputs
        (read as data/name). Returns status, value, printed output and any error."""
        return _result(_run(program, {**base_data, **(data or {})}, tool_map, run_limits))

    server.add_tool(run_program, name="run_program")

    @server.resource("ptclisp://reference", name="language-reference", mime_type="text/plain",
                     description="The ptclisp language: special forms and builtins")
    def reference() -> str:
        return language_reference()

    @server.resource("ptclisp://tools", name="tools", mime_type="text/plain",
                     description="The tools programs can call, with their signatures")
    def tool_docs() -> str:
        return _describe(tool_map)

    return server


def serve(server: Any, *, port: int | None = None, host: str = "127.0.0.1") -> None:
    """Serve over stdio, or streamable HTTP at ``http://{host}:{port}/mcp`` with ``port``."""
    import anyio

    if port is None:
        anyio.run(server.run_stdio_async)
    else:
        anyio.run(lambda: server.run_streamable_http_async(host=host, port=port))


def language_reference() -> str:
    """Special forms, then every builtin by category with its arglists and doc."""
    from .. import _core  # noqa: F401 - importing the language registers every builtin
    from .._core import DOCS

    by_category: dict[str, list[Any]] = {}
    for doc in DOCS.values():
        by_category.setdefault(doc.category, []).append(doc)
    lines = ["Special forms: " + SPECIAL_FORMS, ""]
    for category in sorted(by_category):
        lines.append(f"{category}:")
        for doc in sorted(by_category[category], key=lambda d: d.name):
            lines.append(f"  {doc.name} {doc.arglists} {doc.doc}".rstrip())
    return "\n".join(lines)


def _run(program: str, data: dict[str, Any], tools: Mapping[str, Any],
         limits: Limits) -> dict[str, Any]:
    from .._run import run

    return _report(run(program, tools=tools, data=data, limits=limits))


def _report(result: Any) -> dict[str, Any]:
    from .._values.printer import pr_str
    from .._values.types import to_python

    if result.status == "pending":
        return {"status": "error", "value": None, "output": result.output, "steps": 0,
                "error": {"code": "async_pending", "message": "the program awaits an async "
                          "operation, which run_program cannot wait for", "hint":
                          "do not await async tools here", "line": None, "column": None}}
    try:
        value = to_python(result.value)
    except TypeError:
        value = pr_str(result.value)
    error = result.error.to_dict() if result.error is not None else None
    if result.status == "failed":
        error = {"code": "failed", "message": pr_str(result.value), "hint": None, "line": None,
                 "column": None}
    return {"status": result.status, "value": value, "output": result.output,
            "steps": result.steps, "error": error}


def _result(report: dict[str, Any]) -> CallToolResult:
    text = report["error"]["message"] if report["error"] else _printed(report)
    return CallToolResult(content=[TextContent(type="text", text=text)],
                          structured_content=report, is_error=report["status"] != "ok")


class ProgramTasks:
    """``run_program`` as an MCP task (the tasks extension): a program that suspends on ``await``
    leaves its task ``input_required``, one input request per awaited op (an elicitation form
    with one field, ``result_json``: the op's result as JSON; declining it fails the op with
    ``op_cancelled``). The client answers with ``tasks/update``, or the application calls
    ``deliver(op_id, result)`` (its async tools' outcomes arriving by webhook, say). Each answer
    resumes the program; the task completes with ``run_program``'s usual result. A program that
    does not suspend is answered at once, without a task."""

    def __init__(self, *, poll_ms: int = 200, ttl_s: int | None = 3600) -> None:
        self.extension = TasksExtension(poll_ms=poll_ms, ttl_s=ttl_s)
        self._waiting: dict[str, tuple[ServerTask, str]] = {}
        self._lock = threading.Lock()
        self._config: tuple[Mapping[str, Any], dict[str, Any], Limits] = ({}, {}, Limits())

    def bind(self, tools: Mapping[str, Any], data: dict[str, Any], limits: Limits) -> None:
        self._config = (tools, data, limits)
        self.extension.handlers["run_program"] = self._run_task
        self.extension.first["run_program"] = self._first

    def waiting(self) -> dict[str, str]:
        """``{op_id: task_id}``: the ops suspended ``run_program`` tasks await right now."""
        with self._lock:
            return {op: task.task_id for op, (task, _) in self._waiting.items()}

    def deliver(self, op_id: str, result: Any = None, *, error: str | None = None) -> None:
        """Deliver an op a suspended ``run_program`` task awaits (``HostInputError`` if none
        does)."""
        with self._lock:
            found = self._waiting.get(op_id)
        if found is None:
            raise HostInputError(f"op_id: no run_program task awaits op {op_id!r}")
        task, key = found
        answer = {"error": error} if error is not None else {"value": result}
        task.respond({key: {"action": "accept", "content": {"ptclisp": answer}}})

    def _start(self, args: dict[str, Any]) -> Any:
        from .._async.resume import start

        tools, base, limits = self._config
        program, data = args.get("program"), args.get("data")
        if not isinstance(program, str) or not isinstance(data, (dict, type(None))):
            raise ValueError("run_program takes {program: string, data?: object}")
        return start(program, tools=tools, data={**base, **(data or {})}, limits=limits)

    def _first(self, args: dict[str, Any]) -> Any:
        """Run the program within the request: its result, or (suspended) the task's handler."""
        outcome = self._start(args)
        if outcome.status != "pending":
            return _result(_report(outcome))
        return lambda _args, task: self._go_on(outcome, task)

    def _run_task(self, args: dict[str, Any], task: ServerTask) -> CallToolResult:
        return self._go_on(self._start(args), task)

    def _go_on(self, outcome: Any, task: ServerTask) -> CallToolResult:
        """Deliver the answers to the ops the program awaits until it ends."""
        from .._async.resume import resume

        tools = self._config[0]
        attempts: dict[str, int] = {}
        note = ""
        while outcome.status == "pending":
            op_id, answer = self._next_answer(outcome, task, attempts, note)
            value, error, note = _answer(answer)
            if note:
                continue
            try:
                outcome = resume(outcome, op_id, value, tools=tools, error=error)
            except PendingError as exc:  # e.g. a result of the wrong type: ask again
                note = f"{exc.message} "
        return _result(_report(outcome))

    def _next_answer(self, step: Any, task: ServerTask, attempts: dict[str, int],
                     note: str) -> tuple[str, Any]:
        awaited = {op: step.pending_ops[op] for op in step.awaiting if op in step.pending_ops}
        keys = {op: f"op:{op}:{attempts.get(op, 0)}" for op in awaited}
        requests = {keys[op]: _elicitation(op, info) for op, info in awaited.items()}
        message = note + "the program awaits " + ", ".join(
            f"op {op} (tool/{info['tool']})" for op, info in awaited.items())
        task.ask(message, requests)  # outstanding before deliver() can name them
        with self._lock:
            self._waiting.update({op: (task, keys[op]) for op in awaited})
        try:
            answers = task.answers(any_=True)
        finally:
            with self._lock:
                for op in awaited:
                    self._waiting.pop(op, None)
        op_id = next(op for op in awaited if keys[op] in answers)
        attempts[op_id] = attempts.get(op_id, 0) + 1
        return op_id, answers[keys[op_id]]


def _elicitation(op_id: str, info: dict[str, Any]) -> dict[str, Any]:
    args = json.dumps(info.get("args"), ensure_ascii=False, default=str)[:500]
    return {"method": "elicitation/create", "params": {
        "mode": "form",
        "message": f"The result of op {op_id} (tool/{info['tool']} {args}), as JSON",
        "requestedSchema": {"type": "object", "required": ["result_json"], "properties": {
            "result_json": {"type": "string", "description": "the op's result as JSON"}}}}}


def _answer(answer: Any) -> tuple[Any, Any, str]:
    """``(value, error, note)`` from an input response; a note asks again."""
    if not isinstance(answer, dict):
        return None, None, "the answer was not an object; "
    found = answer.get("content")
    content: dict[str, Any] = found if isinstance(found, dict) else {}
    if answer.get("action") != "accept":
        return None, {"message": "the operation was declined", "code": "op_cancelled"}, ""
    inner = content.get("ptclisp")
    if isinstance(inner, dict):  # ProgramTasks.deliver
        return inner.get("value"), inner.get("error"), ""
    text = content.get("result_json")
    if not isinstance(text, str):
        return None, None, "the answer has no result_json string; "
    try:
        return json.loads(text), None, ""
    except ValueError as exc:
        return None, None, f"result_json is not JSON ({exc}); "


def _printed(report: dict[str, Any]) -> str:
    return json.dumps(report["value"], ensure_ascii=False, default=str)


def _describe(tools: Mapping[str, Any]) -> str:
    from .._tools.registry import Tool

    lines = []
    for name, fn in tools.items():
        if isinstance(fn, Tool):
            lines.append(f"tool/{name} {fn.signature_text} — {fn.description}".rstrip(" —"))
        else:  # a plain callable taking the argument map
            doc = (getattr(fn, "__doc__", None) or "").strip().split("\n")[0]
            lines.append(f"tool/{name} {{...}} — {doc}".rstrip(" —"))
    return "\n".join(lines) or "(no tools)"
