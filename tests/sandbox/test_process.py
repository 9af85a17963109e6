"""The process tier: warm workers, OS limits, scrubbed environment, recovery after a breach."""

from __future__ import annotations

import os
import threading

import pytest

import ptclisp
from ptclisp import sandbox
from ptclisp._values.types import to_python

SHORT = ptclisp.Limits(timeout_s=0.5)


def test_a_worker_inherits_no_secret_environment_and_no_descriptors(pool, monkeypatch):
    monkeypatch.setenv("PTCLISP_TEST_SECRET", "hunter2")
    leaked = os.open(os.devnull, os.O_RDONLY)
    os.set_inheritable(leaked, True)
    try:
        with sandbox.ProcessPool(size=1) as fresh:  # started after the secret and the fd exist
            result = fresh.run("(tool/test-inspect {})", _hooks=True)
    finally:
        os.close(leaked)
    assert result.status == "ok", result.error
    report = to_python(result.value)
    assert all("SECRET" not in name for name in report["env"]), report["env"]
    assert report["fds"] == [0, 1, 2, 3, 4, 5]  # stdio, two channel fds, the listing's own fd
    assert report["cwd"] == "/"


def test_a_worker_runs_under_rlimits(pool):
    result = pool.run("(tool/test-inspect {})", _hooks=True)
    limits = to_python(result.value)["rlimits"]
    soft, hard = limits["RLIMIT_AS"]
    assert hard == 768 << 20  # the pool's cap; a run lowers the soft limit to its own budget
    assert soft < hard
    assert limits["RLIMIT_CORE"] == [0, 0]
    assert limits["RLIMIT_NOFILE"] == [32, 32]
    assert 0 < limits["RLIMIT_CPU"][0] < 3600


def test_hooks_are_absent_unless_the_host_enables_them(pool):
    result = pool.run("(tool/test-crash {})")
    assert result.error.code == "tool_not_found"
    assert pool.run("(+ 1 2)").value == 3


def test_a_crashing_guest_is_a_sandbox_crash_and_the_pool_recovers(pool):
    before = pool.replaced
    result = pool.run("(tool/test-crash {:status 70})", _hooks=True)
    assert result.status == "error"
    assert result.error.code == "sandbox_crash"
    assert "exit status 70" in result.error.message
    assert pool.replaced == before + 1
    assert [pool.run(f"(* {i} 2)").value for i in range(4)] == [0, 2, 4, 6]


def test_cpu_runaway_is_stopped_by_rlimit_cpu():
    # A far wall-clock kill, so that only the CPU limit can end the spin (even on a busy machine).
    with sandbox.ProcessPool(size=1, grace_s=0.2, wall_grace_s=60) as own:
        result = own.run("(tool/test-spin {})", limits=SHORT, _hooks=True)
        assert result.error.code == "timeout"
        assert "RLIMIT_CPU" in result.error.message
        assert own.run("(inc 1)").value == 2


def test_a_blocked_guest_is_killed_at_the_wall_clock_deadline(pool):
    result = pool.run("(tool/test-sleep {:seconds 60})", limits=SHORT, _hooks=True)
    assert result.error.code == "timeout"
    assert "deadline" in result.error.message
    assert pool.run("(inc 1)").value == 2


def test_memory_beyond_the_address_space_cap_is_memory_limit(pool):
    result = pool.run("(tool/test-hog-memory {})", _hooks=True)
    assert result.error.code == "memory_limit"
    assert pool.run("(count [1 2 3])").value == 3


def test_a_crash_in_one_run_leaves_concurrent_runs_intact(pool):
    results: dict[int, ptclisp.Result] = {}

    def work(i: int) -> None:
        source = "(tool/test-crash {})" if i == 3 else f"(reduce + (range {i * 100}))"
        results[i] = pool.run(source, _hooks=True)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[3].error.code == "sandbox_crash"
    for i in set(range(8)) - {3}:
        assert results[i].value == sum(range(i * 100)), results[i]


def test_workers_are_recycled_after_max_runs():
    with sandbox.ProcessPool(size=1, max_runs=2) as small:
        first = small.worker_pids()
        for _ in range(2):
            assert small.run("(+ 1 1)").value == 2
        assert small.replaced == 1
        assert small.worker_pids() != first
        assert small.run("(+ 1 1)").value == 2


def test_a_worker_that_cannot_start_is_a_sandbox_error():
    with sandbox.ProcessPool(size=1, python="/bin/false") as broken:
        with pytest.raises(sandbox.SandboxError, match="failed to start"):
            broken.run("1")


def test_a_closed_pool_refuses_runs():
    small = sandbox.ProcessPool(size=1)
    small.close()
    with pytest.raises(sandbox.SandboxError, match="closed"):
        small.run("1")


def test_pool_size_must_be_positive():
    with pytest.raises(ValueError):
        sandbox.ProcessPool(size=0)
