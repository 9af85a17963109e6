"""``start`` and ``resume``: run a program that may suspend, and continue it later, anywhere.

Continuing is deterministic replay. ``resume`` adds the delivered op result to the step's journal
and runs the program again from the top with a host that answers every journaled tool call and op
start from the journal — never calling the tool again — until the program passes the point where
it suspended and goes on for real. It ends with a ``Result`` or the next ``PendingStep``.

Budgets carry over: the replayed prefix charges the meter exactly the steps and memory it charged
the first time (the meter is deterministic), so ``max_steps`` bounds the whole logical run, not
each piece; the wall clock restarts only after the replay, with the time the run had left
(``Journal.time_spent_s``), so neither waiting for an op nor replaying spends the budget.

One op per ``resume`` call; the other ops stay pending. A ``PendingStep`` object can be resumed
once (its successor continues); across processes, ``PendingStore.claim`` gives the same guarantee.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from .._compiler.context import ParallelMap
from .._errors import LimitExceeded, PtclispError, ToolError
from .._limits import CancelToken, Limits, Meter, use_meter
from .._result import Result
from .._tools.host import ToolHost, diverged
from .._tools.registry import Tool
from .._values.types import from_python
from .journal import Journal, PendingError
from .pending import PendingStep

__all__ = [
    "ParallelMap",
    "Runner",
    "check_registry",
    "fingerprints",
    "pending_step",
    "resume",
    "resume_on",
    "start",
    "start_on",
]

Tools = Mapping[str, Callable[..., Any] | Tool] | None
Runner = Callable[..., "Result | PendingStep"]
"""``runner(source, *, tools, data, limits, host) -> Result | PendingStep``: where a suspendable
run executes. ``ptclisp.run`` by default; a sandbox tier runs the program in its guest while
``host`` (the journal, the tools, the awaits) stays here."""


def start(
    source: str,
    *,
    tools: Tools = None,
    data: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    host_state: dict[str, Any] | None = None,
    cancel: CancelToken | None = None,
    parallel_map: ParallelMap | None = None,
) -> Result | PendingStep:
    """Run ``source``; a ``PendingStep`` if it awaits an op that has not finished.

    ``cancel``: a ``CancelToken`` that stops the run (code ``cancelled``) when cancelled.
    ``parallel_map`` runs ``pmap``/``pcalls`` concurrently (``runtime.parallel_map``): the
    journal records each call at its position in the program, so a resume replays the same
    results whatever order the concurrent calls completed in."""
    return start_on(None, source, tools=tools, data=data, limits=limits, host_state=host_state,
                    cancel=cancel, parallel_map=parallel_map)


def start_on(
    runner: Runner | None,
    source: str,
    *,
    tools: Tools = None,
    data: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    host_state: dict[str, Any] | None = None,
    cancel: CancelToken | None = None,
    parallel_map: ParallelMap | None = None,
) -> Result | PendingStep:
    """``start`` with the program executed by ``runner`` (a sandbox tier); same results."""
    from .._host_input import check_tools

    tools = check_tools(tools)
    host = ToolHost(tools, host_state=host_state)
    return _execute(source, tools=tools, data=data, limits=limits, host=host, cancel=cancel,
                    runner=runner, parallel_map=parallel_map)


def resume(
    pending: PendingStep,
    op_id: str,
    result: Any = None,
    *,
    tools: Tools = None,
    error: str | BaseException | Mapping[str, Any] | None = None,
    cancel: CancelToken | None = None,
    parallel_map: ParallelMap | None = None,
) -> Result | PendingStep:
    """Deliver op ``op_id``'s ``result`` (host data) — or its ``error`` — and continue the run.

    Raises ``PendingError``: ``pending_unknown_op`` (no such op in this step), ``pending_op_done``
    (its result was already delivered), ``pending_finished`` (this step object was resumed
    before: continue from what that resume returned).
    """
    return resume_on(None, pending, op_id, result, tools=tools, error=error, cancel=cancel,
                     parallel_map=parallel_map)


def resume_on(
    runner: Runner | None,
    pending: PendingStep,
    op_id: str,
    result: Any = None,
    *,
    tools: Tools = None,
    error: str | BaseException | Mapping[str, Any] | None = None,
    cancel: CancelToken | None = None,
    parallel_map: ParallelMap | None = None,
) -> Result | PendingStep:
    """``resume`` with the program executed by ``runner`` (a sandbox tier); same results."""
    if not isinstance(pending, PendingStep):
        raise PendingError(
            f"resume needs a PendingStep, got {type(pending).__name__}",
            code="pending_finished" if isinstance(pending, Result) else "pending_error",
            hint="a Result is final; only a PendingStep can be resumed",
        )
    _check_op(pending, op_id)
    from .._host_input import check_tools

    tools = check_tools(tools)
    check_registry(pending, tools)
    resumed = getattr(pending, "_resumed", None)
    if resumed is not None:
        raise PendingError(
            f"this pending step was already resumed (op {resumed!r})",
            code="pending_finished",
            hint="resume the PendingStep that call returned; a step is resumed once",
        )
    try:
        if error is None and _declares_result(pending, op_id, tools):
            _outcome(op_id, result, None, _delivery_meter(pending))  # bounded before the
            result = _checked_result(pending, op_id, result, tools)  # check walks all of it
        outcome = _outcome(op_id, result, error, _delivery_meter(pending))
    except LimitExceeded as exc:  # too large to deliver: the run ends at that limit
        pending._resumed = op_id  # type: ignore[attr-defined]
        return Result(status="error", error=exc, steps=pending.steps_spent,
                      output=pending.output)
    journal = _journal_copy(pending.journal)
    journal.add_result(op_id, outcome)
    host = ToolHost(tools, journal=journal, step_id=pending.step_id, host_state=pending.host_state)
    host.program_hash = pending.program_hash  # type: ignore[attr-defined]  # same source
    # A checkpoint skips the top-level forms that finished before the suspension; a tier's guest
    # replays from the top instead (it keeps no namespace between pieces).
    checkpoint = pending.checkpoint if runner is None else None
    if checkpoint is not None:
        host.skip_replayed(checkpoint["calls"], checkpoint["awaits"], checkpoint["cursor"])
        host.first_form = checkpoint["form"]
    pending._resumed = op_id  # type: ignore[attr-defined]
    return _execute(
        pending.source, tools=tools, data=pending.data, limits=pending.limits, host=host,
        checkpoint=checkpoint, cancel=cancel, runner=runner, parallel_map=parallel_map,
    )


def pending_step(
    source: str,
    *,
    data: Mapping[str, Any] | None,
    limits: Limits,
    host: ToolHost,
    steps: int,
    output: str,
    checkpoint: dict[str, Any] | None = None,
) -> PendingStep:
    """The ``PendingStep`` of a run that just raised ``Suspend`` (called by ``_run``)."""
    kwargs: dict[str, Any] = {}
    if host.step_id is not None:
        kwargs["step_id"] = host.step_id
    kwargs["tools"] = fingerprints(host)
    known = getattr(host, "program_hash", None)  # a resume's: the hash of this same source
    if known:
        kwargs["program_hash"] = known
    return PendingStep(
        source=source,
        data={name: from_python(v) for name, v in (data or {}).items()},
        limits=limits,
        journal=host.journal,
        awaiting=host.awaiting,
        output=output,
        steps_spent=steps,
        host_state=host.host_state,
        checkpoint=checkpoint,
        **kwargs,
    )


def _execute(
    source: str,
    *,
    tools: Tools,
    data: Mapping[str, Any] | None,
    limits: Limits | None,
    host: ToolHost,
    checkpoint: dict[str, Any] | None = None,
    cancel: CancelToken | None = None,
    runner: Runner | None = None,
    parallel_map: ParallelMap | None = None,
) -> Result | PendingStep:
    from .._run import run_loaded

    if runner is None:
        outcome = run_loaded(source, None, tools=tools, data=data, limits=limits, host=host,
                             checkpoint=checkpoint, cancel=cancel, parallel_map=parallel_map)
    else:
        outcome = runner(source, tools=tools, data=data, limits=limits, host=host, cancel=cancel)
    if isinstance(outcome, Result) and host.replaying and not _cancelled(outcome) and \
            not _damaged(outcome):
        # the replay ended before reaching the await it suspended at
        outcome.status, outcome.value = "error", None
        outcome.error = diverged("the replay ended before reaching the await it suspended at")
    if isinstance(outcome, Result) and host.damaged is not None:  # the cause of any error
        outcome.status, outcome.value, outcome.error = "error", None, host.damaged
    return outcome


def fingerprints(host: ToolHost) -> dict[str, str]:
    """``{name: fingerprint}`` of every tool the run's journal used (``"callable"`` for a plain
    function, which declares nothing)."""
    prints = {}
    for name in host.journal.tool_names():
        tool = host.tools.get(name)
        if tool is not None:
            prints[name] = tool.fingerprint if isinstance(tool, Tool) else "callable"
    return prints


def check_registry(pending: PendingStep, tools: Tools) -> None:
    """Refuse to resume with a tool missing or changed incompatibly (``pending_registry_mismatch``).

    Adding tools is fine. A changed tool is compatible when it is still sync or async as before,
    declares the same output and result types, and accepts every argument map the journal holds
    for it (a new optional parameter, say)."""
    tools = tools or {}
    for name, recorded in pending.tools.items():
        tool = tools.get(name)
        if tool is None:
            raise _mismatch(f"tool {name} is used by this pending step but is missing",
                            f"resume with the tools the run started with (tool/{name}: "
                            f"{recorded})")
        now = tool.fingerprint if isinstance(tool, Tool) else "callable"
        if now != recorded and not _compatible(pending, name, tool, recorded):
            raise _mismatch(f"tool {name} changed incompatibly since the run started: "
                            f"{recorded} -> {now}",
                            f"restore tool/{name} {recorded}, or start the run again")


def _compatible(pending: PendingStep, name: str, tool: Callable[..., Any] | Tool,
                recorded: str) -> bool:
    if not isinstance(tool, Tool) or recorded == "callable":
        return False

    def tail(fingerprint: str) -> str:
        return fingerprint.split(") -> ", 1)[-1]
    if tail(tool.fingerprint) != tail(recorded):  # output, async-ness, result type
        return False
    for call in pending.journal.calls:
        if call["tool"] == name:
            try:
                tool.validate(call["args"])
            except PtclispError:
                return False
    return True


def _mismatch(message: str, hint: str) -> PendingError:
    return PendingError(message, code="pending_registry_mismatch", hint=hint)


def _checked_result(pending: PendingStep, op_id: str, result: Any, tools: Tools) -> Any:
    """An op result against its async tool's declared ``result`` type (the op stays pending)."""
    name = _started_tool(pending, op_id)
    tool = (tools or {}).get(name)
    if not isinstance(tool, Tool):
        return result
    try:
        return tool.check_result(result)
    except PtclispError as exc:
        raise PendingError(
            f"the result for op {op_id!r} (tool/{name}) does not match its declared result "
            f"type: {exc.message.replace('the return value', 'the result', 1)}",
            code="pending_invalid_result",
            hint=f"deliver a result of type {tool.result}; the op is still pending",
        ) from None


def _damaged(result: Result) -> bool:
    """The run ended because the step's bytes are damaged (a packed journal head, a value):
    that, not a divergence it caused, is what the caller must see."""
    return result.error is not None and result.error.code == "pending_corrupt"


def _cancelled(result: Result) -> bool:
    return result.error is not None and result.error.code == "cancelled"


def _check_op(pending: PendingStep, op_id: str) -> None:
    if not pending.journal.is_started(op_id):
        known = ", ".join(sorted(pending.pending_ops)) or "none"
        raise PendingError(
            f"op {op_id!r} is not an operation of this pending step",
            code="pending_unknown_op",
            hint=f"pending ops: {known}",
        )
    if pending.journal.has_result(op_id):
        raise PendingError(
            f"op {op_id!r} already has its result",
            code="pending_op_done",
            hint="each op result is delivered once",
        )


def _declares_result(pending: PendingStep, op_id: str, tools: Tools) -> bool:
    """Whether the op's tool declares a ``result`` type (delivered results are checked)."""
    tool = (tools or {}).get(_started_tool(pending, op_id))
    return isinstance(tool, Tool) and tool.result is not None


def _started_tool(pending: PendingStep, op_id: str) -> str:
    started = pending.journal.started_op(op_id)
    assert started is not None  # _check_op passed
    return str(started["tool"])


def _delivery_meter(pending: PendingStep) -> Meter:
    """The budget an op result is converted under when it is delivered: the run's steps and
    clock left, its whole memory limit (converting is charged as a tool result is)."""
    limits = pending.limits
    meter = Meter(limits, steps_spent=min(pending.steps_spent, limits.max_steps))
    remaining = limits.timeout_s - pending.journal.time_spent_s
    meter.deadline = time.monotonic() + max(remaining, 0.0)
    return meter


def _outcome(op_id: str, result: Any, error: Any, meter: Meter | None = None) -> dict[str, Any]:
    if error is None:
        try:
            if meter is None:
                return {"value": from_python(result)}
            steps, memory = meter.steps, meter.memory
            with use_meter(meter):
                value = from_python(result, meter)
            cost = (meter.steps - steps, meter.memory - memory)
            return {"value": value, "cost": cost} if any(cost) else {"value": value}
        except TypeError as exc:
            raise PendingError(
                f"the result of op {op_id!r} is not JSON-like data: {exc}",
                code="pending_error",
            ) from None
        except RecursionError:
            raise PendingError(
                f"the result of op {op_id!r} is nested too deeply or refers to itself",
                code="pending_error",
                hint="deliver plain JSON-like data, a few hundred levels deep at most",
            ) from None
    if isinstance(error, PtclispError):
        return {"error": error.to_dict()}
    if isinstance(error, Mapping):
        message = str(error.get("message", "operation failed"))
        code = str(error.get("code", "tool_error"))
        return {"error": ToolError(message, code=code, hint=error.get("hint")).to_dict()}
    message = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    return {"error": ToolError(f"operation {op_id} failed: {message}").to_dict()}


def _journal_copy(journal: Journal) -> Journal:
    """The successor's journal (``Journal.successor``: the same entries in new lists); the
    resumed step keeps its own."""
    return journal.successor()
