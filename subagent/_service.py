"""The HTTP face of an ``AgentHost``: a Starlette ASGI app (the ``[serve]`` extra).

Routes (JSON in and out; errors are ``{"error": {"code", "message", "hint"}}``):

    GET  /                      the inbox page (HTML; answers through /inbox/{op_id})
    POST /runs                  {"agent", "input"?} -> 202 {"run_id", "status"}
    GET  /runs/{run_id}         {"run_id", "status", "result"?, "error"?, "pending_ops"}
                                ?wait=SECONDS waits for the run to finish or suspend
    GET  /inbox                 {"ops": [{"op_id", "run_id", "tool", "args", "since", "deadline"}]}
    POST /ops/{op_id}           {"result": ...} | {"error": {"message", "code"?}} -> 200
                                {"run_id", "status"}; duplicate 409 with the first outcome
    POST /inbox/{op_id}         the same delivery, for the inbox page (Bearer token, no signature)
    POST /runs/{run_id}/cancel, POST /ops/{op_id}/cancel

Security: ``POST /ops/{op_id}`` needs ``X-Ptclisp-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>">`` (the webhook secret; timestamps older than ``tolerance_s`` are refused); every
other route except ``GET /`` needs ``Authorization: Bearer <token>``. Both are checked before the
body is parsed. Bodies over ``max_body`` bytes get 413.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ptclisp import PtclispError

from ._host import AgentHost, op_json
from ._inbox_page import INBOX_HTML

__all__ = ["create_app", "sign"]

Handler = Callable[[Request], Awaitable[Response]]


def sign(secret: str | bytes, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-Ptclisp-Signature`` header value for ``body`` (what a webhook sender computes)."""
    key = secret.encode() if isinstance(secret, str) else secret
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str, hint: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.hint = status, code, message, hint
        self.extra = extra or {}

    def response(self) -> JSONResponse:
        body = {"error": {"code": self.code, "message": self.message, "hint": self.hint}}
        return JSONResponse({**body, **self.extra}, status_code=self.status)


_STATUS_BY_CODE = {"pending_unknown_op": 404, "unknown_run": 404, "unknown_agent": 404,
                   "run_conflict": 409,
                   "pending_invalid_result": 422, "invalid_delivery": 422, "invalid_input": 422}


def create_app(host: AgentHost, *, secret: str | bytes | None = None, token: str | None = None,
               insecure: bool = False, max_body: int = 1 << 20, tolerance_s: float = 300.0,
               start_host: bool = True) -> Starlette:
    """The ASGI app. Without ``secret``/``token`` it refuses to build unless ``insecure``."""
    if not insecure and (not secret or not token):
        missing = " and ".join(n for n, v in (("a webhook secret", secret), ("a token", token))
                               if not v)
        raise PtclispError(f"refusing to serve without {missing}", code="serve_insecure",
                           hint="pass --secret/--token (or PTCLISP_WEBHOOK_SECRET/PTCLISP_TOKEN),"
                                " or --insecure for a local trial on 127.0.0.1")
    key = secret.encode() if isinstance(secret, str) else secret

    async def body_of(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            raise _Refused(413, "body_too_large", f"the body exceeds {max_body} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                raise _Refused(413, "body_too_large", f"the body exceeds {max_body} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def check_token(request: Request) -> None:
        if token is None:
            return
        given = request.headers.get("authorization", "")
        if not given.startswith("Bearer ") or not hmac.compare_digest(
                given[7:].strip().encode(), token.encode()):
            raise _Refused(401, "unauthorized", "missing or invalid bearer token",
                           "send Authorization: Bearer <token>")

    def check_signature(request: Request, raw: bytes) -> None:
        if key is None:
            return
        header = request.headers.get("x-ptclisp-signature", "")
        parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
        stamps = [v for k, v in parts if k.strip() == "t"]
        macs = [v.strip() for k, v in parts if k.strip() == "v1"]
        if len(stamps) != 1 or not stamps[0].strip().isdigit() or not macs:
            raise _Refused(401, "bad_signature", "missing or malformed X-Ptclisp-Signature",
                           "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>'>")
        t = int(stamps[0])
        if abs(time.time() - t) > tolerance_s:
            raise _Refused(401, "stale_signature", "the signature timestamp is outside the "
                           f"{int(tolerance_s)} s window", "sign each delivery when sending it")
        expected = hmac.new(key, f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
        if not any(hmac.compare_digest(expected, m) for m in macs):
            raise _Refused(401, "bad_signature", "the signature does not match the body",
                           "HMAC-SHA256 with the webhook secret over '<t>.<raw body>'")

    def json_of(request: Request, raw: bytes) -> dict[str, Any]:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise _Refused(415, "unsupported_media_type",
                           f"expected content-type application/json, got {ctype or 'none'}")
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise _Refused(400, "malformed_json", f"the body is not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise _Refused(422, "invalid_payload", "the body must be a JSON object")
        return value

    def guarded(handler: Handler) -> Handler:
        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except _Refused as exc:
                return exc.response()
            except PtclispError as exc:
                status = _STATUS_BY_CODE.get(exc.code, 400)
                return _Refused(status, exc.code, exc.message, exc.hint).response()
        return run

    async def submit(request: Request) -> Response:
        check_token(request)
        body = json_of(request, await body_of(request))
        agent, data, given = body.get("agent"), body.get("input", {}), body.get("run_id")
        if (not isinstance(agent, str) or not isinstance(data, dict)
                or set(body) - {"agent", "input", "run_id"}
                or not (given is None or (isinstance(given, str) and 0 < len(given) <= 100))):
            raise _Refused(422, "invalid_payload",
                           'expected {"agent": NAME, "input": {...}, "run_id"?: ID}')
        run_id = await run_in_threadpool(lambda: host.submit(agent, data, run_id=given))
        return JSONResponse({"run_id": run_id, "status": "running"}, status_code=202)

    async def get_run(request: Request) -> Response:
        check_token(request)
        wait = request.query_params.get("wait")
        run_id = request.path_params["run_id"]
        if wait:
            try:
                seconds = min(max(float(wait), 0.0), 60.0)
            except ValueError:
                raise _Refused(422, "invalid_payload", "wait must be a number of seconds"
                               ) from None
            return JSONResponse(await run_in_threadpool(host.wait, run_id, seconds))
        return JSONResponse(await run_in_threadpool(host.status, run_id))

    async def inbox(request: Request) -> Response:
        check_token(request)
        ops = await run_in_threadpool(host.inbox)
        now = time.time()
        effects = {run_id: await run_in_threadpool(host.effects, run_id)
                   for run_id in {op.run_id for op in ops}}
        return JSONResponse({"ops": [{**op_json(op), "age_s": round(now - op.since, 1),
                                      "effects": effects[op.run_id]} for op in ops]})

    async def deliver(request: Request, signed: bool) -> Response:
        raw = await body_of(request) if signed else b""
        if signed:
            check_signature(request, raw)
        else:
            check_token(request)
            raw = await body_of(request)
        body = json_of(request, raw)
        if set(body) not in ({"result"}, {"error"}):
            raise _Refused(422, "invalid_payload",
                           'expected {"result": ...} or {"error": {"message", "code"?}}')
        op_id = request.path_params["op_id"]
        done = await run_in_threadpool(lambda: host.deliver(op_id, body.get("result"),
                                                            error=body.get("error")))
        reply = {"run_id": done["run_id"], "status": done["status"]}
        if not done["accepted"]:
            raise _Refused(409, "duplicate_delivery", f"op {op_id} already has an outcome",
                           "deliveries are idempotent: the first outcome stands",
                           {**reply, "first_outcome": done["outcome"]})
        return JSONResponse(reply)

    async def deliver_signed(request: Request) -> Response:
        return await deliver(request, signed=True)

    async def deliver_inbox(request: Request) -> Response:
        return await deliver(request, signed=False)

    async def cancel_run(request: Request) -> Response:
        check_token(request)
        run_id = request.path_params["run_id"]
        status = await run_in_threadpool(host.cancel_run, run_id)
        return JSONResponse({"run_id": run_id, "status": status})

    async def cancel_op(request: Request) -> Response:
        check_token(request)
        op_id = request.path_params["op_id"]
        done = await run_in_threadpool(host.cancel_op, op_id)
        if not done["accepted"]:
            raise _Refused(409, "duplicate_delivery", f"op {op_id} already has an outcome",
                           None, {"run_id": done["run_id"], "status": done["status"],
                                  "first_outcome": done["outcome"]})
        return JSONResponse({"run_id": done["run_id"], "status": done["status"]})

    async def page(request: Request) -> Response:
        return HTMLResponse(INBOX_HTML)

    routes = [
        Route("/", guarded(page), methods=["GET"]),
        Route("/runs", guarded(submit), methods=["POST"]),
        Route("/runs/{run_id}", guarded(get_run), methods=["GET"]),
        Route("/runs/{run_id}/cancel", guarded(cancel_run), methods=["POST"]),
        Route("/inbox", guarded(inbox), methods=["GET"]),
        Route("/inbox/{op_id}", guarded(deliver_inbox), methods=["POST"]),
        Route("/ops/{op_id}", guarded(deliver_signed), methods=["POST"]),
        Route("/ops/{op_id}/cancel", guarded(cancel_op), methods=["POST"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if start_host:
            await run_in_threadpool(host.start)
        yield
        if start_host:
            await run_in_threadpool(host.stop, wait=False)

    return Starlette(routes=routes, lifespan=lifespan)
