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


def test_result_fields_are_in_the_order_run_builds_them() -> None:
    """``run_loaded`` builds its ``Result`` positionally (keywords cost per run)."""
    import dataclasses

    assert [f.name for f in dataclasses.fields(ptclisp.Result)] == [
        "status", "value", "returned", "output", "tool_calls", "steps", "memory", "duration_s",
        "error"]
    result = ptclisp.run('(println "hi") (tool/t {:a 1}) (return [1 2])',
                         tools={"t": lambda args: args["a"]})
    assert isinstance(result, ptclisp.Result)
    assert (result.status, result.value, result.returned, result.output) == \
        ("ok", Vector([1, 2]), True, "hi\n")
    assert [c.name for c in result.tool_calls] == ["t"] and result.error is None
    assert result.steps > 0 and result.memory > 0 and result.duration_s > 0


def test_the_thread_meter_is_restored_after_a_run_and_a_nested_run() -> None:
    from ptclisp._limits import active_meter

    seen: list[object] = []

    def nested(args: dict[str, object]) -> int:
        outer = active_meter()
        inner = ptclisp.run("(+ 1 2)")
        seen.append(active_meter() is outer)
        return inner.value  # type: ignore[union-attr,return-value]

    assert active_meter() is None
    result = ptclisp.run("(tool/nested {})", tools={"nested": nested})
    assert result.value == 3 and seen == [True]
    assert ptclisp.run("(/ 1 0)").error.code == "division_by_zero"  # type: ignore[union-attr]
    assert active_meter() is None


def test_a_meter_starts_with_its_budgets_checked() -> None:
    """``Meter`` checks the steps already spent and the clock when made (as ``refuel`` did)."""
    from ptclisp._errors import LimitExceeded
    from ptclisp._limits import Limits, Meter

    meter = Meter(Limits(max_steps=100), steps_spent=40)
    assert meter.steps == 40 and meter.fuel == 60
    try:
        Meter(Limits(max_steps=100), steps_spent=101)
    except LimitExceeded as exc:
        assert exc.code == "step_limit"
    else:
        raise AssertionError("a meter past its step limit was made")
