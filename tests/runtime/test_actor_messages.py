"""Processes and messages: ordering, selective receive, timeouts, names, timers."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp import runtime as rt
from ptclisp.runtime import ANY


def test_run_returns_the_main_result():
    async def main():
        return 42

    assert rt.run(main) == 42


def test_run_reraises_the_crash_of_main():
    async def main():
        raise KeyError("boom")

    with pytest.raises(KeyError):
        rt.run(main)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=5))
def test_messages_from_one_sender_arrive_in_send_order(counts):
    async def producer(sink, tag, count):
        for i in range(count):
            rt.send(sink, (tag, i))
            if i % 3 == 0:
                await rt.yield_()  # interleave with the other producers

    async def main():
        me = rt.self_pid()
        for tag, count in enumerate(counts):
            rt.spawn(producer, me, tag, count)
        seen = {tag: [] for tag in range(len(counts))}
        for _ in range(sum(counts)):
            tag, i = await rt.receive()
            seen[tag].append(i)
        return seen

    seen = rt.run(main)
    assert seen == {tag: list(range(count)) for tag, count in enumerate(counts)}


def test_selective_receive_takes_the_first_match_and_keeps_the_rest_in_order():
    async def main():
        me = rt.self_pid()
        for msg in [("a", 1), ("b", 2), ("a", 3), {"kind": "x", "n": 4}, 5]:
            rt.send(me, msg)
        got = [await rt.receive(("b", ANY))]
        got.append(await rt.receive({"kind": "x"}))
        got.append(await rt.receive(int))
        got.append(await rt.receive(lambda m: m == ("a", 3)))
        got.append(await rt.receive())
        return got

    assert rt.run(main) == [("b", 2), {"kind": "x", "n": 4}, 5, ("a", 3), ("a", 1)]


def test_selective_receive_waits_for_a_matching_message():
    async def sender(dest):
        rt.send(dest, "noise")
        await rt.sleep(0.01)
        rt.send(dest, ("reply", 7))

    async def main():
        rt.spawn(sender, rt.self_pid())
        reply = await rt.receive(("reply", int), timeout=5)
        left = await rt.receive(timeout=0, default=None)
        return reply, left

    assert rt.run(main) == (("reply", 7), "noise")


def test_receive_timeout_raises_or_returns_the_default():
    async def main():
        default = await rt.receive(timeout=0.01, default="none")
        polled = await rt.receive(timeout=0, default="empty")
        with pytest.raises(rt.ReceiveTimeout) as info:
            await rt.receive("never", timeout=0.01)
        return default, polled, info.value.code

    assert rt.run(main) == ("none", "empty", "receive_timeout")


def test_a_message_that_arrives_before_the_timeout_cancels_it():
    async def main():
        rt.send_after(0.01, rt.self_pid(), "hi")
        msg = await rt.receive(timeout=5)
        later = await rt.receive(timeout=0.05, default="quiet")  # the old timer must not fire
        return msg, later

    assert rt.run(main) == ("hi", "quiet")


def test_registered_names_resolve_and_disappear_on_exit():
    async def echo():
        msg = await rt.receive()
        rt.send(msg, "pong")

    async def main():
        pid = rt.spawn(echo)
        rt.register("echo", pid)
        assert rt.whereis("echo") is pid
        with pytest.raises(ValueError):
            rt.register("echo", rt.self_pid())
        rt.send("echo", rt.self_pid())
        assert await rt.receive(timeout=5) == "pong"
        await rt.sleep(0.001)
        assert rt.whereis("echo") is None
        with pytest.raises(rt.NoProcess):
            rt.send("echo", "x")
        return "ok"

    assert rt.run(main) == "ok"


def test_send_after_and_cancel_timer():
    async def main():
        me = rt.self_pid()
        keep = rt.send_after(0.01, me, "kept")
        drop = rt.send_after(0.01, me, "dropped")
        assert rt.cancel_timer(drop) is True
        assert await rt.receive(timeout=5) == "kept"
        assert rt.cancel_timer(keep) is False  # already fired
        return await rt.receive(timeout=0.05, default="nothing else")

    assert rt.run(main) == "nothing else"


def test_sending_to_a_dead_pid_is_dropped():
    async def quick():
        return None

    async def main():
        pid = rt.spawn(quick)
        await rt.sleep(0.001)
        assert not pid.alive and pid.exit_reason == "normal"
        rt.send(pid, "lost")
        return "ok"

    assert rt.run(main) == "ok"


def test_actor_calls_outside_a_process_raise_not_in_process():
    with pytest.raises(rt.NotInProcess):
        rt.self_pid()
    with pytest.raises(rt.NotInProcess):
        rt.send_after(1, "x", 1)


def test_spawn_rejects_a_sync_function():
    def not_async():
        return 1

    async def main():
        with pytest.raises(TypeError):
            rt.spawn(not_async)
        return "ok"

    assert rt.run(main) == "ok"


def test_a_busy_mailbox_does_not_starve_other_processes():
    async def flooder(n):
        me = rt.self_pid()
        for i in range(n):
            rt.send(me, i)
        for _ in range(n):
            await rt.receive()
        return "done"

    async def ticker(dest):
        rt.send(dest, "tick")

    async def main():
        me = rt.self_pid()
        flood = rt.spawn(flooder, 5000)
        rt.spawn(ticker, me)
        assert await rt.receive(timeout=5) == "tick"
        return flood.alive  # the ticker ran while the flooder was still draining

    assert rt.run(main) is True


def test_call_and_reply():
    async def server():
        while True:
            req = await rt.receive(rt.Request)
            if req.payload == "fail":
                rt.reply_error(req, ValueError("bad request"))
            elif req.payload == "die":
                raise RuntimeError("server died")
            else:
                rt.reply(req, req.payload * 2)

    async def main():
        pid = rt.spawn(server)
        assert await rt.call(pid, 21) == 42
        with pytest.raises(ValueError):
            await rt.call(pid, "fail")
        with pytest.raises(rt.ProcessDown) as info:
            await rt.call(pid, "die")
        assert isinstance(info.value.reason, RuntimeError)
        return "ok"

    assert rt.run(main) == "ok"


def test_call_times_out():
    async def silent():
        await rt.receive("never")

    async def main():
        pid = rt.spawn(silent)
        with pytest.raises(rt.CallTimeout):
            await rt.call(pid, "hello", timeout=0.02)
        return "ok"

    assert rt.run(main) == "ok"


def test_sleep_lets_others_run():
    async def sleeper(dest, delay, tag):
        await rt.sleep(delay)
        rt.send(dest, tag)

    async def main():
        me = rt.self_pid()
        rt.spawn(sleeper, me, 0.05, "slow")
        rt.spawn(sleeper, me, 0.0, "fast")
        return [await rt.receive(timeout=5), await rt.receive(timeout=5)]

    started = time.monotonic()
    assert rt.run(main) == ["fast", "slow"]
    assert time.monotonic() - started >= 0.05
