"""Checks of what the host passes to ``run``/``start``/``resume``: ``tools``, ``data``, ``limits``.

A host mistake raises ``HostInputError`` at once, naming the argument and what was expected —
it never looks like a program error or an internal bug. Friendlier forms are accepted:

- ``tools``: a mapping name → callable/``Tool``, a ``ToolRegistry``, or a list/tuple of ``Tool``s
  (each under its own name).
- ``limits``: a ``Limits`` or a dict of its fields (``{"max_steps": 10}``).
- ``data``: a mapping name → JSON-like value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._errors import HostInputError
from ._limits import Limits
from ._tools.registry import Tool, ToolRegistry

__all__ = ["check_data", "check_limits", "check_tools"]

ToolsArg = Mapping[str, Callable[..., Any] | Tool]


def check_tools(tools: Any) -> ToolsArg | None:
    """``tools`` as a mapping name → callable/``Tool`` (a list of ``Tool``s is keyed by name)."""
    if tools is None or isinstance(tools, ToolRegistry):  # a registry holds checked Tools
        return tools
    if isinstance(tools, Mapping):
        for name, fn in tools.items():
            if not isinstance(name, str):
                raise _bad("tools", f"tool names must be strings, got {name!r}")
            if not (isinstance(fn, Tool) or callable(fn)):
                raise _bad("tools", f"tools[{name!r}] must be callable or a ptclisp.Tool, "
                           f"got {type(fn).__name__}")
        return tools
    if isinstance(tools, (list, tuple)):
        by_name: dict[str, Tool] = {}
        for i, item in enumerate(tools):
            if not isinstance(item, Tool):
                raise _bad("tools", f"a list of tools must hold ptclisp.Tool objects; item {i} is "
                           f"a {type(item).__name__}",
                           hint="wrap functions with ptclisp.tool(fn), or pass a dict "
                           "name -> function")
            if item.name in by_name:
                raise _bad("tools", f"two tools are named {item.name!r}")
            by_name[item.name] = item
        return by_name
    raise _bad("tools", f"expected a dict name -> function, a ToolRegistry or a list of "
               f"ptclisp.Tool, got {type(tools).__name__}")


def check_data(data: Any) -> Mapping[str, Any] | None:
    """``data`` must be a mapping name → value (read as ``data/name``)."""
    if data is None or isinstance(data, Mapping):
        return data
    raise _bad("data", f"expected a dict name -> value (read as data/name), got "
               f"{type(data).__name__}", hint="pass data={'xs': [1, 2]} and read data/xs")


def check_limits(limits: Any) -> Limits | None:
    """``limits`` as a ``Limits`` (a dict of its fields is converted and checked)."""
    return Limits.coerce(limits)


def _bad(argument: str, message: str, *, hint: str | None = None) -> HostInputError:
    return HostInputError(f"{argument}: {message}", hint=hint)
