"""The HTTP contract over a real server on 127.0.0.1: routes, status codes, signatures, tokens,
and hostile input (each a clear 4xx JSON error that leaves the store unchanged)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ptclisp.subagent import create_app, sign

from ._server import serving, snapshot
from .hosted_agents import Tools, make_host

SECRET, TOKEN = "whsec-test", "tok-test"
AUTH = {"authorization": f"Bearer {TOKEN}"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(store_url: str) -> Iterator[tuple[httpx.Client, Any]]:
    host = make_host(store_url, Tools())
    app = create_app(host, secret=SECRET, token=TOKEN, max_body=4096)
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client, host
    host.close()


def _deliver(client: httpx.Client, op_id: str, payload: Any, *, secret: str = SECRET,
             t: int | None = None, ctype: str = "application/json",
             raw: bytes | None = None) -> httpx.Response:
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"content-type": ctype, "x-ptclisp-signature": sign(secret, body, t)}
    return client.post(f"/ops/{op_id}", content=body, headers=headers)


def _suspended_run(client: httpx.Client) -> tuple[str, str]:
    r = client.post("/runs", json={"agent": "approval", "input": {}}, headers=AUTH)
    assert r.status_code == 202 and r.json()["status"] == "running"
    run_id = r.json()["run_id"]
    body = client.get(f"/runs/{run_id}?wait=20", headers=AUTH).json()
    assert body["status"] == "pending", body
    return run_id, body["pending_ops"][0]["op_id"]


def test_the_happy_path(served: tuple[httpx.Client, Any]) -> None:
    client, _host = served
    run_id, op_id = _suspended_run(client)
    inbox = client.get("/inbox", headers=AUTH).json()["ops"]
    assert [(o["op_id"], o["run_id"], o["tool"]) for o in inbox] == [
        (op_id, run_id, "request-approval")]
    assert set(inbox[0]) >= {"op_id", "run_id", "tool", "args", "since", "deadline"}
    # The suspended program's effects, read from its text (ptclisp.preview): what it will do
    # once the op is answered.
    assert "awaits request-approval" in inbox[0]["effects"]
    assert "send-email at most once" in inbox[0]["effects"]
    r = _deliver(client, op_id, {"result": {"approved": True, "by": "Ada"}})
    assert r.status_code == 200 and r.json()["run_id"] == run_id
    final = client.get(f"/runs/{run_id}?wait=20", headers=AUTH).json()
    assert final["status"] == "ok" and final["result"]["by"] == "Ada"
    assert final["pending_ops"] == []
    dup = _deliver(client, op_id, {"result": {"approved": False, "by": "Bob"}})
    assert dup.status_code == 409
    assert dup.json()["first_outcome"] == {"value": {"approved": True, "by": "Ada"}}
    assert client.get("/", headers={}).status_code == 200  # the page itself holds no data


def test_error_delivery_and_cancellation(served: tuple[httpx.Client, Any]) -> None:
    client, _host = served
    run_id, op_id = _suspended_run(client)
    r = _deliver(client, op_id, {"error": {"message": "line busy", "code": "busy"}})
    assert r.status_code == 200
    final = client.get(f"/runs/{run_id}?wait=20", headers=AUTH).json()
    assert final["status"] == "ok" and final["result"]["by"] == "timeout"  # handled by turn 2
    _second, op2 = _suspended_run(client)
    assert client.post(f"/ops/{op2}/cancel", headers=AUTH).status_code == 200
    assert client.post(f"/ops/{op2}/cancel", headers=AUTH).status_code == 409
    third, _ = _suspended_run(client)
    r = client.post(f"/runs/{third}/cancel", headers=AUTH)
    assert r.json() == {"run_id": third, "status": "cancelled"}
    assert client.get(f"/runs/{third}", headers=AUTH).json()["status"] == "cancelled"
    assert client.post("/runs/nope/cancel", headers=AUTH).status_code == 404


BAD_DELIVERIES = [
    ("malformed json", {"raw": b'{"result": '}, 400, "malformed_json"),
    ("wrong content type", {"ctype": "text/plain"}, 415, "unsupported_media_type"),
    ("not an object", {"raw": b"[1, 2]"}, 422, "invalid_payload"),
    ("both keys", {"payload": {"result": 1, "error": {"message": "x"}}}, 422,
     "invalid_payload"),
    ("wrong result type", {"payload": {"result": {"approved": "yes", "by": 1}}}, 422,
     "pending_invalid_result"),
    ("bad error shape", {"payload": {"error": {"code": "x"}}}, 422, "invalid_delivery"),
    ("oversized body", {"raw": b'{"result": "' + b"x" * 5000 + b'"}'}, 413, "body_too_large"),
    ("bad signature", {"secret": "not-the-secret"}, 401, "bad_signature"),
    ("stale signature", {"t": int(time.time()) - 301}, 401, "stale_signature"),
    ("future signature", {"t": int(time.time()) + 3600}, 401, "stale_signature"),
]


@pytest.mark.parametrize("name,kwargs,status,code", BAD_DELIVERIES,
                         ids=[b[0] for b in BAD_DELIVERIES])
def test_bad_deliveries_are_refused_and_change_nothing(served: tuple[httpx.Client, Any],
                                                       name: str, kwargs: dict[str, Any],
                                                       status: int, code: str) -> None:
    client, host = served
    run_id, op_id = _suspended_run(client)
    before = snapshot(host.store)
    kwargs = dict(kwargs)  # shared by both store parametrizations
    kwargs.setdefault("payload", {"result": {"approved": True, "by": "Ada"}})
    r = _deliver(client, op_id, kwargs.pop("payload"), **kwargs)
    assert (r.status_code, r.headers["content-type"]) == (status, "application/json")
    error = r.json()["error"]
    assert error["code"] == code and error["message"]
    assert snapshot(host.store) == before
    assert client.get(f"/runs/{run_id}", headers=AUTH).json()["status"] == "pending"


def test_more_hostile_requests(served: tuple[httpx.Client, Any]) -> None:
    client, host = served
    run_id, op_id = _suspended_run(client)
    before = snapshot(host.store)
    cases = [
        (client.get("/inbox"), 401, "unauthorized"),
        (client.get("/inbox", headers={"authorization": "Bearer wrong"}), 401, "unauthorized"),
        (client.post("/runs", json={"agent": "approval"}), 401, "unauthorized"),
        (client.get(f"/runs/{run_id}", headers={"authorization": TOKEN}), 401, "unauthorized"),
        (client.post(f"/ops/{op_id}", json={"result": 1}), 401, "bad_signature"),
        (client.post(f"/ops/{op_id}", json={"result": 1},
                     headers={"x-ptclisp-signature": "t=abc,v1=00"}), 401, "bad_signature"),
        (_deliver(client, "no-such-op", {"result": 1}), 404, "pending_unknown_op"),
        (client.get("/runs/no-such-run", headers=AUTH), 404, "unknown_run"),
        (client.post("/runs", json={"agent": "nobody", "input": {}}, headers=AUTH), 404,
         "unknown_agent"),
        (client.post("/runs", json={"agent": "approval", "input": [1]}, headers=AUTH), 422,
         "invalid_payload"),
        (client.post("/runs", content=b"{", headers={**AUTH, "content-type":
                                                       "application/json"}), 400,
         "malformed_json"),
        (client.post("/runs", content=b"agent=x", headers={**AUTH, "content-type":
                                                             "application/x-www-form-urlencoded"}),
         415, "unsupported_media_type"),
        (client.post("/runs", content=b"{" * 5000, headers={**AUTH, "content-type":
                                                              "application/json"}), 413,
         "body_too_large"),
        (client.post(f"/inbox/{op_id}", json={"result": {"approved": True, "by": "x"}}), 401,
         "unauthorized"),
        (client.get(f"/runs/{run_id}?wait=soon", headers=AUTH), 422, "invalid_payload"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), (
            response.request.url, response.text)
    assert snapshot(host.store) == before


def test_the_app_refuses_to_be_built_without_credentials(tmp_path: Path) -> None:
    from ptclisp import PtclispError

    host = make_host(f"sqlite:///{tmp_path / 'x.db'}", Tools())
    for secret, token in ((None, None), ("s", None), (None, "t")):
        with pytest.raises(PtclispError) as err:
            create_app(host, secret=secret, token=token)
        assert err.value.code == "serve_insecure"


def test_serve_cli_refuses_without_credentials(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PTCLISP_WEBHOOK_SECRET", "PTCLISP_TOKEN")}
    proc = subprocess.run([sys.executable, "-m", "ptclisp", "serve", "examples.serve_app:host",
                           "--store", f"sqlite:///{tmp_path / 'x.db'}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and "refusing to start" in proc.stderr
    assert not (tmp_path / "x.db").exists()


def _listening_addresses(port: int) -> set[str]:
    """Local addresses listening on ``port``, from /proc/net/tcp (IPv4, state 0A = LISTEN)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def test_serve_cli_insecure_binds_loopback_only(tmp_path: Path) -> None:
    from ._server import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ptclisp", "serve", "examples.serve_app:host",
                             "--insecure", "--host", "0.0.0.0", "--port", str(port),
                             "--store", f"sqlite:///{tmp_path / 'x.db'}"], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/inbox", timeout=1).json() == {"ops": []}
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert _listening_addresses(port) == {"127.0.0.1"}
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "--insecure binds 127.0.0.1 only" in err and "INSECURE mode" in err
