"""``TaskWatcher``: deliver the outcomes of MCP task ops (to ``ptclisp.resume`` or an
``AgentHost``).

    with MCPTools(server) as media:
        watcher = TaskWatcher(media)
        step = ptclisp.start(program, tools=media.registry())      # a PendingStep
        result = watcher.resume(step, tools=media.registry(), timeout_s=600)

    host = AgentHost(...); watcher.attach(host)   # polls the inbox's task ops, delivers outcomes,
                                                  # shows input_required, cancels what the host ends
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from .._async.pending import PendingStep
from .._async.resume import resume
from .._errors import HostInputError, PtclispError
from .._result import Result
from ._client import MCPTools
from ._taskclient import MIN_POLL_S, TaskRecord

__all__ = ["TaskWatcher"]

log = logging.getLogger("ptclisp.mcp")


class TaskWatcher:
    """Watches the task ops of one or more ``MCPTools`` connections."""

    def __init__(self, *connections: MCPTools, tick_s: float = 0.1) -> None:
        if not connections or not all(isinstance(c, MCPTools) for c in connections):
            raise HostInputError("TaskWatcher: pass the MCPTools connections whose tasks to watch")
        self.connections = connections
        self.tick_s = tick_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watched: dict[str, MCPTools] = {}
        self._due: dict[str, float] = {}
        self._shown: dict[str, tuple[str, str | None]] = {}

    def owner(self, op_id: str) -> MCPTools | None:
        """The connection whose tool started ``op_id`` (None: not an MCP task op)."""
        for connection in self.connections:
            if connection.tasks.owns(op_id):
                return connection
        return None

    def status(self, op_id: str) -> dict[str, Any]:
        """``{"op_id", "server", "tool", "task_id", "status", "message", "input_requests"}``
        (``server``: its URL or command line)."""
        connection = self._connection(op_id)
        return {**connection.tasks.record(op_id).info(), "server": _server_name(connection)}

    def outcome(self, op_id: str, timeout: float | None = None, *,
                tool: str | None = None) -> dict[str, Any] | None:
        """Wait for the op's task to end: ``{"value": v}`` or ``{"error": {...}}``; None if it
        is still running after ``timeout`` seconds. ``tool``: the name of the tool that started
        the op (``step.pending_ops[op_id]["tool"]``), needed for an op this process did not
        start (after a restart)."""
        return self._connection(op_id).tasks.wait(op_id, timeout, tool=tool)

    def cancel(self, op_id: str) -> None:
        """Send ``tasks/cancel`` for the op's task."""
        self._connection(op_id).tasks.cancel(op_id)

    def answer(self, op_id: str, responses: dict[str, Any]) -> None:
        """Answer the task's ``input_required`` requests (``tasks/update``): ``responses`` maps
        each request key to its response (``{"action": "accept", "content": {...}}``)."""
        if not isinstance(responses, dict) or not all(
                isinstance(k, str) and isinstance(v, dict) for k, v in responses.items()):
            raise HostInputError("responses: expected {request key: response object}, e.g. "
                                 '{"approval": {"action": "accept", "content": {...}}}')
        self._connection(op_id).tasks.update(op_id, responses)

    def _connection(self, op_id: str) -> MCPTools:
        connection = self.owner(op_id)
        if connection is None:
            raise HostInputError(f"op_id: {op_id!r} is not a task op of these MCP connections")
        return connection

    # ------------------------------------------------------------ library path

    def resume(self, step: Result | PendingStep, *, tools: Any,
               timeout_s: float | None = None, **kwargs: Any) -> Result | PendingStep:
        """Wait for the MCP task ops ``step`` awaits and resume it with their outcomes, until the
        run ends or awaits an op that is no MCP task (that ``PendingStep`` is returned).

        ``timeout_s`` bounds the whole wait: a task still running then is cancelled
        (``tasks/cancel``) and its op gets a ``timeout`` error, which the program sees as a
        ``tool_error`` at its ``await``. ``kwargs`` go to ``ptclisp.resume``."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while isinstance(step, PendingStep):
            mine = [op for op in step.awaiting if self.owner(op) is not None]
            if not mine:
                return step
            tools_of = {op: step.pending_ops.get(op, {}).get("tool") for op in mine}
            op_id, outcome = self._first_done(tools_of, deadline)
            step = resume(step, op_id, outcome.get("value"), tools=tools,
                          error=outcome.get("error"), **kwargs)
            self._connection(op_id).tasks.forget(op_id)
        return step

    def _first_done(self, tools_of: dict[str, str | None],
                    deadline: float | None) -> tuple[str, dict[str, Any]]:
        ops = list(tools_of)
        while True:
            for op_id in ops:
                outcome = self.outcome(op_id, timeout=0, tool=tools_of[op_id])
                if outcome is not None:
                    return op_id, outcome
            if deadline is not None and time.monotonic() >= deadline:
                op_id = ops[0]
                self.cancel(op_id)
                return op_id, {"error": {"message": f"MCP task op {op_id} did not end in time",
                                         "code": "timeout"}}
            pause = min(self._connection(op).tasks.record(op).poll_s for op in ops)
            if deadline is not None:
                pause = min(pause, max(deadline - time.monotonic(), 0.0))
            time.sleep(max(pause, MIN_POLL_S))

    # ------------------------------------------------------------ AgentHost

    def attach(self, host: Any) -> TaskWatcher:
        """Watch ``host``'s inbox in a daemon thread: the status of each MCP task op shows in
        the inbox (``input_required`` with the task's message), a finished task is delivered
        (``host.deliver``), and a task whose op the host ended otherwise (``cancel_op``, a
        deadline, ``cancel_run``) is cancelled on its server (``tasks/cancel``)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, args=(host,), daemon=True,
                                        name="ptclisp-mcp-tasks")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> TaskWatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _loop(self, host: Any) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.sweep(host)
            except Exception:  # the store or a server may be briefly unavailable
                log.exception("MCP task sweep failed")

    def sweep(self, host: Any) -> None:
        """One pass over the host's inbox (what the ``attach`` thread does every tick)."""
        inbox = {op.op_id: op.tool for op in host.inbox()}
        for op_id, tool in inbox.items():
            connection = self.owner(op_id)
            if connection is not None and op_id not in self._watched:
                connection.tasks.record(op_id, tool)
                self._watched[op_id] = connection
        pending, now = set(inbox), time.monotonic()
        due: dict[MCPTools, list[str]] = {}
        for op_id, connection in list(self._watched.items()):
            if op_id not in pending:  # ended by the host: a deadline, cancel_op, cancel_run
                self._forget(op_id, connection, cancel=True)
            elif now >= self._due.get(op_id, 0.0):
                due.setdefault(connection, []).append(op_id)
        for connection, ops in due.items():
            self._poll(host, connection, ops)

    def _poll(self, host: Any, connection: MCPTools, ops: list[str]) -> None:
        """One ``tasks/get`` for each op, all at once on the connection's loop; then show the
        statuses and deliver what ended."""
        records = [connection.tasks.record(op_id) for op_id in ops]
        try:
            connection.run_coroutine(_poll_all(connection, records))
        except Exception:  # a slow round: these ops are polled again next time
            log.warning("polling %d MCP tasks timed out", len(records))
        for record in records:
            self._after_poll(host, connection, record)

    def _after_poll(self, host: Any, connection: MCPTools, record: TaskRecord) -> None:
        op_id = record.op_id
        shown = (record.status, record.message)
        if self._shown.get(op_id) != shown and hasattr(host, "set_op_status"):
            host.set_op_status(op_id, record.status, record.message,
                               record.input_requests or None)
            self._shown[op_id] = shown
        self._due[op_id] = time.monotonic() + min(record.poll_s, connection.max_poll_s)
        outcome = record.outcome
        if outcome is not None:
            try:
                host.deliver(op_id, outcome.get("value"), error=outcome.get("error"))
            except PtclispError as exc:  # e.g. a result of the wrong type: the op fails
                host.deliver(op_id, error={"message": exc.message, "code": "tool_error"})
            self._forget(op_id, connection, cancel=False)

    def _forget(self, op_id: str, connection: MCPTools, *, cancel: bool) -> None:
        self._watched.pop(op_id, None)
        self._due.pop(op_id, None)
        self._shown.pop(op_id, None)
        if cancel:
            connection.tasks.cancel(op_id)
        connection.tasks.forget(op_id)


async def _poll_all(connection: MCPTools, records: list[TaskRecord]) -> None:
    await asyncio.gather(*(connection.tasks.poll(record) for record in records))


def _server_name(connection: MCPTools) -> str:
    server = connection.server
    command = getattr(server, "command", None)
    if isinstance(command, str):
        return " ".join([command, *map(str, getattr(server, "args", None) or ())])
    return str(server)
