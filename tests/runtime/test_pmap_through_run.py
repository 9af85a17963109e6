"""``ptclisp.run(..., parallel_map=runtime.parallel_map)`` runs pmap's tool calls concurrently."""

import threading
import time

import ptclisp
from ptclisp import runtime


def test_pmap_through_run_is_concurrent_bounded_and_ordered():
    lock = threading.Lock()
    in_flight = peak = 0

    def slow(args):
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.1)
        with lock:
            in_flight -= 1
        return args["i"] * 2

    started = time.monotonic()
    result = ptclisp.run(
        "(pmap #(tool/slow {:i %}) (range 8))",
        tools={"slow": slow},
        limits=ptclisp.Limits(max_parallel=4),
        parallel_map=runtime.parallel_map,
    )
    elapsed = time.monotonic() - started
    assert result.status == "ok"
    assert list(result.value) == [0, 2, 4, 6, 8, 10, 12, 14]
    assert peak == 4
    assert elapsed < 0.1 * 8  # not one call at a time
    assert len(result.tool_calls) == 8


def test_without_a_parallel_map_pmap_gives_the_same_value_sequentially():
    result = ptclisp.run("(pmap #(tool/double {:i %}) (range 4))",
                         tools={"double": lambda a: a["i"] * 2})
    assert list(result.value) == [0, 2, 4, 6]
