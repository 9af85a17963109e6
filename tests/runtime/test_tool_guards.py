"""Retry with backoff, the rate limiter and the circuit breaker."""

import asyncio

import pytest

from ptclisp._errors import LimitExceeded
from ptclisp.runtime import (
    CircuitBreaker,
    CircuitOpen,
    CircuitState,
    RateLimited,
    RateLimiter,
    Retry,
    guarded,
)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Flaky:
    def __init__(self, failures, error=OSError):
        self.failures = failures
        self.calls = 0
        self.error = error

    def __call__(self, *args):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"failure {self.calls}")
        return "ok"


def test_retry_succeeds_after_transient_failures():
    fn = Flaky(2)
    assert Retry(attempts=3, base_delay=0.001).call(fn) == "ok"
    assert fn.calls == 3


def test_retry_reraises_the_last_error_when_attempts_run_out():
    fn = Flaky(5)
    with pytest.raises(OSError, match="failure 3"):
        Retry(attempts=3, base_delay=0.001).call(fn)


def test_retry_never_retries_a_resource_limit():
    fn = Flaky(5, error=lambda m: LimitExceeded(m, code="timeout"))
    with pytest.raises(LimitExceeded):
        Retry(attempts=4, base_delay=0.001).call(fn)
    assert fn.calls == 1


def test_backoff_grows_and_is_capped():
    delays = list(Retry(attempts=6, base_delay=0.1, factor=2, max_delay=0.5, jitter=0).delays())
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])


def test_async_retry():
    calls = 0

    async def flaky():
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TimeoutError
        return calls

    assert asyncio.run(Retry(attempts=3, base_delay=0.001).acall(flaky)) == 3


def test_rate_limiter_allows_a_burst_then_refills():
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    assert [limiter.try_acquire() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5  # one token at 2 per second
    assert limiter.try_acquire() is True
    assert limiter.try_acquire() is False
    with pytest.raises(RateLimited):
        limiter.acquire(timeout=0.1)  # the next token is 0.5 s away on this clock


def test_rate_limiter_blocks_until_a_token_is_available():
    limiter = RateLimiter(rate=100, burst=1)
    limiter.acquire()
    limiter.acquire(timeout=1)  # waits ~10 ms for the refill
    asyncio.run(limiter.aacquire(timeout=1))


def test_circuit_opens_after_consecutive_failures_then_half_opens():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=10, clock=clock)
    fn = Flaky(100)
    for _ in range(3):
        with pytest.raises(OSError):
            breaker.call(fn)
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpen) as info:
        breaker.call(fn)
    assert info.value.code == "circuit_open" and fn.calls == 3  # refused without calling
    clock.now += 10
    assert breaker.state is CircuitState.HALF_OPEN
    with pytest.raises(OSError):
        breaker.call(fn)  # the trial call fails ...
    assert breaker.state is CircuitState.OPEN  # ... and the circuit opens again
    clock.now += 10
    fn.failures = 0
    assert breaker.call(fn) == "ok"  # a successful trial closes it
    assert breaker.state is CircuitState.CLOSED


def test_half_open_admits_only_the_trial_calls():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=1, clock=clock)
    with pytest.raises(OSError):
        breaker.call(Flaky(1))
    clock.now += 1

    def reentrant():
        with pytest.raises(CircuitOpen):
            breaker.call(lambda: "second trial")
        return "first trial"

    assert breaker.call(reentrant) == "first trial"


def test_successes_reset_the_failure_count():
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=10)
    for _ in range(5):
        with pytest.raises(OSError):
            breaker.call(Flaky(1))
        assert breaker.call(lambda: 1) == 1
    assert breaker.state is CircuitState.CLOSED


def test_async_breaker():
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=60)

    async def failing():
        raise OSError

    with pytest.raises(OSError):
        asyncio.run(breaker.acall(failing))
    with pytest.raises(CircuitOpen):
        asyncio.run(breaker.acall(failing))


def test_guarded_stacks_retry_limiter_and_breaker():
    fn = Flaky(2)
    tool = guarded(
        fn,
        retry=Retry(attempts=3, base_delay=0.001),
        limiter=RateLimiter(rate=1000, burst=10),
        breaker=CircuitBreaker(failure_threshold=5),
    )
    assert tool({"q": 1}) == "ok" and fn.calls == 3

    opened = guarded(Flaky(100), retry=Retry(attempts=5, base_delay=0.001, retry_if=lambda e: not isinstance(e, CircuitOpen)), breaker=CircuitBreaker(failure_threshold=2))
    with pytest.raises(CircuitOpen):
        opened({})
