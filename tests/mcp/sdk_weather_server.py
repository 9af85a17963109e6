"""An MCP server written with the official SDK (MCPServer), for the client tests.

    python sdk_weather_server.py              # stdio
    python sdk_weather_server.py --port 8123  # streamable HTTP on 127.0.0.1:8123/mcp
"""

from __future__ import annotations

import sys
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("weather")


@server.tool()
def forecast(city: str, days: int = 1) -> dict[str, Any]:
    """The forecast for a city."""
    return {"city": city, "days": days, "temps": [10 + i for i in range(days)]}


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool(structured_output=False)
def shout(text: str) -> str:
    """Upper-case a text."""
    return text.upper()


@server.tool()
def explode(reason: str) -> str:
    """Always fails."""
    raise ToolError(f"exploded: {reason}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--port":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
