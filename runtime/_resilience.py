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

from ptclisp import LimitExceeded

from ._errors import CircuitOpen, RateLimited

__all__ = ["CircuitBreaker", "CircuitState", "RateLimiter", "Retry", "guarded"]

T = TypeVar("T")


def _retryable(exc: BaseException) -> bool:
    # A resource limit ends the whole run; retrying it would only burn more budget.
    return isinstance(exc, Exception) and not isinstance(exc, LimitExceeded)


@dataclass(frozen=True)
class Retry:
    """The retry policy of tool guards and LLM clients alike: up to ``attempts`` tries, waiting
    ``min(max_delay, base_delay * factor**n)`` before retry ``n`` (0-based), scaled by a random
    factor in ``[1 - jitter, 1 + jitter]``; a server's ``Retry-After`` takes precedence."""

    attempts: int = 3
    base_delay: float = 0.1
    factor: float = 2.0
    max_delay: float = 5.0
    jitter: float = 0.1
    retry_if: Callable[[BaseException], bool] = _retryable

    def __post_init__(self) -> None:
        if not isinstance(self.attempts, int) or self.attempts < 1:
            raise ValueError(f"Retry(attempts=...) must be an int >= 1, not {self.attempts!r}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"Retry(jitter=...) must be within [0, 1], not {self.jitter!r}")

    def delay(self, retry: int, retry_after: str | float | None = None,
              rng: random.Random | None = None) -> float:
        """Seconds to wait before retry ``retry``; ``retry_after`` (seconds, as a number or an
        HTTP header's text) wins, capped at ``max_delay``; an HTTP date falls back to backoff."""
        if retry_after is not None:
            try:
                return max(0.0, min(self.max_delay, float(retry_after)))
            except ValueError:
                pass
        backoff = min(self.max_delay, self.base_delay * self.factor**retry)
        return backoff * (rng or random).uniform(1 - self.jitter, 1 + self.jitter)

    def delays(self) -> Iterator[float]:
        """The waits between attempts (``attempts - 1`` of them)."""
        return (self.delay(n) for n in range(self.attempts - 1))

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
    """A token bucket shared by every caller (threads and tasks alike): ``rate`` tokens per
    second, up to ``burst`` saved. A caller takes a token at once and then waits until the
    bucket would have held it, so concurrent callers queue fairly. ``clock`` and ``sleep`` are
    injectable so the bucket can be tested without waiting."""

    def __init__(self, rate: float, burst: int = 1, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not rate > 0 or not isinstance(burst, int) or burst < 1:
            raise ValueError(f"RateLimiter needs rate > 0 and an int burst >= 1, "
                             f"not rate={rate!r}, burst={burst!r}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def _reserve(self, most: float | None) -> float | None:
        """Take a token, owing it if need be; the wait until it is ours, or ``None`` (and no
        token taken) if that wait would exceed ``most`` seconds."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            if most is not None and wait > most:
                return None
            self._tokens -= 1
            return wait

    def try_acquire(self) -> bool:
        """Take a token if one is available now."""
        return self._reserve(0.0) is not None

    def acquire(self, timeout: float | None = None) -> float:
        """Take a token, blocking until it is ours; returns the seconds waited. ``RateLimited``
        (and no token taken) if that would exceed ``timeout``."""
        wait = self._reserve(timeout)
        if wait is None:
            raise RateLimited(f"no token within {timeout} s (rate {self.rate}/s)")
        if wait > 0:
            self._sleep(wait)
        return wait

    async def aacquire(self, timeout: float | None = None) -> float:
        """Async ``acquire``."""
        wait = self._reserve(timeout)
        if wait is None:
            raise RateLimited(f"no token within {timeout} s (rate {self.rate}/s)")
        if wait > 0:
            await asyncio.sleep(wait)
        return wait


class CircuitState(str, enum.Enum):  # noqa: UP042 - StrEnum would change str()
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
        if (self._state is CircuitState.OPEN
                and self._clock() - self._opened_at >= self.reset_timeout):
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
