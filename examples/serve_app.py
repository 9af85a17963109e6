"""A host to serve over HTTP: ``ptclisp serve examples.serve_app:host --insecure``.

The agent ``approval`` (no input; an offline scripted LLM) looks up a purchase request (sync tool),
asks a human for approval (async tool ``request-approval``: the run suspends until the decision is
delivered), then sends an email (sync tool ``send-email``), which appends one JSON line per
execution — ``{"idempotency_key", "to", "subject", "pid"}`` — to the file named by
``PTCLISP_DEMO_OUTBOX`` (default ``./outbox.jsonl``). The idempotency key is the one the host
gives the call: a mail provider would use it to deduplicate a retried send.

    ptclisp serve examples.serve_app:host --insecure --port 8000
    curl -s -X POST localhost:8000/runs -H 'content-type: application/json' \\
         -d '{"agent": "approval", "input": {}}'
    curl -s localhost:8000/inbox
    curl -s -X POST localhost:8000/ops/OP_ID -H 'content-type: application/json' \\
         -d '{"result": {"approved": true, "by": "Ada"}}'
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ptclisp import Tool
from ptclisp.subagent import AgentHost, ScriptedLLM, SubAgent, idempotency_key

REQUEST = {"id": 7, "requester": "grace@example.com", "amount": 740.0,
           "reason": "conference ticket, Lisbon"}

PROGRAM = """```clojure
(let [req      (tool/get-request {})
      decision (await (tool/request-approval {:request_id (:id req) :amount (:amount req)
                                              :reason (:reason req)}))
      verdict  (if (:approved decision) "approved" "denied")
      mail     (tool/send-email {:to (:requester req)
                                 :subject (str "Request " (:id req) " " verdict)
                                 :body (str "Decided by " (:by decision))})]
  (return {:request (:id req) :approved (:approved decision) :by (:by decision)
           :email (:message-id mail)}))
```"""


def _delay() -> None:
    seconds = float(os.environ.get("PTCLISP_DEMO_TOOL_DELAY_S", "0") or 0)
    if seconds:
        time.sleep(seconds)


def get_request() -> dict[str, Any]:
    """The purchase request waiting for a decision: id, requester, amount, reason."""
    _delay()
    return REQUEST


def request_approval(request_id: int, amount: float, reason: str) -> None:
    """Ask a manager to approve; the decision {approved, by} arrives later (the inbox)."""
    _delay()


def send_email(to: str, subject: str, body: str) -> dict[str, Any]:
    """Send an email; returns its message id."""
    _delay()
    key = idempotency_key()
    line = {"idempotency_key": key, "to": to, "subject": subject, "body": body,
            "pid": os.getpid()}
    outbox = Path(os.environ.get("PTCLISP_DEMO_OUTBOX", "outbox.jsonl"))
    with outbox.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    _delay()
    return {"message-id": f"msg-{key}"}


def build_agent() -> SubAgent:
    return SubAgent(
        name="approval",
        prompt="Get the purchase request approved or denied by a manager, then email the "
               "requester the decision.",
        tools=[
            Tool("get-request", get_request),
            Tool("request-approval", request_approval, is_async=True,
                 signature="(request_id :int, amount :float, reason :string) -> "
                           "{approved :bool, by :string}"),
            Tool("send-email", send_email),
        ],
        signature="-> {request :int, approved :bool, by :string, email :string}",
        max_turns=2,
        llm=ScriptedLLM([PROGRAM], per_conversation=True),
    )


def build_host(store: Any = "sqlite:///ptclisp.db", **options: Any) -> AgentHost:
    return AgentHost({"approval": build_agent()}, store=store, **options)


host = build_host()
