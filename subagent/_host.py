"""``AgentHost``: owns agent runs in a durable store — submit, deliver, recover, cancel.

    host = AgentHost({"approval": agent}, llm=llm, store="sqlite:///ptclisp.db")
    run_id = host.submit("approval", {"expense_id": 42})
    [op] = host.inbox()                          # the run waits for a human
    host.deliver(op.op_id, {"approved": True, "by": "Ada"})
    host.wait(run_id)["status"]                  # "ok"

Guarantees (see docs/service.md):

- A run is recorded before it starts; a crash at any point is recovered by ``recover()`` (run at
  start-up and by the sweeper of ``start()``), which drives every unfinished run to completion.
- One worker drives a run at a time: it holds a *lease* (renewed while it works); an expired
  lease is taken over by another worker or process.
- Every completed tool call and LLM reply is checkpointed before the run goes on; recovery
  answers them from the store and never repeats them. A call in flight at a crash may run again,
  with the same idempotency key (``subagent.idempotency_key()``: ``"<run_id>:<index>"``).
- The first delivered outcome of an op wins; duplicates get the first outcome back.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any, Self

from ptclisp import (
    PtclispError,
    SignatureMismatch,
    deserialize,
    parse_signature,
    preview,
    serialize,
)
from ptclisp.runtime import supervised_call

from ._agent import SubAgent
from ._backend import HostBackend
from ._effects import EffectLog
from ._errors import SubAgentError
from ._gate import Hooks
from ._hoststore import FINAL, HostStore, HostStoreError, OpRecord, open_store
from ._loop import external_ops
from ._ptc import PendingStep, Tool
from ._step import Step
from ._telemetry import Telemetry

__all__ = ["AgentHost", "HostError"]

log = logging.getLogger("ptclisp.host")


class HostError(SubAgentError):
    """Bad input to an ``AgentHost``: ``unknown_agent``, ``invalid_input``,
    ``pending_invalid_result`` (a delivery that does not match the op's result type; the op stays
    pending), ``invalid_delivery``."""

    code = "host_error"


class AgentHost:
    """Agents by name, their LLM and tools, and a durable store of their runs."""

    def __init__(
        self,
        agents: Mapping[str, SubAgent] | list[SubAgent],
        *,
        llm: Any = None,
        store: HostStore | str = "sqlite:///ptclisp.db",
        tools: Any = None,
        deadlines: Mapping[str, float] | None = None,
        lease_s: float = 30.0,
        workers: int = 8,
        key: bytes | None = None,
        backend: HostBackend | None = None,
    ) -> None:
        self.agents = _agents_by_name(agents, tools)
        self.llm = llm
        self._store_arg = store
        self._store: HostStore | None = store if not isinstance(store, str) else None
        self.deadlines = dict(deadlines or {})
        """Seconds an op of a tool may stay pending (by tool name; else ``tool.deadline_s``)."""
        self.lease_s = lease_s
        self.key = key
        self.owner = f"{uuid.uuid4().hex[:12]}"
        self.workers = workers
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._mutex = threading.Lock()
        self._held: set[str] = set()
        self._again: set[str] = set()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.backend = backend
        """Where runs are driven: ``None`` = this process's threads; e.g. ``RayBackend``."""
        self._op_status: dict[str, tuple[str, str | None, Any]] = {}
        self._status_lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle

    def use_store(self, store: HostStore | str) -> None:
        """Replace the store (before ``start``), e.g. from ``ptclisp serve --store``."""
        self._store_arg = store
        self._store = store if not isinstance(store, str) else None

    @property
    def store(self) -> HostStore:
        if self._store is None:
            self._store = open_store(str(self._store_arg))
        return self._store

    def start(self, *, sweep_s: float = 0.5) -> Self:
        """Recover what a crashed process left, then keep leases renewed and sweep (deadlines,
        expired leases) in background threads. ``stop()`` ends them."""
        if self.backend is not None:
            self.backend.start(self)
        self._stop.clear()
        for target, period in ((self._renew_loop, self.lease_s / 3), (self._sweep_loop, sweep_s)):
            thread = threading.Thread(target=target, args=(period,), daemon=True,
                                      name=f"ptclisp-host-{target.__name__}")
            thread.start()
            self._threads.append(thread)
        self.recover()
        return self

    def stop(self, *, wait: bool = True) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        if self.backend is not None:
            self.backend.stop()
        if self._executor is not None:
            self._executor.shutdown(wait=wait)
            self._executor = None

    def close(self) -> None:
        self.stop()
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ runs

    def submit(self, agent: str, input: Mapping[str, Any] | None = None, *,
               run_id: str | None = None, wait: bool = False) -> str:
        """Record a run of ``agent`` and start it (in a worker thread; ``wait=True``: here).

        ``run_id``: the caller's id for the run; submitting it again returns it without starting
        a second run (a client may retry a submission whose answer it did not get)."""
        if agent not in self.agents:
            raise HostError(f"no agent named {agent!r}", code="unknown_agent",
                            hint="agents: " + ", ".join(sorted(self.agents)))
        if input is not None and not isinstance(input, Mapping):
            raise HostError("the run input must be an object", code="invalid_input",
                            hint='pass {"input": {...}}')
        if run_id is not None:  # idempotent submission: a retry gets the run it created
            try:
                existing = self.store.get_run(run_id)
            except HostStoreError:
                existing = None
            if existing is not None:
                if existing.agent != agent:
                    raise HostError(f"run {run_id} exists for agent {existing.agent}",
                                    code="run_conflict", hint="use a new run id")
                return run_id
        run_id = run_id or uuid.uuid4().hex
        with self._mutex:
            self._held.add(run_id)
        try:
            self.store.create_run(run_id, agent, dict(input or {}), self.owner, self.lease_s)
        except BaseException:
            with self._mutex:
                self._held.discard(run_id)
            raise
        log.info("run %s submitted (agent %s)", run_id, agent)
        if self.backend is not None:  # hand the lease over to whichever worker drives it
            self.store.release_lease(run_id, self.owner)
            with self._mutex:
                self._held.discard(run_id)
            self.backend.dispatch(run_id, wait=wait)
        elif wait:
            self._drive(run_id)
        else:
            self._pool().submit(self._drive, run_id)
        return run_id

    def status(self, run_id: str) -> dict[str, Any]:
        """``{"run_id", "status", "result"?, "error"?, "pending_ops": [...]}``."""
        run, ops = self.store.snapshot(run_id)  # one snapshot: never a run without its ops
        with self._status_lock:
            for op in ops:
                op.status, op.status_message, _ = self._op_status.get(op.op_id,
                                                                      (None, None, None))
        status = run.status
        if status == "pending" and any(op.state == "delivered" for op in ops):
            status = "running"
        body: dict[str, Any] = {"run_id": run_id, "agent": run.agent, "status": status,
                                "pending_ops": [op_json(op) for op in ops
                                                if op.state == "pending"]}
        result = run.result or {}
        if run.status == "ok":
            body["result"] = result.get("return_value")
        elif run.status == "failed":
            body["result"] = result.get("fail_value")
        if run.status in ("error", "cancelled", "failed") and result.get("error"):
            body["error"] = result["error"]
        return body

    def wait(self, run_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """Block until the run is finished or idle-pending (no queued work); its status."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.status(run_id)
            if body["status"] in FINAL or (body["status"] == "pending"
                                           and not self._busy(run_id)):
                return body
            left = deadline - time.monotonic()
            if left <= 0:
                return body
            with self._changed:
                self._changed.wait(min(left, 0.05))

    def _busy(self, run_id: str) -> bool:
        if self.backend is not None:
            return self.backend.busy(run_id)
        with self._mutex:
            return run_id in self._held

    def cancel_run(self, run_id: str) -> str:
        status = self.store.cancel_run(run_id)
        log.info("run %s cancelled -> %s", run_id, status)
        self._notify()
        return status

    # ------------------------------------------------------------ ops

    def inbox(self) -> list[OpRecord]:
        """Pending ops of all runs, oldest first (nested subagents' ops included), with the live
        status an observer reported for them (``set_op_status``)."""
        ops = self.store.inbox()
        with self._status_lock:
            live = {op.op_id for op in ops}
            for op_id in [o for o in self._op_status if o not in live]:
                del self._op_status[op_id]
            for op in ops:
                op.status, op.status_message, _ = self._op_status.get(op.op_id,
                                                                      (None, None, None))
        return ops

    def set_op_status(self, op_id: str, status: str, message: str | None = None,
                      detail: Any = None) -> None:
        """Record what an observer knows of a pending op — e.g. an MCP task that went
        ``input_required`` with its message (``ptclisp.mcp.TaskWatcher`` calls this). Shown by
        ``inbox()`` and ``GET /inbox``; kept in memory only (the observer reports it again
        after a restart)."""
        if not isinstance(status, str) or (message is not None and not isinstance(message, str)):
            raise HostError("set_op_status takes a status string and a message string",
                            code="invalid_input")
        with self._status_lock:
            self._op_status[op_id] = (status, message, detail)

    def op_status(self, op_id: str) -> dict[str, Any] | None:
        """``{"status", "message", "detail"}`` last reported for the op, or None."""
        with self._status_lock:
            found = self._op_status.get(op_id)
        if found is None:
            return None
        return {"status": found[0], "message": found[1], "detail": found[2]}

    def effects(self, run_id: str) -> str | None:
        """What the program a run is suspended in does, read from its text without running it
        (``ptclisp.preview``): "calls lookup-order at most once, then awaits request-approval,
        then calls send-email at most once". None when the run is not suspended."""
        run = self.store.get_run(run_id)
        if run.checkpoint is None or run.status != "pending":
            return None
        try:
            return _effects_of(deserialize(run.checkpoint, key=self.key).source)
        except PtclispError:
            return None

    def deliver(self, op_id: str, result: Any = None, *, error: Any = None,
                wait: bool = False) -> dict[str, Any]:
        """Deliver an op's result (or ``error``: a message or ``{"message", "code"?}``).

        Returns ``{"run_id", "status", "accepted", "outcome"}``; ``accepted`` is false for a
        duplicate (``outcome`` is then the first one delivered). Raises ``HostStoreError``
        ``pending_unknown_op`` and ``HostError`` ``pending_invalid_result`` (the op stays
        pending).
        """
        op = self.store.get_op(op_id)
        outcome = self._outcome(op, result, error)
        delivery = self.store.deliver(op_id, outcome)
        log.info("delivery %s -> run %s (%s)", op_id, delivery.run_id,
                 "accepted" if delivery.accepted else f"duplicate, op {delivery.state}")
        if delivery.accepted:
            self._schedule(delivery.run_id, wait=wait)
        status = self.status(delivery.run_id)["status"]
        return {"run_id": delivery.run_id, "status": status, "accepted": delivery.accepted,
                "outcome": delivery.outcome}

    def cancel_op(self, op_id: str, *, wait: bool = False) -> dict[str, Any]:
        """Deliver an ``op_cancelled`` error into the program (which may handle it; the code
        ``cancelled`` would stop the whole run)."""
        return self.deliver(op_id, error={"message": f"operation {op_id} was cancelled",
                                          "code": "op_cancelled"}, wait=wait)

    def _outcome(self, op: OpRecord, result: Any, error: Any) -> dict[str, Any]:
        if error is not None:
            if isinstance(error, str):
                error = {"message": error}
            if not isinstance(error, Mapping) or not isinstance(error.get("message"), str):
                raise HostError("an error must be a message or {\"message\", \"code\"?}",
                                code="invalid_delivery")
            code = error.get("code") or "tool_error"
            if not isinstance(code, str):
                raise HostError("the error code must be a string", code="invalid_delivery")
            return {"error": {"message": error["message"], "code": code}}
        return {"value": self._validated(op, result)}

    def _validated(self, op: OpRecord, result: Any) -> Any:
        tool = self._tool(op)
        if tool is None:
            return result
        signature = parse_signature(tool.signature_text)
        if signature.returns.render() in (":any", "any"):
            return result
        try:
            signature.validate_return(result)
        except SignatureMismatch as exc:
            raise HostError(f"the result for op {op.op_id} ({op.tool}) does not match "
                            f"{signature.returns.render()}: {exc.message}",
                            code="pending_invalid_result",
                            hint=f"deliver a value of type {signature.returns.render()}; "
                                 "the op is still pending") from None
        return result

    def _tool(self, op: OpRecord) -> Tool | None:
        run = self.store.get_run(op.run_id)
        agent = self.agents.get(run.agent)
        return None if agent is None else _find_tool(agent, op.agent, op.tool)

    # ------------------------------------------------------------ recovery and sweeping

    def recover(self) -> list[str]:
        """Drive every unfinished run that nobody holds a live lease on (crash leftovers)."""
        taken = []
        for run_id in self.store.recoverable_runs():
            if self._schedule(run_id):
                log.info("run %s recovered", run_id)
                taken.append(run_id)
        return taken

    def expire(self) -> list[str]:
        """Deliver a ``timeout`` error to every pending op past its deadline."""
        expired = []
        for op_id in self.store.expired_ops(time.time()):
            done = self.deliver(op_id, error={"message": f"operation {op_id} passed its deadline",
                                              "code": "timeout"})
            if done["accepted"]:
                expired.append(op_id)
        return expired

    def _sweep_loop(self, period: float) -> None:
        while not self._stop.wait(period):
            try:
                self.expire()
                self.recover()
            except Exception:  # the store may be briefly unavailable: try again next period
                log.exception("sweep failed")

    def _renew_loop(self, period: float) -> None:
        while not self._stop.wait(period):
            with self._mutex:
                held = list(self._held)
            for run_id in held:
                try:
                    if not self.store.renew_lease(run_id, self.owner, self.lease_s):
                        log.warning("run %s: lease lost", run_id)
                except Exception:
                    log.exception("lease renewal failed")

    # ------------------------------------------------------------ driving a run

    def _pool(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._mutex:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    self.workers, thread_name_prefix="ptclisp-host")
            return self._executor

    def _schedule(self, run_id: str, *, wait: bool = False) -> bool:
        if self.backend is not None:
            return self.backend.dispatch(run_id, wait=wait)
        with self._mutex:
            if run_id in self._held:
                self._again.add(run_id)  # the driving thread looks again before it lets go
                return False
            self._held.add(run_id)
        if not self.store.acquire_lease(run_id, self.owner, self.lease_s):
            with self._mutex:
                self._held.discard(run_id)
            return False
        if wait:
            self._drive(run_id)
        else:
            self._pool().submit(self._drive, run_id)
        return True

    def _drive(self, run_id: str) -> None:
        """Work on a run whose lease this host holds until it has nothing queued."""
        while True:
            try:
                self._work(run_id)
            except HostStoreError as exc:
                log.warning("run %s: %s", run_id, exc.message)
            except Exception:
                log.exception("run %s: driving failed; the lease lapses and it is retried",
                              run_id)
            with self._mutex:
                again = run_id in self._again
                self._again.discard(run_id)
                if not again:
                    self._held.discard(run_id)
            self._notify()
            if not again or not self.store.acquire_lease(run_id, self.owner, self.lease_s):
                if again:
                    with self._mutex:
                        self._held.discard(run_id)
                return

    def _work(self, run_id: str) -> None:
        while True:
            run = self.store.get_run(run_id)
            if run.status in FINAL or run.lease_owner != self.owner:
                return
            if run.checkpoint is None:
                self._step(run, None)
                continue
            op = self.store.next_delivered(run_id)
            if op is None:
                if self.store.release_lease(run_id, self.owner):
                    return
                continue
            self._step(run, op)

    def _step(self, run: Any, op: OpRecord | None) -> None:
        agent = self.agents.get(run.agent)
        logs: list[EffectLog] = []
        op_id = None if op is None else op.op_id
        try:
            if agent is None:
                raise HostError(f"no agent named {run.agent!r} in this host",
                                code="unknown_agent")
            outcome = self._supervised(agent, run, op, logs)
        except HostStoreError:
            raise
        except PtclispError as exc:
            log.info("run %s -> error %s", run.run_id, exc.code)
            self.store.commit_final(run.run_id, self.owner, op_id, "error",
                                    {"status": "error", "error": exc.to_dict()})
            return
        if isinstance(outcome, PendingStep):
            now = time.time()
            ops = [OpRecord(oid, run.run_id, info["tool"], info["args"], info.get("agent"),
                            "pending", now, self._deadline(agent, info, now))
                   for oid, info in external_ops(outcome).items()]
            self.store.commit_step(run.run_id, self.owner, op_id,
                                   serialize(outcome, key=self.key), logs[-1].next_index, ops)
            log.info("run %s -> pending on %s", run.run_id, ", ".join(o.op_id for o in ops))
            return
        self.store.commit_final(run.run_id, self.owner, op_id, outcome.status,
                                _result_of(outcome))
        log.info("run %s -> %s", run.run_id, outcome.status)

    def _supervised(self, agent: SubAgent, run: Any, op: OpRecord | None,
                    logs: list[EffectLog]) -> Step | PendingStep:
        """One step of a run as a supervised process (``runtime.supervised_call``, on this
        worker thread). Its checkpoint is the store: after a crash the step starts again with
        a fresh ``EffectLog``, which answers every effect already recorded from the store."""
        def attempt(saved: Any, save: Any) -> Step | PendingStep:
            logs.append(EffectLog(self.store, run.run_id, run.effects_base))
            return self._advance(agent, run, op, logs[-1])

        return supervised_call(attempt, name=agent.name)

    def _advance(self, agent: SubAgent, run: Any, op: OpRecord | None,
                 effects: EffectLog) -> Step | PendingStep:
        llm = agent._llm(self.llm)
        hooks = Hooks(effects=effects)
        if op is None:
            return agent._run_nested(dict(run.input), llm=llm, hooks=hooks,
                                     telemetry=Telemetry(None), depth=0)
        pending = deserialize(run.checkpoint, key=self.key)
        outcome = op.outcome or {}
        return agent._resume_nested(pending, op.op_id, outcome.get("value"),
                                    outcome.get("error"), llm=llm, hooks=hooks,
                                    telemetry=Telemetry(None), depth=None)

    def _deadline(self, agent: SubAgent, info: dict[str, Any], now: float) -> float | None:
        seconds = self.deadlines.get(info["tool"])
        if seconds is None:
            tool = _find_tool(agent, info.get("agent"), info["tool"])
            seconds = getattr(tool, "deadline_s", None)
        return None if seconds is None else now + float(seconds)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()


def op_json(op: OpRecord) -> dict[str, Any]:
    """An op as the HTTP API shows it."""
    return {"op_id": op.op_id, "run_id": op.run_id, "tool": op.tool, "args": op.args,
            "agent": op.agent, "since": op.since, "deadline": op.deadline,
            "status": op.status, "status_message": op.status_message}


def _result_of(step: Step) -> dict[str, Any]:
    error = step.error.to_dict() if isinstance(step.error, PtclispError) else step.error
    return {"status": step.status, "return_value": step.return_value,
            "fail_value": step.fail_value, "error": error, "turns": len(step.turns)}


def _find_tool(agent: SubAgent, owner: str | None, name: str) -> Tool | None:
    """The tool ``name`` of the agent named ``owner`` in the tree below ``agent``."""
    tools = agent.tool_map()
    if owner in (None, agent.name) and name in tools:
        return tools[name]
    for tool in tools.values():
        child = getattr(tool, "subagent", None)
        if child is not None:
            found = _find_tool(child, owner, name)
            if found is not None:
                return found
    return None


def _agents_by_name(agents: Mapping[str, SubAgent] | list[SubAgent],
                    tools: Any) -> dict[str, SubAgent]:
    items = agents.items() if isinstance(agents, Mapping) else [(a.name, a) for a in agents]
    out: dict[str, SubAgent] = {}
    for name, agent in items:
        if not isinstance(agent, SubAgent):
            raise HostError(f"agent {name!r} is not a SubAgent", code="host_error")
        if tools is not None:
            from ._agent import _normalize_tools

            merged = {**_normalize_tools(tools), **agent.tool_map()}
            agent = agent.model_copy()
            agent.tools = list(merged.values())
        out[name] = agent
    return out


@functools.lru_cache(maxsize=256)
def _effects_of(source: str) -> str:
    """``preview(source).summary()``, once per program text: the inbox lists many runs of the
    same agent, suspended in the same program."""
    return preview(source).summary()
