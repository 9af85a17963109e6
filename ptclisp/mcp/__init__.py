"""MCP both ways (the ``[mcp]`` extra: the official ``mcp`` SDK, major version 2).

- Client: ``MCPTools(server)`` connects to an MCP server — a ``stdio(...)`` subprocess or a
  streamable-HTTP URL — and offers its tools as ``ptclisp.Tool``s (``.registry()``), their input
  JSON Schemas mapped to signatures, structured content to values, ``isError`` to ``tool_error``.
- Server: ``build_server(tools=...)`` / ``ptclisp mcp serve`` expose a ``run_program`` tool
  ("code mode": program + data, run against the configured tools with limits) and the language
  reference and tool docs as resources.

See docs/mcp.md.
"""

from ._client import MCPTools, stdio
from ._server import build_server, serve

__all__ = ["MCPTools", "build_server", "serve", "stdio"]
