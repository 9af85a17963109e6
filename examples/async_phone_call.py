"""An async phone call: suspend, store in SQLite, resume from a real webhook.

    python examples/async_phone_call.py

1. The program looks a customer up (sync tool) and places a phone call (async tool): the call
   tool returns an op handle at once and ``(await call)`` suspends the run.
2. The host stores the ``PendingStep`` in SQLite and goes on with its life.
3. A small HTTP server on 127.0.0.1 (a real ``http.server``, random port) receives the telephony
   provider's webhook: ``POST /webhooks/call`` with the call id and outcome. It resumes the stored
   step with that outcome (``resume_stored``: claim, resume, store) — to completion.
4. The "provider" is simulated by a thread that, a moment after the call is placed, POSTs the
   outcome to the webhook (retrying while the step is not stored yet, as real providers retry).

Runs offline in about a second; the test suite runs it too.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import ptclisp

PROGRAM = """
(let [customer (tool/lookup-customer {:customer-id data/customer-id})
      call     (tool/place-call {:number (:phone customer)
                                 :script "Confirm tomorrow's delivery window"})
      _        (println "calling" (:name customer) "at" (:phone customer))
      outcome  (await call)]
  (println "call ended:" (:status outcome))
  (if (:confirmed outcome)
    {:customer (:name customer) :delivery (:window outcome)}
    (fail {:customer (:name customer) :reason (:reason outcome)})))
"""

CUSTOMERS = {7: {"name": "Ada Lovelace", "phone": "+44 20 7946 0001"}}


def lookup_customer(customer_id: int) -> dict:
    """A customer's name and phone number."""
    return CUSTOMERS[customer_id]


class Telephony:
    """A pretend provider: dialing starts a call whose outcome arrives later by webhook."""

    def __init__(self) -> None:
        self.webhook_url = ""

    def place_call(self, number: str, script: str) -> str:
        """Start a phone call; the outcome is posted to our webhook when the call ends."""
        call_id = f"call-{uuid.uuid4().hex[:12]}"
        threading.Thread(target=self._call, args=(call_id, number), daemon=True).start()
        return call_id  # becomes the op id, so the webhook can name the op it completes

    def _call(self, call_id: str, number: str) -> None:
        time.sleep(0.2)  # the conversation
        outcome = {"status": "completed", "confirmed": True, "window": "09:00-11:00"}
        body = json.dumps({"call_id": call_id, "outcome": outcome}).encode()
        for _ in range(50):  # providers retry until the receiver accepts
            request = urllib.request.Request(
                self.webhook_url, data=body, headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    if response.status in (200, 202):
                        return
            except urllib.error.HTTPError as exc:
                if exc.code not in (409, 503):
                    return
            time.sleep(0.05)


def make_tools(telephony: Telephony) -> ptclisp.ToolRegistry:
    return ptclisp.ToolRegistry(
        [
            ptclisp.tool(lookup_customer),
            ptclisp.Tool("place-call", telephony.place_call, is_async=True),
        ]
    )


def webhook_server(store: ptclisp.SQLiteStore, tools: ptclisp.ToolRegistry, done: dict):
    """The receiver: resumes the stored step waiting for the call that just ended."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            try:
                outcome = ptclisp.resume_stored(
                    store, payload["call_id"], payload["outcome"], tools=tools
                )
            except ptclisp.PendingError as exc:
                # not stored yet / being resumed: ask the provider to retry; anything else
                # (a duplicate delivery, a finished step) is acknowledged and dropped
                retry = exc.code in ("pending_unknown_op", "pending_busy")
                self._reply(503 if retry else 200, {"ignored": exc.code})
                return
            if outcome.status == "pending":
                self._reply(202, {"pending": list(outcome.pending_ops)})
                return
            done["result"] = outcome
            done["event"].set()
            self._reply(200, {"status": outcome.status})

        def _reply(self, code: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        store = ptclisp.SQLiteStore(Path(tmp) / "pending.db")
        telephony = Telephony()
        tools = make_tools(telephony)
        done: dict = {"event": threading.Event()}
        server = webhook_server(store, tools, done)
        telephony.webhook_url = f"http://127.0.0.1:{server.server_port}/webhooks/call"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            step = ptclisp.start(PROGRAM, tools=tools, data={"customer-id": 7})
            if step.status != "pending":
                print("unexpected:", step)
                return 1
            step_id = store.save(step)
            print(step.output, end="")
            print(f"suspended: step {step_id} waits for {list(step.pending_ops)}")
            if not done["event"].wait(timeout=30):
                print("no webhook arrived")
                return 1
        finally:
            server.shutdown()
            server.server_close()
        result = done["result"]
        print(result.output.split("\n", 1)[1], end="")  # printed after the resume
        print("final:", result.status, ptclisp.pr_str(result.value))
        print("stored as:", store.list_by_status("done") == [step_id] and "done")
        return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
