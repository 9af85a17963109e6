"""The MCP client: the tools of an MCP server as ``ptclisp.Tool``s.

    with MCPTools(stdio("python", ["weather_server.py"])) as weather:
        ptclisp.run('(tool/forecast {:city "Oslo"})', tools=weather.registry())

    with MCPTools("http://127.0.0.1:8000/mcp", prefix="docs-") as docs: ...

Programs call tools synchronously, while the SDK's session is async: ``MCPTools`` runs a private
event loop in a daemon thread that holds the session open, and each tool call is a coroutine run
on it (``timeout_s`` each). One ``MCPTools`` may serve many runs and threads at once.

Results: ``structuredContent`` is the value (a ``{"result": v}`` the SDK wrapped around a non-object
return — its output schema declaring only ``result`` — is unwrapped to ``v``); otherwise the text
content (blocks joined by newlines; other blocks as their JSON objects); ``isError`` raises
``ToolError`` (``tool_error``) with the server's text.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from .._errors import HostInputError, ToolError
from .._tools.registry import Tool, ToolRegistry
from .._tools.signature import Signature
from ._taskclient import TaskTable, client_extension

__all__ = ["MCPTools", "stdio"]


def stdio(command: str, args: Sequence[str] = (), *, env: dict[str, str] | None = None,
          cwd: str | None = None) -> Any:
    """Parameters to start an MCP server as a subprocess talking over its stdin/stdout."""
    from mcp import StdioServerParameters

    return StdioServerParameters(command=command, args=list(args), env=env, cwd=cwd)


class MCPTools:
    """A connection to one MCP server and its tools (``tools``, ``registry()``)."""

    def __init__(self, server: Any, *, prefix: str = "", timeout_s: float = 60.0,
                 async_tools: Iterable[str] | None = None, max_result_bytes: int = 8 << 20,
                 max_poll_s: float = 30.0, max_poll_failures: int = 5,
                 mode: str = "auto") -> None:
        """``server``: a streamable-HTTP URL, ``stdio(...)`` parameters, or anything the SDK's
        ``mcp.Client`` accepts. ``prefix`` is put before every tool name.

        MCP Tasks: a tool the server declares task-capable (``execution.taskSupport``
        ``optional``/``required``) becomes an async tool whose call starts a task and gives the
        program an op to ``await`` (``TaskWatcher`` delivers the outcome); ``async_tools``, a
        list of server tool names, says exactly which tools are async instead.
        ``max_result_bytes`` bounds a task's result; ``max_poll_s`` the wait between two
        ``tasks/get`` whatever the server suggests; ``max_poll_failures`` how many polls in a
        row may get no answer (a broken connection, a timeout) before the op fails.
        ``mode``: the SDK's protocol negotiation (``"auto"``, ``"legacy"`` for the 2025-11-25
        handshake, or a protocol version)."""
        if not isinstance(prefix, str):
            raise HostInputError(f"prefix: expected a string, got {type(prefix).__name__}")
        if async_tools is not None and (isinstance(async_tools, str) or not all(
                isinstance(n, str) for n in async_tools)):
            raise HostInputError("async_tools: expected a list of tool names (strings) or None")
        if not isinstance(mode, str):
            raise HostInputError(f"mode: expected a string, got {type(mode).__name__}")
        for name, value in (("timeout_s", timeout_s), ("max_poll_s", max_poll_s),
                            ("max_result_bytes", max_result_bytes),
                            ("max_poll_failures", max_poll_failures)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise HostInputError(f"{name}: expected a positive number, got {value!r}")
        self.server = server
        self.mode = mode
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.async_tools = None if async_tools is None else frozenset(async_tools)
        self.max_result_bytes = max_result_bytes
        self.max_poll_s = max_poll_s
        self.max_poll_failures = max_poll_failures
        self.label = hashlib.sha256(repr(server).encode()).hexdigest()[:8]
        """Stable per server configuration: in every task op id (``mcptask-<label>-<task>``)."""
        self.tasks = TaskTable(self)
        self.tools: list[Tool] = []
        self.task_support: dict[str, str] = {}
        """The server's name of each tool -> its listing's ``execution.taskSupport``."""
        self.tool_info: dict[str, tuple[str, bool]] = {}
        """ptclisp tool name -> (the server's name, whether its result is ``{"result": v}``)."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ptclisp-mcp",
                                        daemon=True)
        self._stop: asyncio.Event | None = None
        self._holder: concurrent.futures.Future[None] | None = None
        self._client: Any = None
        self._connect()

    # ------------------------------------------------------------ lifecycle

    def _connect(self) -> None:
        self._thread.start()
        ready: concurrent.futures.Future[list[Any]] = concurrent.futures.Future()
        self._holder = asyncio.run_coroutine_threadsafe(self._hold(ready), self._loop)
        try:
            listed = ready.result(timeout=self.timeout_s)
        except BaseException:
            self.close()
            raise
        self.tools = [self._tool(t) for t in listed]

    async def _hold(self, ready: concurrent.futures.Future[list[Any]]) -> None:
        """Enter the SDK client, list the tools, then keep the session until ``close``."""
        from mcp import Client

        self._stop = asyncio.Event()
        try:
            async with Client(self.server, extensions=[client_extension(self)],
                              mode=self.mode) as client:
                self._client = client
                listed = (await client.list_tools()).tools
                ready.set_result(listed)
                await self._stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(_connect_error(self.server, exc))
            else:
                raise
        finally:
            self._client = None

    def close(self) -> None:
        """End the session (a stdio server process exits) and the loop thread."""
        if self._stop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._holder is not None:
            with contextlib.suppress(BaseException):  # closing: nothing left to report
                self._holder.result(timeout=self.timeout_s)
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=self.timeout_s)
        if not self._loop.is_running() and not self._loop.is_closed():
            self._loop.close()

    def __enter__(self) -> MCPTools:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def registry(self) -> ToolRegistry:
        """The tools as a ``ToolRegistry`` (pass it as ``tools=``)."""
        return ToolRegistry(self.tools)

    # ------------------------------------------------------------ tools

    def _tool(self, listed: Any) -> Tool:
        remote = listed.name
        signature = Signature.from_json_schema(listed.input_schema or {"type": "object"},
                                               _unwrapped_schema(listed.output_schema))
        wrapped = _wraps_result(listed.output_schema)
        self.tool_info[self.prefix + remote] = (remote, wrapped)

        def call(**args: Any) -> Any:
            return self.call(remote, args, unwrap=wrapped)

        if self._task_capable(listed):
            def begin(**args: Any) -> str:
                return self.tasks.start(remote, args, unwrap=wrapped)

            return Tool(self.prefix + remote, begin, description=listed.description or "",
                        signature=signature, is_async=True)
        return Tool(self.prefix + remote, call, description=listed.description or "",
                    signature=signature)

    def _task_capable(self, listed: Any) -> bool:
        execution = getattr(listed, "execution", None)
        support = getattr(execution, "task_support", None)
        if isinstance(support, str):
            self.task_support[listed.name] = support
        if self.async_tools is not None:
            return listed.name in self.async_tools
        return support in ("optional", "required")

    def legacy_tasks(self, remote: str) -> bool:
        """Is a call of ``remote`` task-augmented the 2025-11-25 way (``params.task``)? On a
        connection of that revision, when the server has ``tasks.requests.tools.call`` and the
        tool's ``execution.taskSupport`` is ``optional`` or ``required``."""
        from mcp_types.version import MODERN_PROTOCOL_VERSIONS

        session = self.session
        if session.protocol_version in MODERN_PROTOCOL_VERSIONS:
            return False
        tasks = getattr(session.server_capabilities, "tasks", None)
        requests = getattr(tasks, "requests", None)
        tools = getattr(requests, "tools", None)
        return getattr(tools, "call", None) is not None and \
            self.task_support.get(remote) in ("optional", "required")

    def run_coroutine(self, coroutine: Any, timeout: float | None = None, *,
                      forever: bool = False) -> Any:
        """Run a coroutine on the session's loop and wait for it (``timeout`` seconds, by
        default ``timeout_s``; ``forever``: no limit)."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            while forever:  # in slices: a closed connection must not leave us waiting
                with contextlib.suppress(concurrent.futures.TimeoutError):
                    return future.result(timeout=1.0)
                if not self._loop.is_running():
                    future.cancel()
                    raise ToolError("the MCP connection is closed",
                                    hint="the host closed MCPTools while waiting for a task")
            return future.result(timeout=self.timeout_s if timeout is None else timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    @property
    def connected(self) -> bool:
        """Is the session open (the server reachable as far as we know)?"""
        return self._client is not None and self._loop.is_running()

    @property
    def session(self) -> Any:
        client = self._client
        if client is None:
            raise ToolError("the MCP connection is closed",
                            hint="the MCP server went away, or the host closed MCPTools")
        return client.session

    def call(self, name: str, args: dict[str, Any], *, unwrap: bool = False) -> Any:
        """Call the server's tool ``name`` (its own name, without ``prefix``)."""
        client = self._client
        if client is None:
            raise ToolError(f"the MCP connection for tool {name!r} is closed",
                            hint="the host closed MCPTools before the run ended")
        future = asyncio.run_coroutine_threadsafe(client.call_tool(name, args), self._loop)
        try:
            result = future.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ToolError(f"MCP tool {name!r} did not answer within {self.timeout_s}s",
                            hint="try again later or with less work") from None
        except ToolError:  # a task the call polled ended badly: its own message
            raise
        except Exception as exc:
            raise ToolError(f"MCP tool {name!r} failed: {type(exc).__name__}: {exc}",
                            hint="the MCP server could not run the tool") from None
        return value_of(name, result, unwrap)


def value_of(name: str, result: Any, unwrap: bool) -> Any:
    if result.is_error:
        raise ToolError(f"MCP tool {name!r} reported an error: {_text(result.content)}",
                        hint="read the message; fix the arguments or handle the failure")
    structured = result.structured_content
    if structured is not None:
        if unwrap and isinstance(structured, dict) and set(structured) == {"result"}:
            return structured["result"]
        return structured
    blocks = list(result.content or ())
    if all(getattr(b, "type", None) == "text" for b in blocks):
        return _text(blocks)
    return [b.text if getattr(b, "type", None) == "text" else b.model_dump(mode="json")
            for b in blocks]


def _text(blocks: Any) -> str:
    return "\n".join(getattr(b, "text", "") for b in blocks or ())


def _wraps_result(schema: Any) -> bool:
    return (isinstance(schema, dict) and schema.get("type") == "object"
            and set(schema.get("properties") or {}) == {"result"})


def _unwrapped_schema(schema: Any) -> Any:
    if _wraps_result(schema):
        return schema["properties"]["result"]
    return schema


def _connect_error(server: Any, exc: BaseException) -> BaseException:
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return exc
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return ToolError(f"cannot connect to the MCP server {server!r}: {type(exc).__name__}: {exc}",
                     code="tool_error", hint="check the command or URL of the MCP server")
