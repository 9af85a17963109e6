"""The host side of the tool bridge, shared by the process and wasm tiers.

The host builds a plain-data request, answers the guest's tool calls by running the real tool
(host objects never cross), and the caller rebuilds the ``Result`` from the guest's answer
(``ToolBridge.outcome``: the records of the calls answered here are the host's own).

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
from ptclisp.host import Meter, ToolHost, charge_host_data, encode_value, use_meter

from ._wire import msgpack_exact

__all__ = ["AWAIT", "JournalBridge", "ToolBridge", "ToolMap", "build_request", "fit",
           "journal_outcome", "oversized"]

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
    journal: bool = False,
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
        "journal": journal,
    }
    if data is not None:
        if exact(dict(data)):
            request["data"] = dict(data)
        else:  # sets, pydantic models, big ints...: carry ptclisp values exactly, tagged.
            request["data"] = {k: encode_value(from_python(v)) for k, v in data.items()}
            request["data_codec"] = True
    return request


def oversized(data: Mapping[str, Any] | None, limits: ptclisp.Limits | None
              ) -> ptclisp.Result | None:
    """The error ``Result`` of a run whose ``data`` does not fit its budget — converting it in
    the guest would end with ``step_limit``, ``memory_limit`` or ``timeout`` — else None.
    Checked before the data is serialized, which would expand every shared part in full."""
    if not data:
        return None
    meter = Meter(limits if limits is not None else ptclisp.Limits())
    try:
        with use_meter(meter):
            for value in data.values():
                charge_host_data(value, meter)
    except LimitExceeded as exc:
        return ptclisp.Result(status="error", error=exc, steps=meter.steps, memory=meter.memory)
    except RecursionError:  # as converting it in process reports it
        error = ptclisp.EvalError(
            "data: nested too deeply or refers to itself", code="invalid_args",
            hint="host data must be JSON-like: dict, list, str, numbers, bool, None")
        return ptclisp.Result(status="error", error=error)
    return None


def fit(answer: dict[str, Any], encode: Callable[[dict[str, Any]], Any],
        limits: ptclisp.Limits) -> Any:
    """``encode(answer)``, or — when the encoded answer is larger than the run's memory limit
    (a tool's 100 MB string, which the run in process holds without copying, but the guest
    would have to receive and could not) — the encoded ``memory_limit`` answer, terminal for
    the run: the guest's memory is capped near its limit, and the answer must never kill it."""
    try:
        encoded = encode(answer)
    except ValueError:  # larger than a frame
        encoded = None
    if encoded is not None and len(encoded) <= limits.max_memory:
        return encoded
    error = LimitExceeded(
        f"memory limit of {limits.max_memory} bytes exceeded: a tool's answer is too large "
        "to hand to the sandboxed run", code="memory_limit",
        hint="ask the tool for less data at once (filter, page or summarise on the host)")
    return encode({"ok": False, "error": error.to_dict()})


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
        self.limits = limits if limits is not None else ptclisp.Limits()
        # Tools see this run's deadline exactly as in process (async tools wait at most that).
        self._meter = Meter(limits if limits is not None else ptclisp.Limits())
        self.calls: list[tuple[dict[str, Any], Any]] = []
        """Each call answered, in order: its arguments and the tool's raw result (or None) —
        the records' data, which the guest does not send back (``outcome``)."""

    def outcome(self, answer: dict[str, Any]) -> ptclisp.Result:
        """The guest's ``Result.to_dict()`` → the ``Result``, the records of the calls answered
        here (``"host_calls"``, in order) completed with their arguments and result: as a run
        in process records them (the host's own result object), and never copied per call."""
        result = ptclisp.Result.from_dict(answer)
        records, calls = result.tool_calls, self.calls
        for k, i in enumerate(answer.get("host_calls") or ()):
            if k < len(calls) and type(i) is int and 0 <= i < len(records):
                record = records[i]
                record.args, raw = calls[k]
                if record.error is None:
                    record.result = raw
        return result

    def answer(self, name: str, args: Any) -> dict[str, Any]:
        args = args if isinstance(args, dict) else {}
        reply, raw = self._answer(name, args)
        self.calls.append((args, raw))
        return reply

    def _answer(self, name: str, args: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """The answer to the guest, and the tool's raw result when it succeeded (else None)."""
        tool = self._tools.get(name)
        if isinstance(tool, Tool) and tool.is_async:
            return _failure(ToolError(
                f"tool {name} is a long-running operation (is_async), which the sandbox tiers "
                "cannot suspend on",
                hint="run programs that await operations with ptclisp.start/resume in process",
            )), None  # fmt: skip
        try:
            with use_meter(self._meter):
                entry = self._host._execute(name, args)
        except LimitExceeded as exc:  # the run's deadline passed during or before the call
            return {"ok": False, "error": exc.to_dict()}, None
        except Exception as exc:  # a fault of the host side: still an answer, never a trap
            return _failure(ToolError(f"tool {name} failed: {type(exc).__name__}: {exc}")), None
        except BaseException as exc:  # SystemExit...: the run's internal_error, as in process
            if isinstance(exc, KeyboardInterrupt):
                raise
            error = ptclisp.InternalError(
                f"{type(exc).__name__}: {exc}",
                hint="this is a ptclisp bug; try another way to compute the value")
            return {"ok": False, "error": error.to_dict()}, None
        if entry["error"] is not None:
            return {"ok": False, "error": entry["error"]}, None
        raw = entry.get("raw")
        if self._exact(raw):
            return {"ok": True, "value": raw}, raw
        try:  # sets, big integers, pydantic models: carry the ptclisp value exactly, tagged;
            # the guest charges what converting it cost here (it does not convert it again)
            return {"ok": True, "value": encode_value(entry["value"]), "codec": True,
                    "cost": list(entry.get("cost") or (0, 0))}, raw
        except Exception as exc:
            return _failure(ToolError(
                f"tool {name} returned data ptclisp cannot hold: {exc}",
                hint="the tool must return JSON-like data (a host-side bug)",
            )), None  # fmt: skip


AWAIT = "\x00await"
"""The pseudo-tool an ``await`` form crosses as. No program can call it: a tool name comes from a
symbol, which never holds a NUL."""


class JournalBridge:
    """Answers a suspendable run's tool calls *and awaits* on the host, through the run's own
    ``ToolHost`` — the journal, its replay and the op results never leave the host; the guest
    only runs the program. Never raises: every outcome is plain data.

    Answers (besides ``ToolBridge``'s ``{"ok": false, "error"}``): ``{"ok": true, "value":
    <encode_value>, "codec": true}`` for a value or an op handle; for an await also
    ``"remaining_s"`` (the run's time left, which a resumed run's host resets after the replay);
    ``{"ok": false, "suspend": [op_id, ...]}`` when the await must suspend the run.
    """

    def __init__(self, host: ToolHost, limits: ptclisp.Limits | None,
                 cancel: ptclisp.CancelToken | None = None) -> None:
        self.host = host
        self.limits = limits if limits is not None else ptclisp.Limits()
        self.meter = Meter(self.limits)
        self.meter.cancel = cancel  # checked at each call and await (not here: see cancelled)

    def answer(self, name: str, args: Any) -> dict[str, Any]:
        import time

        from ptclisp import PtclispError
        from ptclisp.host import Suspend, decode_value

        # What the call charged here — its arguments, converting its result (or, replayed,
        # what that cost the first run), an awaited op's result — goes back as "cost": the guest
        # charges it to the run, so every tier counts the steps and memory the run in process
        # counts.
        meter = self.meter
        steps, memory = meter.steps, meter.memory
        try:
            if not isinstance(args, dict) or not isinstance(args.get("at"), str):
                raise ToolError("malformed request from the guest: no position")
            self.host.place(args["at"])
            with use_meter(meter):
                if meter.cancel is not None:
                    meter.cancel.check()
                if name == AWAIT:
                    value = self._await(args)
                    return {"ok": True, "value": encode_value(value), "codec": True,
                            "remaining_s": meter.deadline - time.monotonic(),
                            "cost": [meter.steps - steps, meter.memory - memory]}
                value = self.host.call(name, decode_value(args.get("args")))
                return {"ok": True, "value": encode_value(value), "codec": True,
                        "cost": [meter.steps - steps, meter.memory - memory]}
        except Suspend as suspend:
            return {"ok": False, "suspend": list(suspend.op_ids)}
        except PtclispError as exc:
            return {"ok": False, "error": exc.to_dict(),
                    "cost": [meter.steps - steps, meter.memory - memory]}
        except ValueError as exc:  # a malformed position
            return _failure(ToolError(f"malformed request from the guest: {exc}"))
        except Exception as exc:  # a fault of the host side: still an answer, never a trap
            return _failure(ToolError(f"tool {name} failed: {type(exc).__name__}: {exc}"))

    def _await(self, args: Any) -> Any:
        from ptclisp.host import decode_value

        if not isinstance(args, dict) or args.get("mode") not in ("one", "all", "any"):
            raise ToolError("malformed await request from the guest")
        values = decode_value(args.get("values"))
        mode = args["mode"]
        if mode == "one":
            return self.host.await_(values)
        if mode == "all":
            return self.host.await_all(values)
        return self.host.await_any(values)


def cancelled(cancel: ptclisp.CancelToken | None) -> ptclisp.Result | None:
    """The error ``Result`` of a run whose token was cancelled before it started, else None."""
    if cancel is None or not cancel.cancelled:
        return None
    try:
        cancel.check()
    except ptclisp.PtclispError as exc:
        return ptclisp.Result(status="error", error=exc)
    return None


def journal_outcome(
    answer: dict[str, Any] | ptclisp.Result,
    source: str,
    data: Mapping[str, Any] | None,
    limits: ptclisp.Limits | None,
    host: ToolHost,
) -> ptclisp.Result | ptclisp.PendingStep:
    """The guest's answer to a journal run → the ``Result`` (its tool calls as the host's
    ``ToolHost`` recorded them) or, when the host suspended it, the ``PendingStep``."""
    from ptclisp.host import pending_step

    from ._errors import SandboxCrash

    if isinstance(answer, ptclisp.Result):
        result = answer
    elif answer.get("status") != "pending":
        result = ptclisp.Result.from_dict(answer)
    elif host.awaiting:
        return pending_step(source, data=data, limits=limits or ptclisp.Limits(), host=host,
                            steps=int(answer.get("steps", 0)), output=str(answer.get("output", "")))
    else:
        crash = SandboxCrash("the guest reported a suspension the host never made",
                             hint="the interpreter misbehaved; retry the run")
        result = ptclisp.Result(status="error", error=crash)
    result.tool_calls = list(host.calls)
    return result
