"""Collaboration primitives: cast, barrier / first-k / majority fan-in, publish/subscribe."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp import runtime as rt


async def voter(answer: Any, delay: float = 0.0, crash: bool = False) -> None:
    """An agent-like server: answers every call with ``answer`` after ``delay``; counts casts."""
    casts = []
    while True:
        msg = await rt.receive(rt.Request, rt.Cast)
        if isinstance(msg, rt.Cast):
            casts.append(msg.payload)
            continue
        if msg.payload == "casts":
            rt.reply(msg, list(casts))
            continue
        if crash:
            raise RuntimeError("voter bug")
        if delay:
            await rt.sleep(delay)
        if isinstance(answer, BaseException):
            rt.reply_error(msg, answer)
        else:
            rt.reply(msg, answer)


def test_cast_is_one_way_next_to_call() -> None:
    async def main() -> Any:
        server = rt.spawn(voter, "x")
        assert rt.cast(server, "hello") is None
        rt.cast(server, "again")
        return await rt.call(server, "casts")

    assert rt.run(main) == ["hello", "again"]


def test_barrier_waits_for_all_replies_or_the_deadline() -> None:
    async def main() -> Any:
        fast = [rt.spawn(voter, i, 0.01 * i) for i in range(3)]
        slow = rt.spawn(voter, "late", 5.0)
        full = await rt.gather(fast, "go", timeout=2.0)
        partial = await rt.gather([*fast, slow], "go", timeout=0.3)
        return full, partial

    full, partial = rt.run(main)
    assert sorted(full.values()) == [0, 1, 2] and full.missing == []
    assert sorted(partial.values()) == [0, 1, 2] and partial.missing == [3]


def test_barrier_counts_crashes_errors_and_unknown_names_as_failures() -> None:
    async def main() -> Any:
        ok = rt.spawn(voter, "ok")
        crashing = rt.spawn(voter, None, 0.0, True)
        refusing = rt.spawn(voter, ValueError("no"))
        return await rt.gather([ok, crashing, refusing, "nobody"], "go", timeout=2.0)

    fan_in = rt.run(main)
    assert fan_in.values() == ["ok"]
    assert isinstance(fan_in.errors[1], RuntimeError)
    assert isinstance(fan_in.errors[2], ValueError)
    assert isinstance(fan_in.errors[3], rt.NoProcess)


def test_first_k_returns_the_fastest_answers() -> None:
    async def main() -> Any:
        servers = [rt.spawn(voter, name, delay) for name, delay in
                   (("slow", 1.0), ("fast", 0.0), ("mid", 0.05), ("slower", 2.0))]
        best = await rt.first_k(servers, "go", 2, timeout=3.0)
        with pytest.raises(rt.DeadlineExceeded):
            await rt.first_k(servers, "go", 4, timeout=0.2)
        return best

    assert rt.run(main) == ["fast", "mid"]


def test_majority_stops_as_soon_as_a_value_has_its_quorum() -> None:
    async def main() -> Any:
        servers = [rt.spawn(voter, "yes"), rt.spawn(voter, "no"), rt.spawn(voter, "yes", 0.01),
                   rt.spawn(voter, "yes", 0.02), rt.spawn(voter, "no", 10.0)]
        return await rt.majority(servers, "vote", timeout=5.0)

    assert rt.run(main) == "yes"  # long before the 10 s voter answers


def test_majority_gives_up_as_soon_as_no_value_can_win() -> None:
    async def main() -> Any:
        servers = [rt.spawn(voter, "a"), rt.spawn(voter, "b"), rt.spawn(voter, "c"),
                   rt.spawn(voter, "a", 10.0)]
        with pytest.raises(rt.NoQuorum):
            await rt.majority(servers, "vote", timeout=20.0)

    import time

    began = time.monotonic()
    rt.run(main)
    assert time.monotonic() - began < 8


def test_no_majority_is_a_clear_error() -> None:
    async def main() -> Any:
        servers = [rt.spawn(voter, v) for v in ("a", "b", "c", "a")]
        with pytest.raises(rt.NoQuorum) as info:
            await rt.majority(servers, "vote", timeout=1.0)
        return info.value

    error = rt.run(main)
    assert error.code == "no_quorum" and error.hint


@settings(max_examples=20, deadline=None)
@given(st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=7))
def test_majority_agrees_with_counting(votes: list[str]) -> None:
    async def main() -> Any:
        servers = [rt.spawn(voter, v) for v in votes]
        try:
            return await rt.majority(servers, "vote", timeout=2.0)
        except rt.NoQuorum:
            return None

    winner = rt.run(main)
    counts = {v: votes.count(v) for v in set(votes)}
    expected = next((v for v, n in counts.items() if n > len(votes) // 2), None)
    assert winner == expected


def test_publish_reaches_live_subscribers_only() -> None:
    async def listener(parent: rt.Pid, topic: str, stop_after: int) -> None:
        rt.subscribe(topic)
        rt.send(parent, ("ready", rt.self_pid()))
        got = []
        for _ in range(stop_after):
            msg = await rt.receive(rt.Published)
            got.append(msg.message)
        rt.send(parent, ("got", rt.self_pid(), got))

    async def main() -> Any:
        me = rt.self_pid()
        a = rt.spawn(listener, me, "news", 2)
        b = rt.spawn(listener, me, "news", 1)
        c = rt.spawn(listener, me, "sport", 1)
        for _ in range(3):
            await rt.receive(("ready", rt.ANY))
        first = rt.publish("news", "n1")
        await rt.receive(("got", b, rt.ANY))
        await rt.sleep(0.01)
        second = rt.publish("news", "n2")  # b has exited: dropped
        rt.publish("sport", "s1")
        _, _, got_a = await rt.receive(("got", a, rt.ANY))
        await rt.receive(("got", c, rt.ANY))
        rt.subscribe("news")
        rt.unsubscribe("news")
        return first, second, got_a, rt.publish("news", "n3"), rt.publish("nobody", 1)

    assert rt.run(main) == (2, 1, ["n1", "n2"], 0, 0)


def test_gather_rejects_an_impossible_need() -> None:
    async def main() -> Any:
        with pytest.raises(ValueError):
            await rt.gather([rt.self_pid()], "x", need=2)
        return True

    assert rt.run(main)
