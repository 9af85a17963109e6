"""The host side of the tool bridge, shared by the process and wasm tiers.

The host builds a plain-data request, answers the guest's tool calls by running the real tool
(host objects never cross), and the caller rebuilds the ``Result`` from the guest's answer.

A tool call is executed on the host exactly as ``ptclisp.run`` executes it in process — by
ptclisp's own ``ToolHost``: ``Tool`` signatures are validated, ``async def`` tools awaited, and a
failure becomes the same ``ToolError`` (same code, message and hint). The guest's proxy re-raises
that error inside the guest's ``ToolHost``, which records it as in-process; a success crosses as
the tool's raw JSON-like value, which the guest's ``ToolHost`` converts as in-process (values
the wire format cannot carry as they are — sets, big integers, pydantic models — cross tagged by
``ptclisp._codec`` and arrive as the exact ptclisp value).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ptclisp
from ptclisp import LimitExceeded, Tool, ToolError, from_python
from ptclisp.host import Meter, ToolHost, encode_value, use_meter

from ._wire import msgpack_exact

__all__ = ["ToolBridge", "ToolMap", "build_request"]

ToolMap = Mapping[str, Callable[[dict], Any] | Tool]
Exact = Callable[[Any], bool]
"""Whether plain data crosses the tier's wire format unchanged (``_wire.msgpack_exact``...)."""


def build_request(
    source: str,
    tools: ToolMap | None,
    data: Mapping[str, Any] | None,
    limits: ptclisp.Limits | None,
    hooks: bool,
    exact: Exact = msgpack_exact,
) -> dict[str, Any]:
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, not {type(source).__name__}")
    request: dict[str, Any] = {
        "source": source,
        "tools": sorted(tools or ()),
        "data": None,
        "data_codec": False,
        "limits": limits.to_dict() if limits is not None else None,
        "hooks": bool(hooks),
    }
    if data is not None:
        if exact(dict(data)):
            request["data"] = dict(data)
        else:  # sets, pydantic models, big ints...: carry ptclisp values exactly, tagged.
            request["data"] = {k: encode_value(from_python(v)) for k, v in data.items()}
            request["data_codec"] = True
    return request


def _failure(error: ToolError) -> dict[str, Any]:
    return {"ok": False, "error": error.to_dict()}


class ToolBridge:
    """Answers one run's tool calls on the host. Never raises: every outcome is plain data."""

    def __init__(
        self, tools: ToolMap | None, limits: ptclisp.Limits | None, exact: Exact = msgpack_exact
    ) -> None:
        self._tools = tools or {}
        self._exact = exact
        self._host = ToolHost(self._tools)
        # Tools see this run's deadline exactly as in process (async tools wait at most that).
        self._meter = Meter(limits if limits is not None else ptclisp.Limits())

    def answer(self, name: str, args: Any) -> dict[str, Any]:
        tool = self._tools.get(name)
        if isinstance(tool, Tool) and tool.is_async:
            return _failure(ToolError(
                f"tool {name} is a long-running operation (is_async), which the sandbox tiers "
                "cannot suspend on",
                hint="run programs that await operations with ptclisp.start/resume in process",
            ))  # fmt: skip
        try:
            with use_meter(self._meter):
                entry = self._host._execute(name, args if isinstance(args, dict) else {})
        except LimitExceeded as exc:  # the run's deadline passed during or before the call
            return {"ok": False, "error": exc.to_dict()}
        except Exception as exc:  # a fault of the host side: still an answer, never a trap
            return _failure(ToolError(f"tool {name} failed: {type(exc).__name__}: {exc}"))
        if entry["error"] is not None:
            return {"ok": False, "error": entry["error"]}
        raw = entry.get("raw")
        if self._exact(raw):
            return {"ok": True, "value": raw}
        try:  # sets, big integers, pydantic models: carry the ptclisp value exactly, tagged
            return {"ok": True, "value": encode_value(from_python(raw)), "codec": True}
        except Exception as exc:
            return _failure(ToolError(
                f"tool {name} returned data ptclisp cannot hold: {exc}",
                hint="the tool must return JSON-like data (a host-side bug)",
            ))  # fmt: skip
