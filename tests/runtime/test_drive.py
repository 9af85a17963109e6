"""``runtime.drive``: a process run to its end on the calling thread's own scheduler."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from ptclisp import runtime as rt


async def add(a: int, b: int) -> int:
    return a + b


def test_drive_returns_the_result_on_the_calling_thread() -> None:
    seen: list[Any] = []

    async def main() -> str:
        seen.append((rt.self_pid(), threading.current_thread()))
        return "done"

    assert rt.drive(main) == "done"
    assert isinstance(seen[0][0], rt.Pid) and seen[0][1] is threading.current_thread()
    assert rt.drive(add, 2, 3) == 5  # the thread's scheduler is reused


def test_a_crash_is_raised_and_an_abnormal_exit_is_process_down() -> None:
    async def crash() -> None:
        raise KeyError("bug")

    async def leave() -> None:
        rt.exit_process(rt.self_pid(), "gave-up")

    with pytest.raises(KeyError, match="bug"):
        rt.drive(crash)
    with pytest.raises(rt.ProcessDown) as info:
        rt.drive(leave)
    assert info.value.reason == "gave-up"
    assert rt.drive(add, 1, 1) == 2  # nothing left behind


def test_processes_talk_and_leftovers_are_killed_when_main_exits() -> None:
    cleaned: list[str] = []

    async def worker() -> None:
        try:
            while True:
                request = await rt.receive()
                rt.send(request[0], ("pong", request[1]))
        finally:
            cleaned.append("worker")

    async def main() -> list[Any]:
        pid = rt.spawn(worker)
        me = rt.self_pid()
        replies = []
        for n in range(3):
            rt.send(pid, (me, n))
            replies.append(await rt.receive(("pong", rt.ANY)))
        return replies

    assert rt.drive(main) == [("pong", 0), ("pong", 1), ("pong", 2)]
    assert cleaned == ["worker"]  # main's exit ended the worker, its finally block ran


def test_timers_and_asyncio_work_when_every_process_waits() -> None:
    async def main() -> list[Any]:
        await rt.sleep(0.01)
        late = await rt.receive(timeout=0.01, default="none")
        value = await rt.aio(asyncio.sleep(0.01, result="aio"))
        return [late, value]

    assert rt.drive(main) == ["none", "aio"]
    assert rt.drive(add, 4, 4) == 8  # back to stepping on the thread


def test_a_nested_drive_uses_its_own_scheduler_and_leaves_the_outer_intact() -> None:
    async def inner() -> Any:
        return rt.self_pid()

    async def outer() -> tuple[Any, Any, Any]:
        before = rt.self_pid()
        nested = rt.drive(inner)  # blocking code inside a step, as an agent turn is
        return before, nested, rt.self_pid()

    before, nested, after = rt.drive(outer)
    assert before is after and nested is not before


def test_inside_a_running_event_loop_only_asyncio_waits_are_refused() -> None:
    async def sleepy() -> None:
        await rt.sleep(0.01)

    async def in_async_code() -> int:
        assert rt.drive(add, 1, 2) == 3  # plain steps need no loop (e.g. a notebook cell)
        with pytest.raises(rt.ActorError) as info:
            rt.drive(sleepy)
        assert info.value.code == "would_deadlock" and info.value.hint
        return rt.drive(add, 2, 2)

    assert asyncio.run(in_async_code()) == 4


def test_drive_refuses_a_body_that_is_not_async() -> None:
    with pytest.raises(TypeError, match="async"):
        rt.drive(lambda: 1)  # type: ignore[arg-type, return-value]
    assert rt.drive(add, 0, 1) == 1


def test_each_thread_drives_its_own_scheduler() -> None:
    results: dict[int, Any] = {}
    together = threading.Barrier(4, timeout=30)

    async def main(n: int) -> Any:
        await rt.sleep(0.005)
        return n, threading.get_ident()

    def run(n: int) -> None:
        results[n] = rt.drive(main, n)
        together.wait()  # no thread ends (and frees its ident) before all have driven

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r[0] for r in results.values()) == [0, 1, 2, 3]
    assert len({r[1] for r in results.values()}) == 4
