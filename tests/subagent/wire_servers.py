"""Real HTTP servers on 127.0.0.1 that speak the OpenAI chat-completions and Anthropic messages
wire formats, answering from a script. Used by the LLM-client and agent-loop tests.

A script entry is the reply text, or a dict: ``{"content": str}``, ``{"status": 429,
"headers": {...}, "text": "..."}`` (an error reply), ``{"delay": s, ...}`` (sleep first),
``{"raw": "..."}`` (send this body verbatim), ``{"content": ..., "cut": n}`` (a stream that
breaks after n events), ``{"content": ..., "usage_raw": {...}}`` (extra fields in the wire
usage object, e.g. cached-token counts), ``{"content": ..., "multiline": true}`` (each streamed
event's JSON spread over several ``data:`` lines, as the SSE format allows).
Requests (path, headers, JSON body) are recorded.
Streaming requests (``"stream": true``) get server-sent events in the format's own shape.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WireServer:
    """A scripted chat server. ``fmt`` is ``"openai"`` or ``"anthropic"``."""

    def __init__(self, fmt: str, script: list[Any] | None = None) -> None:
        assert fmt in ("openai", "anthropic")
        self.fmt = fmt
        self.script: list[Any] = list(script or [])
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        root = f"http://{host}:{port}"
        return root + "/v1" if self.fmt == "openai" else root

    def add(self, *entries: Any) -> None:
        with self._lock:
            self.script.extend(entries)

    def next_entry(self, body: dict[str, Any], path: str, headers: dict[str, str],
                   peer: Any = None) -> Any:
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "body": body, "peer": peer})
            if not self.script:
                return {"status": 500, "text": "script exhausted"}
            return self.script.pop(0)

    @property
    def messages_seen(self) -> list[list[dict[str, Any]]]:
        return [r["body"].get("messages", []) for r in self.requests]

    def __enter__(self) -> WireServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler_for(server: WireServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # small writes must not wait for a delayed ACK

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            expected = "/v1/chat/completions" if server.fmt == "openai" else "/v1/messages"
            if self.path != expected:
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            entry = server.next_entry(body, self.path, headers, self.client_address)
            if isinstance(entry, str):
                entry = {"content": entry}
            if entry.get("delay"):
                time.sleep(entry["delay"])
            if "status" in entry:
                self._send(entry["status"], entry.get("text", "error"), entry.get("headers"))
            elif "raw" in entry:
                self._send(200, entry["raw"])
            elif body.get("stream"):
                self._stream(entry, body)
            else:
                self._send(200, _reply(server.fmt, entry, body))

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload)
            raw = data.encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)

        def _stream(self, entry: dict[str, Any], body: dict[str, Any]) -> None:
            """Chunked server-sent events; ``"cut": n`` drops the connection after n events."""
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            events = _events(server.fmt, entry, body)
            if entry.get("multiline"):
                events = map(_multiline, events)
            for n, line in enumerate(events):
                if n == entry.get("cut", -1):
                    self.wfile.write(b"ff\r\npartial")  # a chunk that never ends
                    self.wfile.flush()
                    self.close_connection = True
                    return
                data = line.encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler


def _usage_counts(entry: dict[str, Any], body: dict[str, Any]) -> tuple[int, int]:
    usage = entry.get("usage") or {}
    prompt = usage.get("input_tokens", len(json.dumps(body.get("messages", []))) // 4)
    return int(prompt), int(usage.get("output_tokens", max(1, len(entry["content"]) // 4)))


def _reply(fmt: str, entry: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    prompt, completion = _usage_counts(entry, body)
    if fmt == "openai":
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": body.get("model"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": entry["content"]}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion, **entry.get("usage_raw", {})},
        }
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": body.get("model"),
        "content": [{"type": "text", "text": entry["content"]}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": prompt, "output_tokens": completion,
                  **entry.get("usage_raw", {})},
    }


def _multiline(event: str) -> str:
    """The same event with its JSON data pretty-printed over several ``data:`` lines."""
    lines = []
    for line in event.rstrip("\n").split("\n"):
        if line.startswith("data: {"):
            pretty = json.dumps(json.loads(line[6:]), indent=1)
            lines.extend(f"data: {part}" for part in pretty.split("\n"))
        else:
            lines.append(line)
    return "\n".join(lines) + "\n\n"


def _chunks(text: str, size: int = 7) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def _events(fmt: str, entry: dict[str, Any], body: dict[str, Any]) -> Iterator[str]:
    prompt, completion = _usage_counts(entry, body)
    model = body.get("model")
    if fmt == "openai":
        for piece in _chunks(entry["content"]):
            chunk = {"object": "chat.completion.chunk", "model": model,
                     "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            yield f"data: {json.dumps(chunk)}\n\n"
        done = {"object": "chat.completion.chunk", "model": model,
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        yield f"data: {json.dumps(done)}\n\n"
        usage = {"object": "chat.completion.chunk", "model": model, "choices": [],
                 "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                           **entry.get("usage_raw", {})}}
        yield f"data: {json.dumps(usage)}\n\n"
        yield "data: [DONE]\n\n"
        return
    start = {"type": "message_start", "message": {"model": model, "usage": {
        "input_tokens": prompt, "output_tokens": 1, **entry.get("usage_raw", {})}}}
    yield f"event: message_start\ndata: {json.dumps(start)}\n\n"
    yield ('event: content_block_start\ndata: {"type": "content_block_start", "index": 0, '
           '"content_block": {"type": "text", "text": ""}}\n\n')
    for piece in _chunks(entry["content"]):
        delta = {"type": "content_block_delta", "index": 0,
                 "delta": {"type": "text_delta", "text": piece}}
        yield f"event: content_block_delta\ndata: {json.dumps(delta)}\n\n"
    yield 'event: content_block_stop\ndata: {"type": "content_block_stop", "index": 0}\n\n'
    end = {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
           "usage": {"output_tokens": completion}}
    yield f"event: message_delta\ndata: {json.dumps(end)}\n\n"
    yield 'event: message_stop\ndata: {"type": "message_stop"}\n\n'
