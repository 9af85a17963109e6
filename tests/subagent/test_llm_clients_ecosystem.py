"""LLM clients against real local HTTP servers: pooled connections and context managers,
multi-line SSE events (httpx-sse), prompt caching, cached tokens and cost, reasoning models,
retry logging."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from wire_servers import WireServer

from ptclisp import HostInputError
from ptclisp.runtime import Retry
from ptclisp.subagent import (
    AnthropicClient,
    OpenAIClient,
    Price,
    Usage,
    price_for,
    register_price,
)

MESSAGES = [{"role": "system", "content": "You write ptclisp. " * 50},
            {"role": "user", "content": "add 1 and 2"}]
FAST = Retry(attempts=3, base_delay=0.01, max_delay=0.02)
REPLY = "```clojure\n(return (+ 1 2))\n```\nThat adds them."


def client(server: WireServer, model: str = "test-model", **options: Any) -> Any:
    cls = OpenAIClient if server.fmt == "openai" else AnthropicClient
    return cls(model, base_url=server.base_url, api_key="k", retry=FAST, **options)


@pytest.mark.parametrize("fmt", ["openai", "anthropic"])
def test_sync_calls_share_one_pooled_connection(fmt: str) -> None:
    with WireServer(fmt, [REPLY, REPLY]) as server, client(server) as llm:
        assert llm.complete(MESSAGES).content == REPLY
        assert llm.complete(MESSAGES).content == REPLY
        peers = [r["peer"] for r in server.requests]
    assert peers[0] == peers[1]  # the same client port: one kept-alive connection
    assert llm._client is None  # `with` closed the pool


@pytest.mark.parametrize("fmt", ["openai", "anthropic"])
def test_async_calls_share_one_pooled_connection(fmt: str) -> None:
    async def main(server: WireServer) -> list[str]:
        async with client(server, stream=True) as llm:
            first = await llm.acomplete(MESSAGES)
            second = await llm.acomplete(MESSAGES)
            pool = llm._aclient
            assert pool is not None and not pool.is_closed
        assert llm._aclient is None and pool.is_closed
        return [first.content, second.content]

    with WireServer(fmt, [REPLY, REPLY]) as server:
        assert asyncio.run(main(server)) == [REPLY, REPLY]
        peers = [r["peer"] for r in server.requests]
    assert peers[0] == peers[1]


def test_an_async_pool_does_not_outlive_its_event_loop() -> None:
    with WireServer("openai", [REPLY, REPLY]) as server:
        llm = client(server)
        assert asyncio.run(llm.acomplete(MESSAGES)).content == REPLY
        assert asyncio.run(llm.acomplete(MESSAGES)).content == REPLY  # a new loop, a new pool
        asyncio.run(llm.aclose())


@pytest.mark.parametrize("fmt", ["openai", "anthropic"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_multiline_sse_events_are_joined(fmt: str, mode: str) -> None:
    entry = {"content": REPLY, "multiline": True, "usage": {"input_tokens": 40,
                                                            "output_tokens": 12}}
    tokens: list[str] = []
    with WireServer(fmt, [entry]) as server:
        llm = client(server, stream=True)
        if mode == "sync":
            reply = llm.complete(MESSAGES, on_token=tokens.append)
        else:
            reply = asyncio.run(llm.acomplete(MESSAGES, on_token=tokens.append))
        llm.close()
    assert reply.content == REPLY and "".join(tokens) == REPLY and len(tokens) > 3
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (40, 12)


def test_anthropic_caches_the_system_prompt_and_counts_cached_tokens() -> None:
    entry = {"content": REPLY, "usage": {"input_tokens": 20, "output_tokens": 10},
             "usage_raw": {"cache_read_input_tokens": 1000, "cache_creation_input_tokens": 0}}
    with WireServer("anthropic", [entry, dict(entry)]) as server:
        llm = client(server, model="claude-3-5-haiku-20241022")
        reply = llm.complete(MESSAGES)
        plain = client(server, cache_system=False)
        plain.complete(MESSAGES)
        bodies = [r["body"] for r in server.requests]
    system = bodies[0]["system"]
    assert system == [{"type": "text", "text": MESSAGES[0]["content"],
                       "cache_control": {"type": "ephemeral"}}]
    assert bodies[1]["system"] == MESSAGES[0]["content"]
    usage = reply.usage
    assert (usage.input_tokens, usage.cache_read_tokens, usage.cache_write_tokens) == (1020, 1000,
                                                                                       0)
    # claude-3-5-haiku: $0.80 input, $0.08 cache read, $4.00 output per million tokens
    assert usage.cost_usd == pytest.approx((20 * 0.80 + 1000 * 0.08 + 10 * 4.00) / 1e6)


def test_anthropic_stream_counts_cache_writes() -> None:
    entry = {"content": REPLY, "usage": {"input_tokens": 5, "output_tokens": 7},
             "usage_raw": {"cache_creation_input_tokens": 900}}
    with WireServer("anthropic", [entry]) as server:
        reply = client(server, stream=True).complete(MESSAGES)
    assert (reply.usage.input_tokens, reply.usage.cache_write_tokens) == (905, 900)
    assert reply.usage.output_tokens == 7
    assert reply.usage.cost_usd is None  # "test-model" has no price


def test_openai_cached_tokens_and_cost() -> None:
    entry = {"content": REPLY, "usage": {"input_tokens": 2000, "output_tokens": 100},
             "usage_raw": {"prompt_tokens_details": {"cached_tokens": 1536}}}
    with WireServer("openai", [entry]) as server:
        reply = client(server, model="gpt-4o-mini").complete(MESSAGES)
    assert (reply.usage.input_tokens, reply.usage.cache_read_tokens) == (2000, 1536)
    expected = (464 * 0.15 + 1536 * 0.075 + 100 * 0.60) / 1e6
    assert reply.usage.cost_usd == pytest.approx(expected)


def test_reasoning_models_get_max_completion_tokens() -> None:
    with WireServer("openai", [REPLY, REPLY, REPLY]) as server:
        client(server, model="o3-mini", max_tokens=300, temperature=0.2).complete(MESSAGES)
        client(server, model="gpt-4o", max_tokens=300, temperature=0.2).complete(MESSAGES)
        client(server, model="my-local", max_tokens=300, reasoning=True).complete(MESSAGES)
        bodies = [r["body"] for r in server.requests]
    assert bodies[0]["max_completion_tokens"] == 300
    assert "max_tokens" not in bodies[0] and "temperature" not in bodies[0]
    assert bodies[1]["max_tokens"] == 300 and bodies[1]["temperature"] == 0.2
    assert "max_completion_tokens" not in bodies[1]
    assert bodies[2]["max_completion_tokens"] == 300


def test_retries_are_logged_per_module(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="ptclisp.subagent._http_llm")
    with WireServer("openai", [{"status": 503, "text": "busy"}, REPLY]) as server:
        reply = client(server).complete(MESSAGES)
    assert reply.attempts == 2
    (record,) = [r for r in caplog.records if r.name == "ptclisp.subagent._http_llm"]
    assert record.levelno == logging.WARNING
    assert "attempt 1 failed" in record.getMessage() and "503" in record.getMessage()
    assert "retrying in" in record.getMessage()


def test_the_price_table_can_be_extended() -> None:
    register_price("acme-llm", Price(input=1.0, output=2.0, cache_read=0.5))
    assert price_for("acme-llm-2026-01") == Price(1.0, 2.0, 0.5)  # prefix match
    assert price_for("gpt-4o-mini-2024-07-18") == price_for("gpt-4o-mini")  # longest prefix
    assert price_for("nobody-knows") is None
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=500_000)
    assert Price(1.0, 2.0, 0.5).cost(usage) == pytest.approx(0.5 + 0.25 + 2.0)
    with pytest.raises(HostInputError, match="expected a Price"):
        register_price("x", {"input": 1})  # type: ignore[arg-type]


def test_usage_sums_cache_and_cost() -> None:
    total = Usage()
    total.add(Usage(10, 2, 1, cache_read_tokens=4, cost_usd=0.5))
    total.add(Usage(5, 1, 1, cost_usd=None))
    assert (total.input_tokens, total.cache_read_tokens, total.cost_usd) == (15, 4, 0.5)
    assert Usage().cost_usd is None


def test_an_optional_circuit_breaker_fails_fast_then_recovers() -> None:
    from ptclisp.runtime import CircuitBreaker
    from ptclisp.subagent import LLMError

    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30.0, clock=lambda: now[0])
    down = {"status": 503, "text": "down"}
    with WireServer("openai", [down] * 6 + [REPLY]) as server:
        llm = client(server, circuit_breaker=breaker)  # FAST: 3 attempts a call
        for _ in range(2):
            with pytest.raises(LLMError) as failed:
                llm.complete(MESSAGES)
            assert failed.value.code == "llm_http_error"
        with pytest.raises(LLMError) as refused:
            llm.complete(MESSAGES)
        assert refused.value.code == "llm_circuit_open" and refused.value.hint
        assert len(server.requests) == 6  # the refused call never reached the server
        now[0] = 31.0  # half-open: one trial goes through and closes the circuit
        assert llm.complete(MESSAGES).content == REPLY
        assert breaker.state == "closed"


def test_the_circuit_breaker_guards_async_calls_too() -> None:
    from ptclisp.runtime import CircuitBreaker
    from ptclisp.subagent import LLMError

    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=60.0)
    with WireServer("openai", [{"status": 400, "text": "bad"}]) as server:
        llm = client(server, circuit_breaker=breaker)

        async def main() -> list[str]:
            codes = []
            for _ in range(2):
                try:
                    await llm.acomplete(MESSAGES)
                except LLMError as exc:
                    codes.append(exc.code)
            await llm.aclose()
            return codes

        assert asyncio.run(main()) == ["llm_http_error", "llm_circuit_open"]
        assert len(server.requests) == 1
