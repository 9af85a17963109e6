"""Processes, messages, selective receive, links and monitors.

Run: python examples/runtime_actors.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ptclisp import runtime as rt
from ptclisp.runtime import ANY


async def counter():
    """A tiny stateful server: ("add", n) adds, Request "get" answers with the total."""
    total = 0
    while True:
        msg = await rt.receive(("add", int), rt.Request)
        if isinstance(msg, rt.Request):
            rt.reply(msg, total)
        else:
            total += msg[1]


async def fragile():
    await rt.sleep(0.01)
    raise RuntimeError("I crash on purpose")


async def main():
    rt.register("counter", rt.spawn(counter))
    for n in range(1, 11):
        rt.send("counter", ("add", n))
    print("total:", await rt.call("counter", "get"))

    me = rt.self_pid()
    rt.send(me, ("low", 1))
    rt.send(me, ("high", 2))
    print("selective receive picks:", await rt.receive(("high", ANY)))
    print("then the older one:", await rt.receive())

    rt.trap_exit(True)
    pid = rt.spawn_link(fragile)
    exit_msg = await rt.receive(rt.Exit, timeout=5)
    print("linked child exited:", exit_msg.pid is pid, repr(exit_msg.reason))

    _, ref = rt.spawn_monitor(fragile)
    down = await rt.receive(rt.Down, timeout=5)
    print("monitor saw:", down.ref is ref, type(down.reason).__name__)

    rt.send_after(0.01, me, "tick")
    print("timer:", await rt.receive("tick", timeout=5))
    print("timeout default:", await rt.receive("never", timeout=0.01, default="nothing came"))
    return "done"


if __name__ == "__main__":
    print(rt.run(main))
