"""The LLM clients against real HTTP servers on 127.0.0.1 (OpenAI and Anthropic wire formats)."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest
from wire_servers import WireServer

from ptclisp import HostInputError
from ptclisp.runtime import RateLimiter, Retry
from ptclisp.subagent import (
    AnthropicClient,
    LLMError,
    OpenAIClient,
    ScriptedLLM,
)

FAST = Retry(attempts=3, base_delay=0.01, max_delay=0.05)
MESSAGES = [
    {"role": "system", "content": "You write programs."},
    {"role": "user", "content": "Count to three."},
]


def _client(server: WireServer, **options: object) -> OpenAIClient | AnthropicClient:
    cls = OpenAIClient if server.fmt == "openai" else AnthropicClient
    return cls("test-model", base_url=server.base_url, api_key="sk-test", retry=FAST,
               **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["openai", "anthropic"])
def test_completion_and_usage(fmt: str) -> None:
    with WireServer(fmt, [{"content": "(return 3)",
                           "usage": {"input_tokens": 11, "output_tokens": 4}}]) as server:
        reply = _client(server).complete(MESSAGES)
    assert reply.content == "(return 3)"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (11, 4)
    assert reply.attempts == 1 and reply.duration_s > 0
    request = server.requests[0]
    body = request["body"]
    assert body["model"] == "test-model"
    if fmt == "openai":
        assert request["headers"]["authorization"] == "Bearer sk-test"
        assert body["messages"] == MESSAGES
    else:
        assert request["headers"]["x-api-key"] == "sk-test"
        assert request["headers"]["anthropic-version"] == "2023-06-01"
        assert body["system"] == [{"type": "text", "text": "You write programs.",
                                   "cache_control": {"type": "ephemeral"}}]
        assert body["messages"] == [{"role": "user", "content": "Count to three."}]
        assert body["max_tokens"] == 4096


@pytest.mark.parametrize("fmt", ["openai", "anthropic"])
def test_streaming_calls_on_token(fmt: str) -> None:
    text = "(def x 1)\n(return (+ x 41))"
    with WireServer(fmt, [{"content": text, "usage": {"input_tokens": 9, "output_tokens": 5}}]) \
            as server:
        tokens: list[str] = []
        reply = _client(server, stream=True).complete(MESSAGES, on_token=tokens.append)
    assert server.requests[0]["body"]["stream"] is True
    assert len(tokens) > 1 and "".join(tokens) == text
    assert reply.content == text
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (9, 5)


@pytest.mark.parametrize("fmt", ["openai", "anthropic"])
def test_retries_transient_errors_then_succeeds(fmt: str) -> None:
    script = [{"status": 429, "text": "slow down", "headers": {"retry-after": "0"}},
              {"status": 503, "text": "overloaded"}, "ok"]
    with WireServer(fmt, script) as server:
        reply = _client(server).complete(MESSAGES)
    assert reply.content == "ok"
    assert reply.attempts == 3
    assert len(server.requests) == 3


def test_gives_up_after_the_retry_budget_with_a_coded_error() -> None:
    with WireServer("openai", [{"status": 429, "text": "no"}] * 3) as server:
        with pytest.raises(LLMError) as info:
            _client(server).complete(MESSAGES)
    assert info.value.code == "llm_rate_limited"
    assert info.value.status == 429
    assert "gave up after 3 attempts" in info.value.message
    assert len(server.requests) == 3


def test_client_errors_are_not_retried() -> None:
    with WireServer("anthropic", [{"status": 401, "text": '{"error": "bad key"}'}, "never"]) \
            as server:
        with pytest.raises(LLMError) as info:
            _client(server).complete(MESSAGES)
    assert info.value.status == 401 and "bad key" in info.value.message
    assert len(server.requests) == 1


def test_timeout_is_retried_then_reported() -> None:
    with WireServer("openai", [{"delay": 1.0, "content": "late"}] * 2) as server:
        client = OpenAIClient("m", base_url=server.base_url, timeout_s=0.2,
                              retry=Retry(attempts=2, base_delay=0.01))
        with pytest.raises(LLMError) as info:
            client.complete(MESSAGES)
    assert info.value.code == "llm_timeout"


def test_malformed_reply_is_a_bad_response() -> None:
    with WireServer("openai", [{"raw": "not json"}, {"raw": json.dumps({"choices": []})}]) \
            as server:
        client = _client(server)
        with pytest.raises(LLMError, match="non-JSON") as first:
            client.complete(MESSAGES)
        with pytest.raises(LLMError, match="no choices") as second:
            client.complete(MESSAGES)
    assert first.value.code == second.value.code == "llm_bad_response"


def test_unreachable_endpoint() -> None:
    client = OpenAIClient("m", base_url="http://127.0.0.1:9/v1",
                          retry=Retry(attempts=2, base_delay=0.01))
    with pytest.raises(LLMError) as info:
        client.complete(MESSAGES)
    assert info.value.code == "llm_http_error"


@pytest.mark.parametrize("fmt", ["openai", "anthropic"])
@pytest.mark.parametrize("stream", [False, True])
def test_async_client(fmt: str, stream: bool) -> None:
    script = [{"status": 500, "text": "flaky"}, {"content": "(return :async)",
                                                  "usage": {"input_tokens": 3, "output_tokens": 2}}]
    with WireServer(fmt, script) as server:
        tokens: list[str] = []
        reply = asyncio.run(_client(server, stream=stream).acomplete(MESSAGES,
                                                                     on_token=tokens.append))
    assert reply.content == "(return :async)"
    assert reply.attempts == 2
    assert reply.usage.total_tokens == 5
    assert ("".join(tokens) == reply.content) if stream else tokens == []


def test_retry_delay_backoff_jitter_and_retry_after() -> None:
    policy = Retry(base_delay=1.0, max_delay=5.0, jitter=0.5)
    rng = random.Random(7)
    delays = [policy.delay(n, rng=rng) for n in range(5)]
    for n, d in enumerate(delays):
        backoff = min(5.0, 2.0**n)
        assert backoff * 0.5 <= d <= backoff * 1.5
    assert policy.delay(0, "3") == 3.0
    assert policy.delay(0, "60") == 5.0
    assert 0.5 <= policy.delay(0, "Wed, 21 Oct 2015 07:28:00 GMT") <= 1.5


def test_rate_limiter_token_bucket() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(1, burst=2, clock=lambda: now[0], sleep=sleep)
    assert limiter.acquire() == 0 and limiter.acquire() == 0
    assert limiter.acquire() == pytest.approx(1.0)
    now[0] += 5.0
    assert limiter.acquire() == 0
    assert slept == [pytest.approx(1.0)]
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_rate_limiter_paces_the_client() -> None:
    waits: list[float] = []
    limiter = RateLimiter(10, burst=1, clock=lambda: 0.0, sleep=waits.append)  # time stands still
    with WireServer("openai", ["a", "b"]) as server:
        client = _client(server, rate_limiter=limiter)
        client.complete(MESSAGES)
        client.complete(MESSAGES)
    assert waits == [pytest.approx(0.1)]
    assert len(server.requests) == 2


def test_scripted_llm_replays_and_records(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"model": "recorded", "replies": [
        "(return 1)", {"content": "(return 2)", "usage": {"input_tokens": 7, "output_tokens": 3}}]}))
    llm = ScriptedLLM.from_file(path)
    tokens: list[str] = []
    first = llm.complete(MESSAGES, on_token=tokens.append)
    assert first.content == "(return 1)" and "".join(tokens) == "(return 1)"
    assert first.usage.estimated and first.usage.input_tokens > 0
    second = asyncio.run(llm.acomplete(MESSAGES))
    assert (second.usage.input_tokens, second.usage.estimated) == (7, False)
    assert llm.calls == [MESSAGES, MESSAGES] and llm.remaining == 0
    with pytest.raises(LLMError) as info:
        llm.complete(MESSAGES)
    assert info.value.code == "script_exhausted"
    with pytest.raises(HostInputError, match="reply 0 must be a string or a dict"):
        ScriptedLLM([{"text": "no content key"}])


@pytest.mark.parametrize("fmt", ["openai", "anthropic"])
def test_a_broken_stream_is_retried_only_before_the_first_token(fmt: str) -> None:
    text = "(return (+ 1 2 3 4 5 6 7 8))"
    cut_early = {"content": text, "cut": 0}
    cut_late = {"content": text, "cut": 3}
    with WireServer(fmt, [cut_early, text, cut_late, text]) as server:
        client = _client(server, stream=True)
        tokens: list[str] = []
        assert client.complete(MESSAGES, on_token=tokens.append).content == text
        assert "".join(tokens) == text  # the retry started from nothing: no repeated pieces
        tokens.clear()
        with pytest.raises(LLMError) as info:
            client.complete(MESSAGES, on_token=tokens.append)
    assert info.value.code == "llm_http_error" and "stream broke" in info.value.message
    assert tokens  # some pieces had been delivered: a retry would have repeated them
    assert len(server.requests) == 3
