"""A human-approval agent: suspended while a person decides, resumed from a webhook.

    python examples/agent_human_approval.py           # offline: recorded LLM replies
    OPENAI_BASE_URL=... OPENAI_MODEL=... python examples/agent_human_approval.py

1. The agent reads an expense report (sync tool). Over 100 it asks for approval with an *async*
   tool: ``request-approval`` posts the request (here: prints it) and returns at once with an op
   handle; ``(await ...)`` suspends the run. ``run`` returns a ``PendingStep``.
2. The host stores the step in SQLite (``ptclisp.SQLiteStore``) — nothing stays in memory that
   the resume needs — and serves a webhook on 127.0.0.1 (a real ``http.server``, random port).
3. The approver answers: a thread POSTs ``{"op_id", "approved", "by"}`` to ``/webhooks/approval``
   (as a chat app's button callback would). The handler claims the step (exactly once), resumes
   the agent with the decision — the program continues, then the LLM takes another turn — and
   answers with the agent's final result.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from ptclisp import SQLiteStore, Tool
from ptclisp.subagent import LLM, Step, SubAgent, llm_from_env, pending_ops

REPLIES = Path(__file__).with_suffix(".replies.json")
EXPENSES = {42: {"id": 42, "employee": "Grace", "amount": 740.0,
                 "description": "conference ticket, Lisbon"}}


def get_expense(id: int) -> dict[str, Any]:
    """An expense report: id, employee, amount, description."""
    return EXPENSES[id]


def request_approval(expense_id: int, amount: float, reason: str) -> str:
    """Ask a manager to approve an expense; the decision arrives later."""
    print(f"[chat] approval requested: expense {expense_id}, {amount:.2f} for {reason!r}")
    return f"approval-{expense_id}"  # the chat message id: the webhook will quote it


agent = SubAgent(
    name="expenses",
    prompt="Process expense report {{expense_id}}: anything over 100 needs a manager's approval.",
    tools=[
        Tool("get-expense", get_expense),
        Tool("request-approval", request_approval, is_async=True,
             signature="(expense_id :int, amount :float, reason :string) -> "
                       "{approved :bool, by :string}"),
    ],
    signature="(expense_id :int) -> {expense_id :int, approved :bool, by :string}",
    max_turns=4,
)


def serve_webhook(store: SQLiteStore, llm: LLM, done: threading.Event,
                  outcome: dict[str, Any]) -> ThreadingHTTPServer:
    class Webhook(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            pending = store.claim(body["op_id"])  # exactly once, across processes
            result = agent.resume(pending, body["op_id"],
                                  {"approved": body["approved"], "by": body["by"]}, llm=llm)
            if isinstance(result, Step):
                store.delete(pending.step_id)
                outcome["step"] = result
                done.set()
            else:
                store.complete(body["op_id"], result)  # waiting for another op
            reply = json.dumps({"status": getattr(result, "status", "pending")}).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def manager_clicks_approve(url: str, op_id: str) -> None:
    body = json.dumps({"op_id": op_id, "approved": True, "by": "Ada (manager)"}).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        print(f"[webhook] delivered {op_id}: {json.loads(response.read())}")


def main() -> int:
    llm = llm_from_env(script=REPLIES)
    pending = agent.run(llm=llm, context={"expense_id": 42})
    if isinstance(pending, Step):
        print(f"finished without approval: {pending.status} {pending.return_value}")
        return 0 if pending.ok else 1
    [op_id] = pending_ops(pending)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "steps.db")
        store.save(pending)
        print(f"[host] run suspended on {op_id}; step {pending.step_id[:8]} stored in SQLite")
        done, outcome = threading.Event(), {}
        server = serve_webhook(store, llm, done, outcome)
        url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/approval"
        threading.Timer(0.2, manager_clicks_approve, (url, op_id)).start()
        finished = done.wait(timeout=120)
        server.shutdown()
    if not finished:
        print("no decision arrived")
        return 1
    step: Step = outcome["step"]
    for turn in step.turns:
        print(f"--- turn {turn.number}: {turn.status}\n{turn.program}")
    print(f"\nstatus: {step.status}; result: {json.dumps(step.return_value)}")
    return 0 if step.ok else 1


if __name__ == "__main__":
    sys.exit(main())
