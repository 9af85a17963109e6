"""The agent the Ray cluster test and bench/bench_ray.py run on every node: look up a request
(sync tool), wait for an approval delivered by webhook (async tool), send an email (sync tool).
Every tool execution appends ``{"tool", "key", "node", "pid", "phase"}`` to a JSON-lines log, so
the test can tell which node ran what and whether a completed call ran twice."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from ptclisp import Tool
from ptclisp.subagent import ScriptedLLM, SubAgent, idempotency_key

PROGRAM = """```clojure
(let [req (tool/get-request {})
      d   (await (tool/request-approval {:request_id (:id req) :amount (:amount req)}))
      m   (tool/send-email {:to (:requester req) :subject (str "approved: " (:approved d))})]
  (return {:approved (:approved d) :by (:by d) :email (:message-id m)}))
```"""


class LoggedTools:
    """The tools, logging each execution (start and end) to ``log``; each sleeps ``delay_s``."""

    def __init__(self, log: str, delay_s: float = 0.0) -> None:
        self.log, self.delay_s = log, delay_s

    def _write(self, tool: str, phase: str) -> None:
        import ray

        node = ray.get_runtime_context().get_node_id() if ray.is_initialized() else "local"
        line = json.dumps({"tool": tool, "key": idempotency_key(), "phase": phase,
                           "node": node,
                           "pid": os.getpid()}) + "\n"
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def _run(self, tool: str, value: Any) -> Any:
        self._write(tool, "start")
        if self.delay_s:
            time.sleep(self.delay_s)
        self._write(tool, "end")
        return value

    def get_request(self) -> dict[str, Any]:
        """The request: id, requester, amount."""
        return self._run("get-request", {"id": 7, "requester": "grace@example.com",
                                         "amount": 740.0})

    def request_approval(self, request_id: int, amount: float) -> None:
        """Ask a manager; the decision {approved, by} arrives later by webhook."""
        self._run("request-approval", None)

    def send_email(self, to: str, subject: str) -> dict[str, Any]:
        """Send an email; its message id."""
        return self._run("send-email", {"message-id": f"msg-{idempotency_key()}"})


def approval_agent(log: str, delay_s: float = 0.0) -> SubAgent:
    tools = LoggedTools(log, delay_s)
    return SubAgent(
        name="approval", prompt="Get the request approved, then email the requester.",
        tools=[Tool("get-request", tools.get_request),
               Tool("request-approval", tools.request_approval, is_async=True,
                    signature="(request_id :int, amount :float) -> "
                              "{approved :bool, by :string}"),
               Tool("send-email", tools.send_email)],
        signature="-> {approved :bool, by :string, email :string}", max_turns=2,
        llm=ScriptedLLM([PROGRAM], per_conversation=True))


BUDGET_TURN_1 = """```clojure
(let [d (await (tool/request-approval {:request_id 1 :amount 1.0}))]
  (/ 1 0))
```"""
BUDGET_TURN_2 = """```clojure
(return {:approved true :by "turn 2" :email "none"})
```"""


def budget_agent(log: str, max_turns: int) -> SubAgent:
    """Turn 1 suspends, then fails after the resume; a second turn exists only if the budget
    (turns spent, carried by the checkpoint) allows it: with ``max_turns=1`` the run must end
    ``max_turns`` wherever it is resumed."""
    tools = LoggedTools(log)
    return SubAgent(
        name=f"budget-{max_turns}", prompt="Ask, then answer.",
        tools=[Tool("request-approval", tools.request_approval, is_async=True,
                    signature="(request_id :int, amount :float) -> "
                              "{approved :bool, by :string}")],
        signature="-> {approved :bool, by :string, email :string}", max_turns=max_turns,
        llm=ScriptedLLM([BUDGET_TURN_1, BUDGET_TURN_2], per_conversation=True))


def agents(log: str, delay_s: float = 0.0) -> dict[str, SubAgent]:
    """The agents every host of the test and the bench serves."""
    return {"approval": approval_agent(log, delay_s), "budget-1": budget_agent(log, 1),
            "budget-2": budget_agent(log, 2)}


def trace_to_file() -> None:
    """A ``RayBackend(worker_setup=...)``: each worker exports its spans as JSON lines to the
    file named by ``PTCLISP_RAY_SPANS`` (how a test sees spans made on other nodes)."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

    path = os.environ.get("PTCLISP_RAY_SPANS")
    if not path:
        return

    class FileExporter(SpanExporter):
        def export(self, spans: Any) -> Any:
            from opentelemetry.sdk.trace.export import SpanExportResult

            with open(path, "a", encoding="utf-8") as fh:
                for span in spans:
                    parent = span.parent.span_id if span.parent is not None else None
                    fh.write(json.dumps({"name": span.name,
                                         "trace_id": span.context.trace_id,
                                         "parent_id": parent, "pid": os.getpid()}) + "\n")
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(FileExporter()))
    trace.set_tracer_provider(provider)
