"""Supervisors: strategies, restart types, restart intensity and escalation."""

import pytest

from ptclisp import runtime as rt
from ptclisp.runtime import ChildSpec, Restart, Strategy, Supervisor


async def worker(observer, tag):
    """Reports each start to the observer, then serves: "crash" crashes, "stop" exits normally."""
    rt.send(observer, ("started", tag, rt.self_pid()))
    while True:
        msg = await rt.receive()
        if msg == "crash":
            raise RuntimeError(f"{tag} crashed")
        if msg == "stop":
            return


async def started(n):
    """Collect the next ``n`` start reports as {tag: pid}."""
    out = {}
    for _ in range(n):
        _, tag, pid = await rt.receive(("started", rt.ANY, rt.ANY), timeout=5)
        out[tag] = pid
    return out


def specs(observer, tags, restart=Restart.PERMANENT):
    return [ChildSpec(tag, worker, (observer, tag), restart=restart) for tag in tags]


def run_strategy(strategy):
    async def main():
        me = rt.self_pid()
        rt.spawn(Supervisor(specs(me, "abc"), strategy).run)
        first = await started(3)
        rt.send(first["b"], "crash")
        again = await started({"one_for_one": 1, "one_for_all": 3, "rest_for_one": 2}[strategy])
        await rt.sleep(0.01)
        extra = await rt.receive(timeout=0, default=None)
        restarted = sorted(again)
        killed = sorted(tag for tag, pid in first.items() if not pid.alive)
        return restarted, killed, extra

    return rt.run(main)


def test_one_for_one_restarts_only_the_crashed_child():
    assert run_strategy("one_for_one") == (["b"], ["b"], None)


def test_one_for_all_restarts_every_child():
    assert run_strategy("one_for_all") == (["a", "b", "c"], ["a", "b", "c"], None)


def test_rest_for_one_restarts_the_crashed_child_and_later_ones():
    assert run_strategy("rest_for_one") == (["b", "c"], ["b", "c"], None)


def test_restart_types():
    async def main():
        me = rt.self_pid()
        children = [
            ChildSpec("perm", worker, (me, "perm"), restart=Restart.PERMANENT),
            ChildSpec("trans", worker, (me, "trans"), restart=Restart.TRANSIENT),
            ChildSpec("temp", worker, (me, "temp"), restart=Restart.TEMPORARY),
        ]
        sup = rt.spawn(Supervisor(children, max_restarts=10).run)
        pids = await started(3)
        rt.send(pids["perm"], "stop")  # permanent: restarted even after a normal exit
        assert list(await started(1)) == ["perm"]
        rt.send(pids["trans"], "stop")  # transient + normal exit: not restarted
        rt.send(pids["temp"], "crash")  # temporary: never restarted, and forgotten
        await rt.sleep(0.01)
        assert await rt.receive(("started", rt.ANY, rt.ANY), timeout=0, default=None) is None
        children_now = await rt.call(sup, "which_children")
        return [(cid, pid is not None) for cid, pid in children_now]

    assert rt.run(main) == [("perm", True), ("trans", False)]


def test_transient_child_is_restarted_after_a_crash():
    async def main():
        me = rt.self_pid()
        rt.spawn(Supervisor(specs(me, ["t"], Restart.TRANSIENT)).run)
        first = await started(1)
        rt.send(first["t"], "crash")
        again = await started(1)
        return again["t"] is not first["t"]

    assert rt.run(main) is True


def test_restart_intensity_escalates_through_the_tree():
    async def main():
        me = rt.self_pid()
        inner = Supervisor(specs(me, ["w"]), max_restarts=2, period=5)
        outer = Supervisor([ChildSpec("inner", inner.run)], max_restarts=1, period=5)
        top, _ref = rt.spawn_monitor(outer.run)
        crashes = 0
        while True:
            tagged = await rt.receive(("started", rt.ANY, rt.ANY), rt.Down, timeout=5)
            if isinstance(tagged, rt.Down):
                return crashes, tagged.pid is top, tagged.reason
            crashes += 1
            rt.send(tagged[2], "crash")

    crashes, is_top, reason = rt.run(main)
    # inner allows 2 restarts (3 starts) before escalating; outer restarts inner once (3 more
    # starts), then the second escalation exceeds outer's intensity and it gives up too.
    assert crashes == 6 and is_top
    assert isinstance(reason, rt.RestartIntensity) and reason.code == "restart_intensity"


def test_supervisor_exits_with_its_parent_and_stops_children():
    async def parent(observer):
        rt.spawn_link(Supervisor(specs(observer, "xy")).run)
        await rt.receive("never")

    async def main():
        p = rt.spawn(parent, rt.self_pid())
        kids = await started(2)
        rt.exit_process(p, "bye")
        await rt.sleep(0.01)
        return [pid.exit_reason for pid in kids.values()]

    assert rt.run(main) == ["shutdown", "shutdown"]


def test_child_that_ignores_shutdown_is_killed_after_its_grace_period():
    async def stubborn(observer):
        rt.trap_exit(True)
        rt.send(observer, ("started", "s", rt.self_pid()))
        while True:
            await rt.receive()  # swallows the shutdown Exit message

    async def main():
        me = rt.self_pid()
        children = [
            ChildSpec("s", stubborn, (me,), shutdown=0.02),
            ChildSpec("w", worker, (me, "w")),
        ]
        rt.spawn(Supervisor(children, Strategy.ONE_FOR_ALL).run)
        first = await started(2)
        rt.send(first["w"], "crash")
        await started(2)
        return first["s"].exit_reason

    assert rt.run(main) == "killed"


def test_supervisor_requests():
    async def main():
        me = rt.self_pid()
        sup = rt.spawn(Supervisor(specs(me, "ab")).run)
        await started(2)
        assert await rt.call(sup, "count_children") == 2
        assert await rt.call(sup, ("terminate_child", "a")) is True
        assert await rt.call(sup, "count_children") == 1
        assert await rt.call(sup, ("restart_child", "a")) is True
        await started(1)
        with pytest.raises(ValueError):
            await rt.call(sup, "bogus")
        return await rt.call(sup, "count_children")

    assert rt.run(main) == 2


def test_named_children_are_found_after_a_restart():
    async def main():
        me = rt.self_pid()
        rt.spawn(Supervisor([ChildSpec("n", worker, (me, "n"), name="svc")]).run)
        first = await started(1)
        assert rt.whereis("svc") is first["n"]
        rt.send("svc", "crash")
        again = await started(1)
        return rt.whereis("svc") is again["n"] and again["n"] is not first["n"]

    assert rt.run(main) is True


def test_child_ids_must_be_unique():
    with pytest.raises(ValueError):
        Supervisor([ChildSpec("a", worker), ChildSpec("a", worker)])


def test_host_shutdown_of_a_supervisor_with_a_stopped_child():
    async def idle_worker():
        await rt.receive("never")

    children = [ChildSpec("a", idle_worker), ChildSpec("b", idle_worker)]
    with rt.Runtime() as runtime:
        sup = runtime.spawn(Supervisor(children).run)
        assert runtime.call(sup, ("terminate_child", "a")) is True
        kids = runtime.call(sup, "which_children")
        runtime.exit_process(sup, "shutdown")  # sender is the host: no pid
        assert runtime.wait(sup, timeout=5)[0] == "shutdown"
        live = [pid for _, pid in kids if pid is not None]
        assert len(live) == 1 and live[0].exit_reason == "shutdown"
