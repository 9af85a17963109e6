"""MCP both ways (the ``[mcp]`` extra: the official ``mcp`` SDK, major version 2).

- Client: ``MCPTools(server)`` connects to an MCP server — a ``stdio(...)`` subprocess or a
  streamable-HTTP URL — and offers its tools as ``ptclisp.Tool``s (``.registry()``), their input
  JSON Schemas mapped to signatures, structured content to values, ``isError`` to ``tool_error``.
- Server: ``build_server(tools=...)`` / ``ptclisp mcp serve`` expose a ``run_program`` tool
  ("code mode": program + data, run against the configured tools with limits) and the language
  reference and tool docs as resources.
- MCP Tasks (the ``io.modelcontextprotocol/tasks`` extension of 2026-07-28, and the core tasks of
  2025-11-25): an async MCP tool's call starts a task and gives the program an op to ``await``;
  ``TaskWatcher`` delivers the outcome (to ``ptclisp.resume`` or an ``AgentHost``, whose inbox
  shows ``input_required``). ``TasksExtension`` serves tasks from an SDK server;
  ``build_server(tasks=True)`` makes ``run_program`` answer with a task when the program suspends.

See docs/mcp.md.
"""

try:
    import mcp as _sdk  # noqa: F401 - the official MCP SDK, the [mcp] extra
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("ptclisp.mcp needs the MCP SDK: pip install 'ptclisp[mcp]'") from exc

from ._client import MCPTools, stdio
from ._server import ProgramTasks, build_server, serve
from ._tasks import ServerTask, TaskCancelled, TaskFailed, TasksExtension
from ._watch import TaskWatcher

__all__ = ["MCPTools", "ProgramTasks", "ServerTask", "TaskCancelled", "TaskFailed", "TaskWatcher",
           "TasksExtension", "build_server", "serve", "stdio"]
