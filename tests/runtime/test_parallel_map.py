"""parallel_map: the host-side executor behind ptclisp's pmap/pcalls."""

import contextvars
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp.runtime import parallel_map


class InFlight:
    """Counts concurrent calls of a sleeping function."""

    def __init__(self, delay=0.05):
        self.delay = delay
        self.now = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.started = []

    def __call__(self, x):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.started.append(x)
        try:
            time.sleep(self.delay)
            if x == "boom":
                raise ValueError("boom")
            return x * 2
        finally:
            with self.lock:
                self.now -= 1


@pytest.mark.parametrize("bound", [1, 2, 4])
def test_concurrency_never_exceeds_the_bound_and_reaches_it(bound):
    fn = InFlight()
    assert parallel_map(fn, range(12), bound) == [x * 2 for x in range(12)]
    assert fn.peak == bound


def test_calls_really_overlap():
    fn = InFlight(delay=0.1)
    started = time.monotonic()
    parallel_map(fn, range(8), 8)
    assert time.monotonic() - started < 0.8 / 2  # sequential would take 0.8 s


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers()), st.integers(min_value=1, max_value=6))
def test_results_keep_input_order(items, bound):
    assert parallel_map(lambda x: x + 1, items, bound) == [x + 1 for x in items]


def test_first_exception_is_raised_after_in_flight_calls_finish_and_no_more_start():
    fn = InFlight(delay=0.03)
    items = [1, "boom", 2, 3, 4, 5, 6, 7, 8, 9]
    with pytest.raises(ValueError):
        parallel_map(fn, items, 2)
    assert fn.now == 0  # everything that started has finished
    assert len(fn.started) < len(items)  # the rest were never started


def test_bad_bound_is_rejected():
    with pytest.raises(ValueError):
        parallel_map(str, [1], 0)


def test_each_call_sees_the_callers_context():
    var = contextvars.ContextVar("run", default=None)
    var.set("run-1")
    assert parallel_map(lambda _: var.get(), range(6), 3) == ["run-1"] * 6
