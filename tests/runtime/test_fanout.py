"""fanout: ALL / FIRST_COMPLETED / N_BEST with deadlines; losers are really stopped."""

import asyncio
import time

import pytest

from ptclisp.runtime import DeadlineExceeded, Policy, fanout


class Probe:
    """Async calls that record whether they finished or were cancelled."""

    def __init__(self):
        self.finished = set()
        self.cancelled = set()

    def call(self, tag, delay, result=None, error=None):
        async def run():
            try:
                await asyncio.sleep(delay)
            except asyncio.CancelledError:
                self.cancelled.add(tag)
                raise
            if error:
                raise error
            self.finished.add(tag)
            return tag if result is None else result

        return run


def test_all_returns_results_in_input_order():
    probe = Probe()
    calls = [probe.call("a", 0.03), probe.call("b", 0.01), probe.call("c", 0.02)]
    assert asyncio.run(fanout(calls, Policy.ALL, deadline=5)) == ["a", "b", "c"]


def test_all_fails_fast_and_cancels_the_rest():
    probe = Probe()
    calls = [probe.call("slow", 5), probe.call("bad", 0.01, error=KeyError("bad"))]
    with pytest.raises(KeyError):
        asyncio.run(fanout(calls, "all"))
    assert probe.cancelled == {"slow"}


def test_first_completed_cancels_the_losers_and_they_really_stop():
    probe = Probe()
    calls = [probe.call("slow1", 0.5), probe.call("fast", 0.01), probe.call("slow2", 0.5)]

    async def scenario():
        started = time.monotonic()
        winner = await fanout(calls, Policy.FIRST_COMPLETED, deadline=5)
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.6)  # long enough for a surviving loser to finish
        return winner, elapsed

    winner, elapsed = asyncio.run(scenario())
    assert winner == "fast" and elapsed < 0.4
    assert probe.cancelled == {"slow1", "slow2"}
    assert probe.finished == {"fast"}  # the losers never completed


def test_first_completed_skips_failures():
    probe = Probe()
    calls = [probe.call("bad", 0.001, error=ValueError()), probe.call("good", 0.02)]
    assert asyncio.run(fanout(calls, Policy.FIRST_COMPLETED)) == "good"


def test_first_completed_raises_when_every_call_fails():
    probe = Probe()
    calls = [probe.call("x", 0.001, error=ValueError("x")), probe.call("y", 0.002, error=OSError())]
    with pytest.raises(ValueError):
        asyncio.run(fanout(calls, Policy.FIRST_COMPLETED))


def test_deadline_cancels_everything_still_running():
    probe = Probe()
    calls = [probe.call("a", 0.5), probe.call("b", 0.5)]

    async def scenario():
        with pytest.raises(DeadlineExceeded) as info:
            await fanout(calls, Policy.FIRST_COMPLETED, deadline=0.02)
        await asyncio.sleep(0.6)
        return info.value.code

    assert asyncio.run(scenario()) == "deadline_exceeded"
    assert probe.cancelled == {"a", "b"} and probe.finished == set()


def test_all_with_deadline_raises_and_cancels():
    probe = Probe()
    calls = [probe.call("quick", 0.001), probe.call("slow", 0.5)]
    with pytest.raises(DeadlineExceeded):
        asyncio.run(fanout(calls, Policy.ALL, deadline=0.02))
    assert probe.cancelled == {"slow"}


def test_n_best_ranks_by_scorer_and_uses_what_finished_by_the_deadline():
    probe = Probe()
    calls = [
        probe.call("a", 0.001, result=3),
        probe.call("b", 0.002, result=9),
        probe.call("c", 0.003, result=5),
        probe.call("late", 3, result=100),
        probe.call("err", 0.001, error=RuntimeError()),
    ]
    best = asyncio.run(fanout(calls, Policy.N_BEST, n=2, scorer=lambda v: v, deadline=0.3))
    assert best == [9, 5]
    assert probe.cancelled == {"late"}


def test_n_best_needs_a_scorer():
    with pytest.raises(ValueError):
        asyncio.run(fanout([], Policy.N_BEST))


def test_sync_calls_run_on_threads():
    def blocking():
        time.sleep(0.01)
        return "sync"

    assert asyncio.run(fanout([blocking, blocking], Policy.ALL)) == ["sync", "sync"]
