"""Guards around flaky tools: retries with backoff, a token-bucket rate limiter, a circuit
breaker, and ``guarded`` to stack them around a sync tool."""

from __future__ import annotations

import asyncio
import enum
import random
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from ptclisp._errors import LimitExceeded

from ._errors import CircuitOpen, RateLimited

__all__ = ["CircuitBreaker", "CircuitState", "RateLimiter", "Retry", "guarded"]

T = TypeVar("T")


def _retryable(exc: BaseException) -> bool:
    # A resource limit ends the whole run; retrying it would only burn more budget.
    return isinstance(exc, Exception) and not isinstance(exc, LimitExceeded)


@dataclass(frozen=True)
class Retry:
    """Retry a call up to ``attempts`` times with exponential backoff and jitter."""

    attempts: int = 3
    base_delay: float = 0.1
    factor: float = 2.0
    max_delay: float = 5.0
    jitter: float = 0.1
    """Each delay is scaled by a random factor in ``[1 - jitter, 1 + jitter]``."""
    retry_if: Callable[[BaseException], bool] = _retryable

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def delays(self) -> Iterator[float]:
        """The waits between attempts (``attempts - 1`` of them)."""
        delay = self.base_delay
        for _ in range(self.attempts - 1):
            yield min(self.max_delay, delay) * random.uniform(1 - self.jitter, 1 + self.jitter)
            delay *= self.factor

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``fn``; on a retryable error wait and try again; re-raise the last error."""
        delays = self.delays()
        while True:
            try:
                return fn(*args, **kwargs)
            except BaseException as exc:
                delay = next(delays, None)
                if delay is None or not self.retry_if(exc):
                    raise
            time.sleep(delay)

    async def acall(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Async ``call``: awaits ``fn(...)`` and sleeps with ``asyncio.sleep``."""
        delays = self.delays()
        while True:
            try:
                return await fn(*args, **kwargs)
            except BaseException as exc:
                delay = next(delays, None)
                if delay is None or not self.retry_if(exc):
                    raise
            await asyncio.sleep(delay)


class RateLimiter:
    """Token bucket: ``rate`` tokens per second, up to ``burst`` saved. Thread-safe."""

    def __init__(self, rate: float, burst: int = 1, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def _wait_needed(self) -> float:
        """Take a token if one is there (returns 0), else the seconds until one will be."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate

    def try_acquire(self) -> bool:
        """Take a token if one is available now."""
        return self._wait_needed() == 0.0

    def acquire(self, timeout: float | None = None) -> None:
        """Block until a token is taken; ``RateLimited`` if that would exceed ``timeout``."""
        deadline = None if timeout is None else self._clock() + timeout
        while (wait := self._wait_needed()) > 0:
            if deadline is not None and self._clock() + wait > deadline:
                raise RateLimited(f"no token within {timeout} s (rate {self.rate}/s)")
            time.sleep(wait)

    async def aacquire(self, timeout: float | None = None) -> None:
        """Async ``acquire``."""
        deadline = None if timeout is None else self._clock() + timeout
        while (wait := self._wait_needed()) > 0:
            if deadline is not None and self._clock() + wait > deadline:
                raise RateLimited(f"no token within {timeout} s (rate {self.rate}/s)")
            await asyncio.sleep(wait)


class CircuitState(str, enum.Enum):
    """The states of a :class:`CircuitBreaker`."""

    CLOSED = "closed"
    """Calls run; consecutive failures are counted."""
    OPEN = "open"
    """Calls are refused with ``CircuitOpen`` until ``reset_timeout`` has passed."""
    HALF_OPEN = "half_open"
    """One trial call runs: success closes the circuit, failure opens it again."""


class CircuitBreaker:
    """Stops calling a failing dependency for a while. Thread-safe.

    ``failure_threshold`` consecutive failures open the circuit; after ``reset_timeout``
    seconds it half-opens and lets ``half_open_calls`` trial calls through.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        *,
        half_open_calls: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.half_open_calls = half_open_calls
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0

    @property
    def state(self) -> CircuitState:
        """The current state (an open circuit turns half-open once its timeout has passed)."""
        with self._lock:
            return self._current()

    def _current(self) -> CircuitState:
        if self._state is CircuitState.OPEN and self._clock() - self._opened_at >= self.reset_timeout:
            self._state = CircuitState.HALF_OPEN
            self._trials = 0
        return self._state

    def _before(self) -> None:
        with self._lock:
            state = self._current()
            if state is CircuitState.OPEN or (
                state is CircuitState.HALF_OPEN and self._trials >= self.half_open_calls
            ):
                left = max(0.0, self.reset_timeout - (self._clock() - self._opened_at))
                raise CircuitOpen(
                    f"circuit open after {self._failures} consecutive failures",
                    hint=f"the dependency is failing; retry in about {left:.1f} s",
                )
            if state is CircuitState.HALF_OPEN:
                self._trials += 1

    def _after(self, failed: bool) -> None:
        with self._lock:
            if not failed:
                self._state, self._failures = CircuitState.CLOSED, 0
                return
            self._failures += 1
            if self._state is CircuitState.HALF_OPEN or self._failures >= self.failure_threshold:
                self._state, self._opened_at = CircuitState.OPEN, self._clock()

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` unless the circuit is open; record its success or failure."""
        self._before()
        try:
            result = fn(*args, **kwargs)
        except Exception:
            self._after(failed=True)
            raise
        self._after(failed=False)
        return result

    async def acall(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Async ``call``."""
        self._before()
        try:
            result = await fn(*args, **kwargs)
        except Exception:
            self._after(failed=True)
            raise
        self._after(failed=False)
        return result


def guarded(
    fn: Callable[..., T],
    *,
    retry: Retry | None = None,
    limiter: RateLimiter | None = None,
    breaker: CircuitBreaker | None = None,
    limiter_timeout: float | None = None,
) -> Callable[..., T]:
    """Wrap a sync tool: each attempt takes a rate-limiter token and goes through the breaker;
    failed attempts are retried by ``retry``."""

    def attempt(*args: Any, **kwargs: Any) -> T:
        if limiter is not None:
            limiter.acquire(limiter_timeout)
        if breaker is not None:
            return breaker.call(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    def tool(*args: Any, **kwargs: Any) -> T:
        if retry is None:
            return attempt(*args, **kwargs)
        return retry.call(attempt, *args, **kwargs)

    tool.__name__ = getattr(fn, "__name__", "tool")
    tool.__doc__ = fn.__doc__
    return tool
