"""Tools for ``ptclisp mcp serve --tasks --registry task_registry:registry`` in the task tests:
``quote`` (sync) and ``approval`` (async: its op is answered through the MCP task)."""

from __future__ import annotations

import ptclisp


@ptclisp.tool
def quote(item: str) -> int:
    """The price of an item."""
    return len(item) * 10


@ptclisp.tool(is_async=True, result="{approved :bool}")
def approval(item: str, price: int) -> None:
    """Ask a person to approve buying an item (answered later)."""


registry = ptclisp.ToolRegistry([quote, approval])
