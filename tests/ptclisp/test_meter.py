"""The meter: every budget breach has its own code, and charges add up exactly."""

import time

import pytest

from ptclisp._errors import LimitExceeded
from ptclisp._limits import Limits, Meter, current_meter, use_meter


def breach(fn):
    with pytest.raises(LimitExceeded) as info:
        fn()
    return info.value.code


def test_steps_count_exactly_and_stop_at_the_limit():
    meter = Meter(Limits(max_steps=5000))
    for _ in range(5000):
        meter.tick()
    assert meter.steps == 5000
    assert breach(meter.tick) == "step_limit"


def test_a_large_charge_is_refused_up_front():
    meter = Meter(Limits(max_steps=10_000))
    assert breach(lambda: meter.tick(10**8)) == "step_limit"


def test_clock_is_checked_when_a_chunk_ends():
    meter = Meter(Limits(timeout_s=0.01, max_steps=10**9))
    time.sleep(0.02)

    def spin():
        for _ in range(10_000):
            meter.tick()

    assert breach(spin) == "timeout"


def test_memory_depth_output_and_tool_call_codes():
    meter = Meter(Limits(max_memory=1000, max_depth=3, max_output=10, max_tool_calls=1))
    assert breach(lambda: meter.alloc_items(10**8)) == "memory_limit"
    for _ in range(3):
        meter.enter()
    assert breach(meter.enter) == "depth_limit"
    meter.emit(10)
    assert breach(lambda: meter.emit(1)) == "output_limit"
    meter.count_tool_call()
    assert breach(meter.count_tool_call) == "step_limit"


def test_current_meter_nests_and_restores():
    outer, inner = Meter(Limits()), Meter(Limits())
    with use_meter(outer):
        with use_meter(inner):
            assert current_meter() is inner
        assert current_meter() is outer


def test_limits_round_trip_and_reject_unknown_fields():
    limits = Limits(max_steps=7, timeout_s=1.5)
    assert Limits.from_dict(limits.to_dict()) == limits
    with pytest.raises(ValueError):
        Limits.from_dict({"max_stepz": 1})

