"""A human-approval agent on an ``AgentHost``: suspended while a person decides, resumed by a
signed webhook — durable in SQLite the whole time.

    python examples/agent_human_approval.py           # offline: recorded LLM replies
    OPENAI_BASE_URL=... OPENAI_MODEL=... python examples/agent_human_approval.py

1. The host (``subagent.AgentHost``) owns the run: ``POST /runs`` records it in the store *before*
   it starts. The agent reads an expense report (sync tool); over 100 it asks for approval with an
   *async* tool, and ``(await ...)`` suspends the run. Its op appears in ``GET /inbox``.
2. The host's ASGI app (``subagent.create_app``: the same app ``ptclisp serve`` runs) listens on
   127.0.0.1 (uvicorn, random port) with a webhook secret and an API token.
3. The approver answers: a thread POSTs the decision to ``/ops/approval-42``, signed with
   ``X-Ptclisp-Signature`` (HMAC-SHA256, Stripe's scheme) as a chat app's button callback would.
   The host resumes the agent — the program continues, then the LLM takes another turn — and the
   client reads the finished run from ``GET /runs/{id}``. Had the process died in between,
   ``host.recover()`` at the next start would have finished it.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import httpx
import uvicorn

from ptclisp import Tool
from ptclisp.subagent import AgentHost, SubAgent, create_app, llm_from_env, sign

REPLIES = Path(__file__).with_suffix(".replies.json")
SECRET, TOKEN = "demo-webhook-secret", "demo-api-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}
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


def serve(host: AgentHost) -> tuple[uvicorn.Server, str]:
    app = create_app(host, secret=SECRET, token=TOKEN)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        threading.Event().wait(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


def manager_clicks_approve(url: str, op_id: str) -> None:
    body = json.dumps({"result": {"approved": True, "by": "Ada (manager)"}}).encode()
    response = httpx.post(f"{url}/ops/{op_id}", content=body, timeout=30, headers={
        "content-type": "application/json", "x-ptclisp-signature": sign(SECRET, body)})
    print(f"[webhook] delivered {op_id}: {response.status_code} {response.json()['status']}")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        host = AgentHost({"expenses": agent}, llm=llm_from_env(script=REPLIES),
                         store=f"sqlite:///{Path(tmp) / 'host.db'}")
        server, url = serve(host)
        try:
            with httpx.Client(base_url=url, headers=AUTH, timeout=60) as client:
                run = client.post("/runs", json={"agent": "expenses",
                                                 "input": {"expense_id": 42}}).json()
                state = client.get(f"/runs/{run['run_id']}?wait=30").json()
                if state["status"] != "pending":
                    print(f"finished without approval: {state}")
                    return 0 if state["status"] == "ok" else 1
                [op] = client.get("/inbox").json()["ops"]
                print(f"[host] run suspended on {op['op_id']}; stored in SQLite")
                print(f"[inbox] the program {op['effects']}")
                threading.Timer(0.2, manager_clicks_approve, (url, op["op_id"])).start()
                final = client.get(f"/runs/{run['run_id']}?wait=60").json()
                while final["status"] in ("pending", "running"):
                    final = client.get(f"/runs/{run['run_id']}?wait=60").json()
        finally:
            server.should_exit = True
            host.close()
    print(f"\nstatus: {final['status']}; result: {json.dumps(final.get('result'))}")
    return 0 if final["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
