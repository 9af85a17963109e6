"""Issue 15's entry shortcuts: runs given neither tools nor data share one tool host, which
never records, journals or suspends; anything that could reach a host's state gets its own."""

from __future__ import annotations

import threading

import ptclisp
from ptclisp import _run
from ptclisp._values.types import OpHandle, Vector


def test_tool_less_runs_share_a_host_that_keeps_nothing() -> None:
    sources = ["(+ 1 2)", "(tool/x {:a 1})", "(pmap #(tool/x {:a %}) [1 2])",
               "[(await 1) (await-all [1 2]) (await-any [3])]", "(println 1)"]
    results: list[ptclisp.Result] = []

    def worker() -> None:
        for _ in range(20):
            results.extend(ptclisp.run(s) for s in sources)  # type: ignore[misc]

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 * 20 * len(sources)
    assert all(r.tool_calls == [] for r in results)
    assert {r.error.code for r in results if r.error is not None} == {"tool_not_found"}
    shared = _run._no_tools_host()
    assert shared.calls == [] and shared.journal.calls == [] and shared.journal.op_results == {}
    assert shared.awaiting == () and shared.form_hook is None


def test_runs_with_data_or_tools_get_their_own_host() -> None:
    data = {"h": Vector([OpHandle("op-1", "slow")])}  # a host passing a handle in its data
    step = ptclisp.run("(await (first data/h))", data=data)
    assert isinstance(step, ptclisp.PendingStep)  # suspended on its own host's journal
    shared = _run._no_tools_host()
    assert shared.awaiting == () and shared.journal.awaits_done == 0
    with_tools = ptclisp.run("(tool/echo {:a 1})", tools={"echo": lambda a: a})
    assert with_tools.ok and len(with_tools.tool_calls) == 1 and shared.calls == []
