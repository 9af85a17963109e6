"""MCP both ways (the ``[mcp]`` extra: the official ``mcp`` SDK, major version 2).

- Client: ``MCPTools(server)`` connects to an MCP server — a ``stdio(...)`` subprocess or a
  streamable-HTTP URL — and offers its tools as ``ptclisp.Tool``s (``.registry()``), their input
  JSON Schemas mapped to signatures, structured content to values, ``isError`` to ``tool_error``.
- Server: ``build_server(tools=...)`` / ``ptclisp mcp serve`` expose a ``run_program`` tool
  ("code mode": program + data, run against the configured tools with limits) and the language
  reference and tool docs as resources.

See docs/mcp.md.
"""

try:
    import mcp as _sdk  # noqa: F401 - the official MCP SDK, the [mcp] extra
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("ptclisp.mcp needs the MCP SDK: pip install 'ptclisp[mcp]'") from exc

from ._client import MCPTools, stdio
from ._server import build_server, serve

__all__ = ["MCPTools", "build_server", "serve", "stdio"]
