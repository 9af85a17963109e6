"""The guest side of every outer tier: run one request with ``ptclisp.run``, tools proxied out.

This module runs *inside* the sandbox (a pool worker process, or the wasm component), so it
imports only the stdlib and ``ptclisp`` and never touches host objects: tool calls leave through
the ``call_tool`` function the transport provides, as plain data, and the answer comes back as
plain data.

Request (plain data, msgpack-safe)::

    {"source": str, "tools": [name, ...], "data": {...} | None, "data_codec": bool,
     "limits": Limits.to_dict() | None, "hooks": bool}

Answer: ``Result.to_dict()``, the records of calls the host answered without their arguments
and result (listed by index in ``"host_calls"``; the host fills them in from its own records).

With ``"journal": true`` (``sandbox.start``/``resume``) the run may await: tool calls and the
``await`` forms go to the host (``_RemoteHost``), which keeps the journal and answers from it;
a run the host suspends answers ``{"status": "pending", "steps", "output"}`` and the host builds
the ``PendingStep``.

``hooks`` enables test-only tools that simulate interpreter bugs (die, allocate or spin outside
the meter, report the process environment). Only the host sets it, per request, through a private
argument; a program cannot: it can only call tools the host listed, and hooks are absent unless
the flag is on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import ptclisp
from ptclisp import LimitExceeded, PtclispError, error_from_dict
from ptclisp.host import OpHandle, Suspend, ToolHost, current_meter, decode_value, encode_value

__all__ = ["HOOK_TOOLS", "execute"]

CallTool = Callable[[str, dict], dict]


class _HardBreach(BaseException):
    """Unwinds a run past the interpreter when a hook hits a real OS/wasm limit."""

    def __init__(self, error: PtclispError) -> None:
        super().__init__(error.message)
        self.error = error


def _proxy(name: str, call_tool: CallTool) -> Callable[[dict], Any]:
    def tool(args: dict) -> Any:
        answer = call_tool(name, args)
        if answer["ok"]:
            if not answer.get("codec"):
                return answer["value"]  # converted (and charged) by the guest's ToolHost
            _charge(answer.get("cost"))
            return decode_value(answer["value"])
        error = error_from_dict(answer["error"])  # the ToolError the host's ToolHost produced
        if error.code == "timeout":  # the host ended the call at the run's deadline: terminal
            meter = current_meter()
            meter.deadline = min(meter.deadline, time.monotonic())
        elif error.code in _RUN_LIMITS:  # the host found the result too large for this run's
            current_meter().halt(error.code, error.message)  # budget: terminal here too
        raise error

    tool.__name__ = name
    return tool


_RUN_LIMITS = frozenset({"step_limit", "memory_limit"})


def _charge(cost: Any) -> None:
    """Charge this run what converting a value cost on the host (``[steps, bytes]``)."""
    if isinstance(cost, list) and len(cost) == 2 and any(cost):
        meter = current_meter()
        meter.tick(int(cost[0]))
        meter.alloc(int(cost[1]))

AWAIT = "\x00await"  # as sandbox._bridge.AWAIT (this module runs without the host package)


class _RemoteHost(ToolHost):
    """The guest's tool host when the host keeps the journal: every call and await goes out."""

    def __init__(self, call_tool: CallTool) -> None:
        super().__init__({})
        self._call_tool = call_tool

    def call(self, name: str, args: Any) -> Any:
        try:
            encoded = encode_value(args)
        except TypeError as exc:
            raise ptclisp.ToolError(
                f"cannot pass the arguments to tool/{name}: {exc}",
                code="invalid_args",
                hint="tool arguments must be data: maps, vectors, strings, numbers, booleans, nil",
            ) from None
        # the host charges the arguments (and the result) and sends what it charged: _value
        at = self.position()
        self._cursor().next_call()
        return self._value(self._call_tool(name, {"args": encoded, "at": at}))

    def await_(self, value: Any) -> Any:
        if type(value) is not OpHandle:
            return value
        return self._await("one", value)

    def await_all(self, values: Any) -> Any:
        return self._await("all", values)

    def await_any(self, values: Any) -> Any:
        return self._await("any", values)

    def _await(self, mode: str, values: Any) -> Any:
        try:
            encoded = encode_value(values)
        except TypeError:  # a lazy seq or a function: the host-side check names the problem
            encoded = encode_value(_plain(values))
        answer = self._call_tool(AWAIT, {"mode": mode, "values": encoded, "at": self.position()})
        if "remaining_s" in answer:  # a resumed run's clock restarts after its replay
            current_meter().deadline = _monotonic() + float(answer["remaining_s"])
        return self._value(answer)

    def _value(self, answer: dict) -> Any:
        if answer.get("suspend") is not None:
            self.awaiting = tuple(answer["suspend"])
            raise Suspend(self.awaiting)
        _charge(answer.get("cost"))  # as the run in process is charged: the same in every tier
        if answer["ok"]:
            return decode_value(answer["value"]) if answer.get("codec") else answer["value"]
        raise error_from_dict(answer["error"])


def _monotonic() -> float:
    import time

    return time.monotonic()


def _plain(values: Any) -> Any:
    realized = getattr(values, "realized", None)
    if callable(realized):
        return ptclisp.List(realized())
    return str(type(values).__name__)


class _HookState:
    def __init__(self) -> None:
        self.breach: PtclispError | None = None


def _hooks(state: _HookState) -> dict[str, Callable[[dict], Any]]:
    def crash(args: dict) -> Any:
        os._exit(int(args.get("status", 70)))

    def hog_memory(args: dict) -> Any:
        hoard = []
        try:
            for _ in range(int(args.get("mb", 1 << 20))):
                hoard.append(bytearray(1 << 20))
        except MemoryError:
            hoard.clear()
            state.breach = LimitExceeded(
                "memory limit exceeded: the sandbox refused more memory",
                code="memory_limit",
                hint="the program builds values that are too large",
            )
            raise _HardBreach(state.breach) from None
        return len(hoard)

    def spin(args: dict) -> Any:
        n = 0
        while True:
            n += 1

    def inspect(args: dict) -> Any:
        return _environment_report()

    def sleep(args: dict) -> Any:
        import time

        time.sleep(float(args.get("seconds", 3600)))

    return {
        "test-crash": crash,
        "test-hog-memory": hog_memory,
        "test-spin": spin,
        "test-inspect": inspect,
        "test-sleep": sleep,
    }


HOOK_TOOLS = ("test-crash", "test-hog-memory", "test-spin", "test-inspect", "test-sleep")


def _environment_report() -> dict[str, Any]:
    def attempt(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:  # the report says what failed
            return f"{type(exc).__name__}: {exc}"

    report: dict[str, Any] = {
        "env": dict(os.environ),
        "cwd": attempt(os.getcwd),
        "root": attempt(lambda: sorted(os.listdir("/"))),
        "fds": attempt(lambda: sorted(int(fd) for fd in os.listdir("/proc/self/fd"))),
    }
    try:
        import resource
    except ImportError:
        return report
    report["rlimits"] = {
        name: list(resource.getrlimit(getattr(resource, name)))
        for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_NOFILE", "RLIMIT_FSIZE", "RLIMIT_CORE")
    }
    return report


def _result_dict(result: ptclisp.Result, remote: frozenset[str]) -> dict[str, Any]:
    """``result.to_dict()``, but the records of calls the host answered (tools in ``remote``)
    without their arguments and result: the host recorded those as it answered (``ToolBridge``)
    and fills them in. Sending them back would copy, per call, what a run in process shares —
    a 100 KB string passed to 300 calls would cross as 30 MB (issue 11, calls that repeat)."""
    calls, result.tool_calls = result.tool_calls, []
    try:
        answer = result.to_dict()
    finally:
        result.tool_calls = calls
    records: list[dict[str, Any]] = []
    answered: list[int] = []
    for i, call in enumerate(calls):
        if call.name in remote:
            answered.append(i)
            records.append({"name": call.name, "args": None, "result": None,
                            "error": call.error, "duration_s": call.duration_s,
                            "op_id": call.op_id})
        else:
            records.append(call.to_dict())
    answer["tool_calls"] = records
    if answered:
        answer["host_calls"] = answered
    return answer


def _error_result(error: PtclispError) -> dict[str, Any]:
    return ptclisp.Result(status="error", error=error).to_dict()


def execute(request: dict[str, Any], call_tool: CallTool) -> dict[str, Any]:
    """Run one request; always returns ``Result.to_dict()`` (errors included)."""
    journal = bool(request.get("journal"))
    tools = {name: _proxy(name, call_tool) for name in request.get("tools") or ()}
    state = _HookState()
    remote = frozenset(tools)  # answered by the host, which records them (_result_dict)
    if request.get("hooks") and not journal:
        tools.update(_hooks(state))
        remote -= frozenset(HOOK_TOOLS)
    data = request.get("data")
    if data is not None and request.get("data_codec"):
        data = {name: decode_value(value) for name, value in data.items()}
    limits = request.get("limits")
    try:
        # Tools here are proxies to the host, which bounds the real call by the deadline; a
        # proxy abandoned on a thread would leave its answer in the channel: call inline.
        result = ptclisp.run(
            request["source"],
            tools=tools,
            data=data,
            limits=ptclisp.Limits.from_dict(limits) if limits is not None else None,
            host=_RemoteHost(call_tool) if journal else ToolHost(tools, tool_threads=False),
        )
        if isinstance(result, ptclisp.PendingStep):
            return {"status": "pending", "steps": result.steps_spent, "output": result.output}
    except _HardBreach as breach:
        return _error_result(breach.error)
    except MemoryError:
        return _error_result(
            LimitExceeded("memory limit exceeded: out of memory", code="memory_limit")
        )
    if state.breach is not None:  # the interpreter swallowed the hook's unwinding
        return _error_result(state.breach)
    try:
        return _result_dict(result, remote)
    except PtclispError as exc:  # e.g. output_limit: a result nested too deeply to send
        return _error_result(exc)
    except MemoryError:
        return _error_result(
            LimitExceeded("memory limit exceeded: result too large", code="memory_limit")
        )
