"""The HTTP machinery shared by the OpenAI-compatible and Anthropic clients.

A wire format (``_WireFormat`` subclass) says how to build a request body, where to send it,
how to read a response and how to read a stream of server-sent events. ``HTTPChatClient`` does the
rest the same way for both, sync and async: rate limiting, timeouts, retries with backoff and
jitter, streaming with ``on_token``, token usage, timing.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from ptclisp.runtime import RateLimiter, Retry

from ._errors import LLMError
from ._llm import LLMResponse, Message, TokenCallback, Usage

__all__ = ["HTTPChatClient", "StreamState"]


class StreamState:
    """What a stream has delivered so far."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.usage = Usage(requests=1)
        self.model: str | None = None
        self.finish_reason: str | None = None

    def response(self) -> LLMResponse:
        return LLMResponse("".join(self.parts), self.usage, self.model, self.finish_reason)


DEFAULT_RETRY = Retry(attempts=4, base_delay=0.5, max_delay=20.0, jitter=0.5)
"""LLM calls: 3 retries of transient failures, 0.5 s doubling up to 20 s (``Retry-After`` first)."""


class HTTPChatClient:
    """Base of the HTTP clients. Subclasses define the wire format (the ``_``-methods below)."""

    name = "http"
    default_base_url = ""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        retry: Retry | None = None,
        rate_limiter: RateLimiter | None = None,
        stream: bool = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
        extra_body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.model = model
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.api_key = api_key
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))
        self.retry = retry or DEFAULT_RETRY
        self.rate_limiter = rate_limiter
        self.stream = stream
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.extra_body = extra_body or {}
        self.extra_headers = headers or {}
        self._transport = transport
        self._async_transport = async_transport
        self._client: httpx.Client | None = None

    # ------------------------------------------------------------ wire format (subclasses)

    def _url(self) -> str:
        raise NotImplementedError

    def _headers(self) -> dict[str, str]:
        raise NotImplementedError

    def _body(self, messages: list[Message], stream: bool) -> dict[str, Any]:
        raise NotImplementedError

    def _parse(self, data: dict[str, Any]) -> LLMResponse:
        raise NotImplementedError

    def _on_event(self, event: str | None, data: dict[str, Any], state: StreamState,
                  on_token: TokenCallback | None) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------ sync

    def complete(self, messages: list[Message], *, on_token: TokenCallback | None = None
                 ) -> LLMResponse:
        """One completion; retries transient failures. Raises ``LLMError``."""
        started = time.perf_counter()
        body = self._body(messages, self.stream)
        for attempt in range(self.retry.attempts):
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            try:
                response = self._send(body, on_token)
            except _Retryable as exc:
                if attempt == self.retry.attempts - 1:
                    raise exc.final(attempt + 1) from None
                time.sleep(self.retry.delay(attempt, exc.retry_after))
                continue
            return _finish(response, started, attempt + 1)
        raise AssertionError("unreachable")

    def _send(self, body: dict[str, Any], on_token: TokenCallback | None) -> LLMResponse:
        client = self._sync_client()
        try:
            if not body.get("stream"):
                reply = client.post(self._url(), json=body, headers=self._all_headers())
                _check(reply)
                return self._parse(_json(reply))
            state = StreamState()
            with client.stream("POST", self._url(), json=body, headers=self._all_headers()) as r:
                if r.status_code >= 400:
                    r.read()
                _check(r)
                try:
                    for event, data in _sse(r.iter_lines()):
                        self._on_event(event, data, state, on_token)
                except httpx.TransportError as exc:
                    raise _broken_stream(state, exc) from None
            return state.response()
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out after {self.timeout.read}s ({type(exc).__name__})",
                             "llm_timeout") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"cannot reach {self.base_url}: {exc}", "llm_http_error") from None

    def _sync_client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout, transport=self._transport)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # ------------------------------------------------------------ async

    async def acomplete(self, messages: list[Message], *,
                        on_token: TokenCallback | None = None) -> LLMResponse:
        """The async twin of ``complete`` (a fresh ``httpx.AsyncClient`` per call)."""
        import asyncio

        started = time.perf_counter()
        body = self._body(messages, self.stream)
        async with httpx.AsyncClient(timeout=self.timeout, transport=self._async_transport) as c:
            for attempt in range(self.retry.attempts):
                if self.rate_limiter is not None:
                    await self.rate_limiter.aacquire()
                try:
                    response = await self._asend(c, body, on_token)
                except _Retryable as exc:
                    if attempt == self.retry.attempts - 1:
                        raise exc.final(attempt + 1) from None
                    await asyncio.sleep(self.retry.delay(attempt, exc.retry_after))
                    continue
                return _finish(response, started, attempt + 1)
        raise AssertionError("unreachable")

    async def _asend(self, client: httpx.AsyncClient, body: dict[str, Any],
                     on_token: TokenCallback | None) -> LLMResponse:
        try:
            if not body.get("stream"):
                reply = await client.post(self._url(), json=body, headers=self._all_headers())
                _check(reply)
                return self._parse(_json(reply))
            state = StreamState()
            async with client.stream("POST", self._url(), json=body,
                                     headers=self._all_headers()) as r:
                if r.status_code >= 400:
                    await r.aread()
                _check(r)
                try:
                    async for event, data in _asse(r.aiter_lines()):
                        self._on_event(event, data, state, on_token)
                except httpx.TransportError as exc:
                    raise _broken_stream(state, exc) from None
            return state.response()
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out after {self.timeout.read}s ({type(exc).__name__})",
                             "llm_timeout") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"cannot reach {self.base_url}: {exc}", "llm_http_error") from None

    # ------------------------------------------------------------ shared

    def _all_headers(self) -> dict[str, str]:
        return {"content-type": "application/json", **self._headers(), **self.extra_headers}

    def _common_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.temperature is not None:
            options["temperature"] = self.temperature
        return options

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, base_url={self.base_url!r})"


class _Retryable(Exception):
    """A transient failure; becomes an ``LLMError`` when the retries are spent."""

    def __init__(self, message: str, code: str, status: int | None = None,
                 retry_after: str | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.status, self.retry_after = message, code, status, retry_after

    def final(self, attempts: int) -> LLMError:
        return LLMError(
            f"{self.message} (gave up after {attempts} attempt{'s' if attempts > 1 else ''})",
            code=self.code,
            status=self.status,
            hint="check the endpoint, or raise the client's timeout_s / retry policy",
        )


_RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
"""Transient HTTP statuses: retried, as are connection errors and timeouts."""


def _broken_stream(state: StreamState, exc: Exception) -> Exception:
    """A stream cut off: retry only if no token was delivered yet (else they would repeat)."""
    if not state.parts:
        raise exc
    return LLMError(f"the stream broke after {len(state.parts)} pieces: {exc}",
                    code="llm_http_error", hint="the partial reply was discarded")


def _check(reply: httpx.Response) -> None:
    status = reply.status_code
    if status < 400:
        return
    text = reply.text[:500]
    if status in _RETRY_STATUSES:
        code = "llm_rate_limited" if status == 429 else "llm_http_error"
        raise _Retryable(f"HTTP {status} from {reply.request.url}: {text}", code, status,
                         reply.headers.get("retry-after"))
    raise LLMError(f"HTTP {status} from {reply.request.url}: {text}", code="llm_http_error",
                   status=status, hint="a client error: check the model name, API key and body")


def _json(reply: httpx.Response) -> dict[str, Any]:
    try:
        data = reply.json()
    except ValueError:
        raise LLMError(f"the LLM endpoint answered with non-JSON: {reply.text[:200]!r}",
                       code="llm_bad_response") from None
    if not isinstance(data, dict):
        raise LLMError("the LLM endpoint answered with a non-object", code="llm_bad_response")
    return data


def _finish(response: LLMResponse, started: float, attempts: int) -> LLMResponse:
    response.duration_s = time.perf_counter() - started
    response.attempts = attempts
    return response


def _sse(lines: Iterator[str]) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """Server-sent events as ``(event name, JSON data)``; stops at ``data: [DONE]``."""
    event: str | None = None
    for line in lines:
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            payload = line[5:].strip()
            if payload == "[DONE]":
                return
            yield event, _event_data(payload)
            event = None


async def _asse(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str | None, dict[str, Any]]]:
    event: str | None = None
    async for line in lines:
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            payload = line[5:].strip()
            if payload == "[DONE]":
                return
            yield event, _event_data(payload)
            event = None


def _event_data(payload: str) -> dict[str, Any]:
    try:
        data = json.loads(payload)
    except ValueError:
        raise LLMError(f"malformed stream event: {payload[:200]!r}",
                       code="llm_bad_response") from None
    if not isinstance(data, dict):
        raise LLMError(f"malformed stream event: {payload[:200]!r}", code="llm_bad_response")
    if data.get("type") == "error" or set(data) == {"error"}:
        raise LLMError(f"the LLM stream reported an error: {payload[:300]}", code="llm_error")
    return data
