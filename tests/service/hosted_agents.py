"""Agents for the host tests: tools that count their executions and can 'crash' on demand."""

from __future__ import annotations

import collections
import threading
from typing import Any

from ptclisp import Tool
from ptclisp.subagent import AgentHost, ScriptedLLM, SubAgent, idempotency_key


class Crash(KeyboardInterrupt):
    """Stands for the process dying: ptclisp lets only KeyboardInterrupt escape a run, and the
    host records nothing for it."""


class Tools:
    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.keys: list[tuple[str, str | None]] = []
        self.crash_after: dict[str, int] = {}  # tool -> crash once after that many executions
        self.lock = threading.Lock()

    def _hit(self, name: str) -> None:
        with self.lock:
            self.calls[name] += 1
            self.keys.append((name, idempotency_key()))
            if self.crash_after.get(name) == self.calls[name]:
                del self.crash_after[name]
                raise Crash(name)

    def get_request(self) -> dict[str, Any]:
        """The request: id, requester, amount."""
        self._hit("get-request")
        return {"id": 7, "requester": "grace@example.com", "amount": 740.0}

    def request_approval(self, request_id: int, amount: float) -> None:
        """Ask a manager; the decision arrives later."""
        self._hit("request-approval")

    def send_email(self, to: str, subject: str) -> dict[str, Any]:
        """Send an email."""
        self._hit("send-email")
        return {"message-id": f"msg-{idempotency_key()}"}

    def tools(self, deadline_s: float | None = None) -> list[Tool]:
        approval = Tool("request-approval", self.request_approval, is_async=True,
                        signature="(request_id :int, amount :float) -> "
                                  "{approved :bool, by :string}")
        if deadline_s is not None:
            approval.deadline_s = deadline_s  # type: ignore[attr-defined]
        return [Tool("get-request", self.get_request), approval,
                Tool("send-email", self.send_email)]


APPROVE = """```clojure
(let [req (tool/get-request {})
      d   (await (tool/request-approval {:request_id (:id req) :amount (:amount req)}))
      m   (tool/send-email {:to (:requester req) :subject (str "approved: " (:approved d))})]
  (return {:approved (:approved d) :by (:by d) :email (:message-id m)}))
```"""
AFTER_ERROR = """```clojure
(return {:approved false :by "timeout" :email "none"})
```"""


def approval_agent(tools: Tools, deadline_s: float | None = None) -> SubAgent:
    return SubAgent(name="approval", prompt="Get the request approved, then email.",
                    tools=tools.tools(deadline_s),
                    signature="-> {approved :bool, by :string, email :string}", max_turns=3,
                    llm=ScriptedLLM([APPROVE, AFTER_ERROR], per_conversation=True))


CHILD = """```clojure
(let [d (await (tool/request-approval {:request_id 1 :amount 5.0}))]
  (return {:approved (:approved d)}))
```"""
PARENT = """```clojure
(let [r (await (tool/approver {:amount 5}))
      m (tool/send-email {:to "boss@example.com" :subject (str "child said " (:approved r))})]
  (return {:approved (:approved r) :by "child" :email (:message-id m)}))
```"""


def nested_agent(tools: Tools) -> SubAgent:
    by_name = {t.name: t for t in tools.tools()}
    child = SubAgent(name="approver", prompt="Ask a human about {{amount}}.",
                     tools=[by_name["request-approval"]], signature="(amount :int) -> "
                     "{approved :bool}", max_turns=2,
                     llm=ScriptedLLM([CHILD], per_conversation=True))
    return SubAgent(name="nested", prompt="Ask the approver, then email.",
                    tools=[child.as_tool(), by_name["send-email"]],
                    signature="-> {approved :bool, by :string, email :string}", max_turns=2,
                    llm=ScriptedLLM([PARENT], per_conversation=True))


def make_host(store: Any, tools: Tools, **options: Any) -> AgentHost:
    return AgentHost({"approval": approval_agent(tools, options.pop("deadline_s", None)),
                      "nested": nested_agent(tools)}, store=store, **options)
