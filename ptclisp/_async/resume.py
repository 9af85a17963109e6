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

from collections.abc import Callable, Mapping
from typing import Any

from .._errors import PtclispError, ToolError
from .._limits import CancelToken, Limits
from .._result import Result
from .._tools.host import ToolHost, diverged
from .._tools.registry import Tool
from .._values.types import from_python
from .journal import Journal, PendingError
from .pending import PendingStep

__all__ = ["pending_step", "resume", "start"]

Tools = Mapping[str, Callable[..., Any] | Tool] | None


def start(
    source: str,
    *,
    tools: Tools = None,
    data: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    host_state: dict[str, Any] | None = None,
    cancel: CancelToken | None = None,
) -> Result | PendingStep:
    """Run ``source``; a ``PendingStep`` if it awaits an op that has not finished.

    ``cancel``: a ``CancelToken`` that stops the run (code ``cancelled``) when cancelled."""
    from .._host_input import check_tools

    tools = check_tools(tools)
    host = ToolHost(tools, host_state=host_state)
    return _execute(source, tools=tools, data=data, limits=limits, host=host, cancel=cancel)


def resume(
    pending: PendingStep,
    op_id: str,
    result: Any = None,
    *,
    tools: Tools = None,
    error: str | BaseException | Mapping[str, Any] | None = None,
    cancel: CancelToken | None = None,
) -> Result | PendingStep:
    """Deliver op ``op_id``'s ``result`` (host data) — or its ``error`` — and continue the run.

    Raises ``PendingError``: ``pending_unknown_op`` (no such op in this step), ``pending_op_done``
    (its result was already delivered), ``pending_finished`` (this step object was resumed
    before: continue from what that resume returned).
    """
    if not isinstance(pending, PendingStep):
        raise PendingError(
            f"resume needs a PendingStep, got {type(pending).__name__}",
            code="pending_finished" if isinstance(pending, Result) else "pending_error",
            hint="a Result is final; only a PendingStep can be resumed",
        )
    _check_op(pending, op_id)
    resumed = getattr(pending, "_resumed", None)
    if resumed is not None:
        raise PendingError(
            f"this pending step was already resumed (op {resumed!r})",
            code="pending_finished",
            hint="resume the PendingStep that call returned; a step is resumed once",
        )
    from .._host_input import check_tools

    tools = check_tools(tools)
    journal = _journal_copy(pending.journal)
    journal.op_results[op_id] = _outcome(op_id, result, error)
    host = ToolHost(tools, journal=journal, step_id=pending.step_id, host_state=pending.host_state)
    checkpoint = pending.checkpoint
    if checkpoint is not None:  # skip the top-level forms that finished before the suspension
        host.skip_replayed(checkpoint["calls"], checkpoint["awaits"])
        host.first_form = checkpoint["form"]
    pending._resumed = op_id  # type: ignore[attr-defined]
    return _execute(
        pending.source, tools=tools, data=pending.data, limits=pending.limits, host=host,
        checkpoint=checkpoint, cancel=cancel,
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
) -> Result | PendingStep:
    from .._run import run_loaded

    outcome = run_loaded(source, None, tools=tools, data=data, limits=limits, host=host,
                         checkpoint=checkpoint, cancel=cancel)
    if isinstance(outcome, Result) and host.replaying:  # ended before reaching its await
        outcome.status, outcome.value = "error", None
        outcome.error = diverged("the replay ended before reaching the await it suspended at")
    return outcome


def _check_op(pending: PendingStep, op_id: str) -> None:
    started = pending.journal.started_ops()
    if op_id not in started:
        known = ", ".join(sorted(pending.pending_ops)) or "none"
        raise PendingError(
            f"op {op_id!r} is not an operation of this pending step",
            code="pending_unknown_op",
            hint=f"pending ops: {known}",
        )
    if op_id in pending.journal.op_results:
        raise PendingError(
            f"op {op_id!r} already has its result",
            code="pending_op_done",
            hint="each op result is delivered once",
        )


def _outcome(op_id: str, result: Any, error: Any) -> dict[str, Any]:
    if error is None:
        try:
            return {"value": from_python(result)}
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
    """The successor's journal (shallow: values are immutable); the resumed step keeps its own."""
    return Journal(
        calls=[dict(c) for c in journal.calls],
        op_results=dict(journal.op_results),
        awaits_done=journal.awaits_done,
        time_spent_s=journal.time_spent_s,
    )
