"""A supervision tree: a worker that crashes is restarted; too many crashes escalate.

Run: python examples/runtime_supervision.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ptclisp import runtime as rt
from ptclisp.runtime import ChildSpec, Restart, Strategy, Supervisor


async def worker(observer, tag):
    rt.send(observer, ("up", tag, rt.self_pid()))
    while True:
        if await rt.receive() == "crash":
            raise RuntimeError(f"{tag} crashed")


async def main():
    me = rt.self_pid()
    tree = Supervisor(
        [
            ChildSpec("db", worker, (me, "db"), name="db"),
            ChildSpec("cache", worker, (me, "cache"), restart=Restart.TRANSIENT),
        ],
        strategy=Strategy.REST_FOR_ONE,  # the cache depends on the db
        max_restarts=3,
        period=5.0,
    )
    sup, ref = rt.spawn_monitor(tree.run)
    for _ in range(2):
        print("started:", (await rt.receive(("up", rt.ANY, rt.ANY)))[1])

    rt.send("db", "crash")  # rest_for_one: db and cache restart
    for _ in range(2):
        print("restarted:", (await rt.receive(("up", rt.ANY, rt.ANY)))[1])
    print("children:", [cid for cid, _ in await rt.call(sup, "which_children")])

    for _ in range(2):  # restarts 2 and 3: still within the intensity
        rt.send("db", "crash")
        await rt.receive(("up", "db", rt.ANY), timeout=5)
        await rt.receive(("up", "cache", rt.ANY), timeout=5)
    rt.send("db", "crash")  # a 4th restart within 5 s is one too many: escalate
    down = await rt.receive(rt.Down, timeout=5)
    print("supervisor gave up:", down.ref is ref, down.reason.code)
    return "done"


if __name__ == "__main__":
    print(rt.run(main))
