"""A small MCP server written with the official SDK, used by examples/mcp_client.py.

    python examples/mcp_weather_server.py              # stdio
    python examples/mcp_weather_server.py --port 8123  # streamable HTTP, 127.0.0.1:8123/mcp
"""

from __future__ import annotations

import sys
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("weather")
TEMPS = {"Oslo": [3, 5, 4], "Lisbon": [19, 21, 22], "Cairo": [30, 31, 33]}


@server.tool()
def forecast(city: str, days: int = 1) -> dict[str, Any]:
    """Daily maximum temperatures (°C) for the next days of a city."""
    if city not in TEMPS:
        raise ToolError(f"unknown city {city!r}; known: {', '.join(sorted(TEMPS))}")
    return {"city": city, "temps": TEMPS[city][:days]}


@server.tool()
def cities() -> list[str]:
    """The cities with a forecast."""
    return sorted(TEMPS)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--port":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
