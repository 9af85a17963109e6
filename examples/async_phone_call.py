"""An async phone call on an ``AgentHost``: the run suspends, is durable in SQLite, and a real
(signed) webhook from the telephony provider resumes it.

    python examples/async_phone_call.py

1. The host runs the ``caller`` agent (an offline scripted LLM writes the program): it looks a
   customer up (sync tool) and places a phone call (async tool): the call tool returns the
   provider's call id at once — it becomes the op id — and ``(await call)`` suspends the run.
2. The host's HTTP app (``subagent.create_app``, served by uvicorn on 127.0.0.1) receives the
   provider's webhook ``POST /ops/<call id>`` with the outcome, signed with the webhook secret
   (``X-Ptclisp-Signature``); the host resumes the run to completion.
3. The "provider" is a thread that, a moment after the call is placed, posts the outcome —
   retrying while the op is not stored yet (404), as real providers retry; a duplicate delivery
   is answered 409 with the first outcome and changes nothing.

Runs offline in a few seconds; the test suite runs it too.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import httpx
import uvicorn

import ptclisp
from ptclisp.subagent import AgentHost, ScriptedLLM, SubAgent, create_app, sign

SECRET, TOKEN = "demo-webhook-secret", "demo-api-token"
PROGRAM = """```clojure
(let [customer (tool/lookup-customer {:customer_id data/customer_id})
      call     (tool/place-call {:number (:phone customer)
                                 :script "Confirm tomorrow's delivery window"})
      outcome  (await call)]
  (if (:confirmed outcome)
    (return {:customer (:name customer) :delivery (:window outcome)})
    (fail {:customer (:name customer) :reason (:reason outcome)})))
```"""

CUSTOMERS = {7: {"name": "Ada Lovelace", "phone": "+44 20 7946 0001"}}


def lookup_customer(customer_id: int) -> dict:
    """A customer's name and phone number."""
    return CUSTOMERS[customer_id]


class Telephony:
    """A pretend provider: dialing starts a call whose outcome arrives later by webhook."""

    def __init__(self) -> None:
        self.webhook_url = ""
        self.answers: list[int] = []

    def place_call(self, number: str, script: str) -> str:
        """Start a phone call; the outcome is posted to our webhook when the call ends."""
        call_id = f"call-{uuid.uuid4().hex[:12]}"
        print(f"[provider] dialing {number} ({call_id})")
        threading.Thread(target=self._call, args=(call_id,), daemon=True).start()
        return call_id  # becomes the op id, so the webhook can name the op it completes

    def _call(self, call_id: str) -> None:
        time.sleep(0.2)  # the conversation
        outcome = {"status": "completed", "confirmed": True, "window": "09:00-11:00"}
        body = json.dumps({"result": outcome}).encode()
        for _ in range(100):  # providers retry until the receiver accepts
            response = httpx.post(f"{self.webhook_url}/ops/{call_id}", content=body, headers={
                "content-type": "application/json", "x-ptclisp-signature": sign(SECRET, body)})
            if response.status_code != 404:  # 404: not stored yet
                break
            time.sleep(0.05)
        self.answers.append(response.status_code)
        again = httpx.post(f"{self.webhook_url}/ops/{call_id}", content=body, headers={
            "content-type": "application/json", "x-ptclisp-signature": sign(SECRET, body)})
        self.answers.append(again.status_code)  # a duplicate: 409, the first outcome stands


def make_host(telephony: Telephony, store: str) -> AgentHost:
    caller = SubAgent(
        name="caller", prompt="Call customer {{customer_id}} to confirm the delivery window.",
        tools=[ptclisp.tool(lookup_customer),
               ptclisp.Tool("place-call", telephony.place_call, is_async=True,
                            signature="(number :string, script :string) -> "
                                      "{status :string, confirmed :bool, window :string?}")],
        signature="(customer_id :int) -> {customer :string, delivery :string}", max_turns=2,
        llm=ScriptedLLM([PROGRAM], per_conversation=True))
    return AgentHost({"caller": caller}, store=store)


def main() -> int:
    telephony = Telephony()
    with tempfile.TemporaryDirectory() as tmp:
        host = make_host(telephony, f"sqlite:///{Path(tmp) / 'host.db'}")
        app = create_app(host, secret=SECRET, token=TOKEN)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0,
                                               log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        telephony.webhook_url = f"http://127.0.0.1:{port}"
        try:
            run_id = host.submit("caller", {"customer_id": 7})
            pending = host.wait(run_id, 30)
            print(f"[host] run {run_id[:8]} {pending['status']} on "
                  f"{[op['tool'] for op in pending['pending_ops']]}")
            final = host.wait(run_id, 30)
            while final["status"] in ("pending", "running"):
                final = host.wait(run_id, 30)
            while len(telephony.answers) < 2:
                time.sleep(0.05)
        finally:
            server.should_exit = True
            host.close()
    print(f"[provider] webhook answers: {telephony.answers}")
    print("final:", final["status"], json.dumps(final.get("result"), sort_keys=True))
    return 0 if final["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
