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
from collections.abc import Mapping
from typing import Any

from mcp_types import CallToolResult, TextContent

from .._limits import Limits

__all__ = ["build_server", "language_reference", "serve"]

SPECIAL_FORMS = ("def defn fn let if when when-not cond case do loop recur and or -> ->> as-> "
                 "cond-> some-> doseq for try catch throw return fail await quote")

INSTRUCTIONS = """\
ptclisp runs small Clojure-like programs in a sandbox with resource limits. Call run_program
with a program; tools are called as (tool/name {:arg value}), inputs are data/name. Read the
resource ptclisp://reference for the builtins and ptclisp://tools for the tools."""


def build_server(tools: Mapping[str, Any] | Any = None, *, data: Mapping[str, Any] | None = None,
                 limits: Limits | Mapping[str, Any] | None = None, name: str = "ptclisp"
                 ) -> Any:
    """An ``mcp.server.mcpserver.MCPServer`` with ``run_program`` and the two resources.

    ``tools``, ``data`` and ``limits`` are what ``ptclisp.run`` takes (checked the same way);
    ``data`` given here is merged under the ``data`` of each call.
    """
    from mcp.server.mcpserver import MCPServer

    from .._host_input import check_data, check_limits, check_tools

    tool_map = check_tools(tools) or {}
    base_data = dict(check_data(data) or {})
    run_limits = check_limits(limits) or Limits()
    server = MCPServer(name, instructions=INSTRUCTIONS)

    def run_program(program: str, data: dict[str, Any] | None = None) -> CallToolResult:
        """Run a ptclisp program against this server's tools. `data` holds its inputs
        (read as data/name). Returns status, value, printed output and any error."""
        report = _run(program, {**base_data, **(data or {})}, tool_map, run_limits)
        text = report["error"]["message"] if report["error"] else _printed(report)
        return CallToolResult(content=[TextContent(type="text", text=text)],
                              structured_content=report, is_error=report["status"] != "ok")

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
    from .._values.printer import pr_str
    from .._values.types import to_python

    result = run(program, tools=tools, data=data, limits=limits)
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
