"""The HTTP machinery shared by the OpenAI-compatible and Anthropic clients.

A subclass says how to build a request body, where to send it, how to read a response and how
to read a stream of server-sent events. ``HTTPChatClient`` does the rest the same way for both,
sync and async: pooled connections, rate limiting, timeouts, retries with backoff and jitter
(logged on the ``ptclisp.subagent._http_llm`` logger), streaming with ``on_token`` (events parsed by
``httpx-sse``), token usage, cost (``subagent.PRICES``), timing.

Connections are pooled: one ``httpx.Client`` for ``complete`` and one ``httpx.AsyncClient`` for
``acomplete`` (per event loop: an async client cannot outlive its loop), created on first use.
``with client:`` / ``async with client:`` (or ``close()`` / ``aclose()``) release them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
from httpx_sse import EventSource, ServerSentEvent, SSEError

from ptclisp.runtime import CircuitBreaker, CircuitOpen, RateLimiter, Retry

from ._errors import LLMError
from ._llm import LLMResponse, Message, TokenCallback, Usage
from ._pricing import cost_of

logger = logging.getLogger(__name__)

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
        circuit_breaker: CircuitBreaker | None = None,
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
        self.circuit_breaker = circuit_breaker
        """Optional: after its threshold of consecutive failed calls (retries spent), calls fail
        at once with ``llm_circuit_open`` until its reset timeout passes."""
        self.stream = stream
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.extra_body = extra_body or {}
        self.extra_headers = headers or {}
        self._transport = transport
        self._async_transport = async_transport
        self._client: httpx.Client | None = None
        self._aclient: httpx.AsyncClient | None = None
        self._aclient_loop: asyncio.AbstractEventLoop | None = None

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
        if self.circuit_breaker is None:
            return self._complete(messages, on_token)
        try:
            return self.circuit_breaker.call(self._complete, messages, on_token)
        except CircuitOpen as exc:
            raise _circuit_open(self, exc) from None

    def _complete(self, messages: list[Message], on_token: TokenCallback | None) -> LLMResponse:
        started = time.perf_counter()
        body = self._body(messages, self.stream)
        for attempt in range(self.retry.attempts):
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            try:
                response = self._send(body, on_token)
            except _Retryable as exc:
                if attempt == self.retry.attempts - 1:
                    logger.warning("%s: giving up after %d attempts: %s", self, attempt + 1,
                                   exc.message)
                    raise exc.final(attempt + 1) from None
                delay = self.retry.delay(attempt, exc.retry_after)
                _log_retry(self, attempt, delay, exc)
                time.sleep(delay)
                continue
            return self._finish(response, started, attempt + 1)
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
                    for event, data in _sse(_events(r)):
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
        """Close the pooled sync connections (the client stays usable: a new pool opens)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        """Close the pooled async connections (and the sync ones)."""
        client, loop = self._aclient, self._aclient_loop
        self._aclient = self._aclient_loop = None
        if client is not None and loop is asyncio.get_running_loop():
            await client.aclose()  # a pool of a finished loop cannot be closed from this one
        self.close()

    def __enter__(self) -> HTTPChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> HTTPChatClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _async_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._aclient is None or self._aclient_loop is not loop or self._aclient.is_closed:
            # A pool belongs to the loop it was made on; one from a finished loop is dropped.
            self._aclient = httpx.AsyncClient(timeout=self.timeout,
                                              transport=self._async_transport)
            self._aclient_loop = loop
        return self._aclient

    # ------------------------------------------------------------ async

    async def acomplete(self, messages: list[Message], *,
                        on_token: TokenCallback | None = None) -> LLMResponse:
        """The async twin of ``complete`` (on the pooled ``httpx.AsyncClient``)."""
        if self.circuit_breaker is None:
            return await self._acomplete(messages, on_token)
        try:
            return await self.circuit_breaker.acall(self._acomplete, messages, on_token)
        except CircuitOpen as exc:
            raise _circuit_open(self, exc) from None

    async def _acomplete(self, messages: list[Message], on_token: TokenCallback | None
                         ) -> LLMResponse:
        started = time.perf_counter()
        body = self._body(messages, self.stream)
        client = self._async_client()
        for attempt in range(self.retry.attempts):
            if self.rate_limiter is not None:
                await self.rate_limiter.aacquire()
            try:
                response = await self._asend(client, body, on_token)
            except _Retryable as exc:
                if attempt == self.retry.attempts - 1:
                    logger.warning("%s: giving up after %d attempts: %s", self, attempt + 1,
                                   exc.message)
                    raise exc.final(attempt + 1) from None
                delay = self.retry.delay(attempt, exc.retry_after)
                _log_retry(self, attempt, delay, exc)
                await asyncio.sleep(delay)
                continue
            return self._finish(response, started, attempt + 1)
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
                    async for event, data in _asse(_aevents(r)):
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

    def _finish(self, response: LLMResponse, started: float, attempts: int) -> LLMResponse:
        response.duration_s = time.perf_counter() - started
        response.attempts = attempts
        if response.usage.cost_usd is None:
            response.usage.cost_usd = cost_of(response.model or self.model, response.usage)
        return response

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, base_url={self.base_url!r})"


def _circuit_open(client: HTTPChatClient, exc: CircuitOpen) -> LLMError:
    logger.warning("%s: call refused, %s", client, exc.message)
    return LLMError(f"{client.name} endpoint {client.base_url}: {exc.message}",
                    code="llm_circuit_open", hint=exc.hint)


def _log_retry(client: HTTPChatClient, attempt: int, delay: float, exc: _Retryable) -> None:
    logger.warning("%s: attempt %d failed (%s: %s); retrying in %.2fs", client, attempt + 1,
                   exc.code, exc.message, delay)


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


def _events(response: httpx.Response) -> Iterator[ServerSentEvent]:
    """The response's server-sent events (httpx-sse: multi-line ``data:`` fields join)."""
    try:
        yield from EventSource(response).iter_sse()
    except SSEError as exc:
        raise LLMError(f"not an event stream: {exc}", code="llm_bad_response") from None


async def _aevents(response: httpx.Response) -> AsyncIterator[ServerSentEvent]:
    try:
        async for sse in EventSource(response).aiter_sse():
            yield sse
    except SSEError as exc:
        raise LLMError(f"not an event stream: {exc}", code="llm_bad_response") from None


def _sse(events: Iterator[ServerSentEvent]) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """Events as ``(event name or None, JSON data)`` up to ``data: [DONE]``; the stream is read
    to its end (so its connection goes back to the pool)."""
    done = False
    for sse in events:
        parsed = None if done else _parse_event(sse)
        if parsed is None:
            done = True
        elif parsed[1] is not None:
            yield parsed[0], parsed[1]


async def _asse(events: AsyncIterator[ServerSentEvent]
                ) -> AsyncIterator[tuple[str | None, dict[str, Any]]]:
    done = False
    async for sse in events:
        parsed = None if done else _parse_event(sse)
        if parsed is None:
            done = True
        elif parsed[1] is not None:
            yield parsed[0], parsed[1]


def _parse_event(sse: ServerSentEvent) -> tuple[str | None, dict[str, Any] | None] | None:
    """None at ``[DONE]``; ``(name, None)`` for an event without data (a comment, a ping)."""
    payload = sse.data.strip()
    if payload == "[DONE]":
        return None
    name = sse.event if sse.event and sse.event != "message" else None
    return name, (_event_data(payload) if payload else None)


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
