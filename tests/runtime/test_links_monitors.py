"""Links, monitors, trap_exit and exit signals."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp import runtime as rt
from ptclisp.runtime import ANY


async def crash_after(delay, exc=None):
    await rt.sleep(delay)
    raise exc or RuntimeError("crash")


async def wait_forever():
    await rt.receive("never")


def test_a_crash_propagates_along_links():
    async def middle():
        rt.spawn_link(crash_after, 0.001)
        await rt.receive("never")

    async def main():
        pid, ref = rt.spawn_monitor(middle)
        down = await rt.receive(rt.Down, timeout=5)
        return down.ref is ref, down.pid is pid, type(down.reason)

    assert rt.run(main) == (True, True, RuntimeError)


def test_a_normal_exit_does_not_kill_linked_processes():
    async def quick():
        return "bye"

    async def main():
        rt.spawn_link(quick)
        await rt.sleep(0.005)
        return "still alive"

    assert rt.run(main) == "still alive"


def test_trap_exit_turns_exit_signals_into_messages():
    async def main():
        assert rt.trap_exit(True) is False
        pid = rt.spawn_link(crash_after, 0.001, ValueError("x"))
        msg = await rt.receive(rt.Exit, timeout=5)
        normal = rt.spawn_link(crash_after, 10)
        rt.exit_process(normal, "normal")  # trapped by a non-trapping child: ignored
        await rt.sleep(0.002)
        return msg.pid is pid, type(msg.reason), normal.alive

    assert rt.run(main) == (True, ValueError, True)


def test_kill_cannot_be_trapped_and_links_see_killed():
    async def trapper():
        rt.trap_exit(True)
        await rt.receive("never")

    async def main():
        rt.trap_exit(True)
        pid = rt.spawn_link(trapper)
        await rt.yield_()
        rt.exit_process(pid, "kill")
        msg = await rt.receive(rt.Exit, timeout=5)
        return msg.reason, pid.exit_reason

    assert rt.run(main) == ("killed", "killed")


def test_exit_signal_to_a_trapping_process_becomes_a_message():
    async def trapper(parent):
        rt.trap_exit(True)
        msg = await rt.receive(rt.Exit)
        rt.send(parent, ("got", msg.reason))

    async def main():
        pid = rt.spawn(trapper, rt.self_pid())
        await rt.yield_()
        rt.exit_process(pid, "please stop")
        return await rt.receive(timeout=5)

    assert rt.run(main) == ("got", "please stop")


def test_killed_process_runs_its_finally_block():
    async def worker(parent):
        try:
            await rt.receive("never")
        finally:
            rt.send(parent, "cleaned up")

    async def main():
        pid = rt.spawn(worker, rt.self_pid())
        await rt.yield_()
        rt.exit_process(pid, "shutdown")
        return await rt.receive(timeout=5), pid.exit_reason

    assert rt.run(main) == ("cleaned up", "shutdown")


def test_exit_process_on_self_ends_with_that_reason():
    async def quitter():
        rt.exit_process(rt.self_pid(), "done here")
        raise AssertionError("unreachable")

    async def main():
        _pid, _ = rt.spawn_monitor(quitter)
        down = await rt.receive(rt.Down, timeout=5)
        return down.reason

    assert rt.run(main) == "done here"


def test_monitor_of_a_dead_process_reports_noproc_and_demonitor_stops_downs():
    async def quick():
        return None

    async def main():
        pid = rt.spawn(quick)
        await rt.sleep(0.001)
        ref = rt.monitor(pid)
        down = await rt.receive(rt.Down, timeout=5)
        other = rt.spawn(crash_after, 0.001)
        ref2 = rt.monitor(other)
        assert rt.demonitor(ref2) is True
        await rt.sleep(0.01)
        left = await rt.receive(rt.Down, timeout=0, default=None)
        return down.ref is ref, down.reason, left

    assert rt.run(main) == (True, "noproc", None)


def test_unlink_stops_propagation():
    async def main():
        pid = rt.spawn_link(crash_after, 0.002)
        rt.unlink(pid)
        await rt.sleep(0.01)
        return pid.alive

    assert rt.run(main) is False  # the child died, we survived


def test_a_long_link_chain_dies_without_recursion_errors():
    async def chain_link(n):
        if n:
            rt.spawn_link(chain_link, n - 1)
            await rt.receive("never")
        else:
            await rt.sleep(0.001)
            raise RuntimeError("end of chain")

    async def main():
        _pid, _ = rt.spawn_monitor(chain_link, 3000)
        down = await rt.receive(rt.Down, timeout=10)
        return type(down.reason)

    assert rt.run(main) is RuntimeError


def test_supervised_receive_of_exit_messages_from_many_children():
    async def main():
        rt.trap_exit(True)
        pids = {rt.spawn_link(crash_after, 0.001 * i) for i in range(20)}
        seen = set()
        while len(seen) < 20:
            seen.add((await rt.receive(rt.Exit, timeout=5)).pid)
        return seen == pids

    assert rt.run(main) is True


def test_error_codes_and_hierarchy():
    from ptclisp._errors import PtclispError, ToolError

    assert issubclass(rt.ActorError, PtclispError)
    assert issubclass(rt.ToolCrashed, ToolError) and issubclass(rt.ToolCrashed, rt.ActorError)
    assert rt.ToolCrashed("x").code == "tool_crashed"
    assert rt.NoProcess("x").code == "noproc"
    with pytest.raises(rt.ActorError):
        raise rt.CircuitOpen("open")


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=2, max_value=10).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] < e[1])),
            st.lists(st.booleans(), min_size=n, max_size=n),
            st.integers(0, n - 1),
        )
    )
)
def test_a_crash_spreads_exactly_to_the_non_trapping_linked_component(graph):
    """Property: who dies and who receives Exit messages follows the link rules exactly."""
    n, edges, traps, victim = graph

    async def node(index, trapping, report):
        rt.trap_exit(trapping)
        _, peers = await rt.receive(("link", ANY))
        for peer in peers:
            rt.link(peer)
        rt.send(report, ("linked", index))
        while True:
            msg = await rt.receive()
            if msg == "crash":
                raise RuntimeError(f"node {index}")
            if isinstance(msg, rt.Exit):
                rt.send(report, ("exit", index, msg.pid))

    async def main():
        me = rt.self_pid()
        pids = [rt.spawn(node, i, traps[i], me) for i in range(n)]
        for i in range(n):
            rt.send(pids[i], ("link", [pids[j] for a, j in edges if a == i]))
        for _ in range(n):
            await rt.receive(("linked", ANY), timeout=5)
        for pid in pids:
            rt.monitor(pid)
        rt.send(pids[victim], "crash")
        await rt.sleep(0.01)
        dead = set()
        while (down := await rt.receive(rt.Down, timeout=0, default=None)) is not None:
            dead.add(pids.index(down.pid))
        exits = set()
        while (msg := await rt.receive(("exit", ANY, ANY), timeout=0, default=None)) is not None:
            exits.add((msg[1], pids.index(msg[2])))
        return dead, exits

    neighbours = {i: set() for i in range(n)}
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)
    expected_dead, expected_exits, frontier = {victim}, set(), [victim]
    while frontier:
        d = frontier.pop()
        for peer in neighbours[d]:
            if peer in expected_dead:
                continue
            if traps[peer]:
                expected_exits.add((peer, d))
            else:
                expected_dead.add(peer)
                frontier.append(peer)

    assert rt.run(main) == (expected_dead, expected_exits)


def test_monitors_are_cleaned_up_when_either_side_goes_away():
    async def server():
        await rt.receive("never")

    async def watcher(target):
        rt.monitor(target)
        await rt.receive("never")

    async def main():
        srv = rt.spawn(server)
        watchers = [rt.spawn(watcher, srv) for _ in range(5)]
        await rt.sleep(0.001)
        held = len(srv._monitors)
        for w in watchers:
            rt.exit_process(w, "kill")
        await rt.sleep(0.001)
        after_watchers_died = len(srv._monitors)
        ref = rt.monitor(srv)
        rt.exit_process(srv, "kill")
        down = await rt.receive(rt.Down, timeout=5)
        return held, after_watchers_died, down.ref is ref, len(rt.self_pid()._monitors)

    assert rt.run(main) == (5, 0, True, 0)
