"""``execute``: the reusable core under ``run`` — namespaces across calls, parallel map, cache."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import ptclisp
from ptclisp._compiler.context import Namespace
from ptclisp._limits import Limits, Meter, current_meter
from ptclisp._run import execute, load
from ptclisp._tools.host import ToolHost


def turn(ns, source, *, tools=None, parallel_map=None):
    program = load(source, known_globals=tuple(ns))
    return execute(program, host=ToolHost(tools), data={}, meter=Meter(Limits()), namespace=ns,
                   parallel_map=parallel_map)


def test_defs_persist_across_turns_and_history_holds_the_last_three_results():
    ns = Namespace()
    turn(ns, "(defn double [x] (* 2 x)) (def base 10)")
    assert turn(ns, "(double base)").value == 20
    turn(ns, "(+ 1 1)")
    turn(ns, ":third")
    assert turn(ns, "[*1 *2 *3]").value == ptclisp.Vector([ptclisp.Keyword("third"), 2, 20])


def test_a_function_defined_earlier_meters_against_the_run_that_calls_it():
    ns = Namespace()
    turn(ns, "(defn spin [n] (loop [i 0] (if (< i n) (recur (inc i)) i)))")
    program = load("(spin 5000)", known_globals=tuple(ns))
    meter = Meter(Limits(max_steps=1000))
    with pytest.raises(ptclisp.LimitExceeded) as info:
        execute(program, host=ToolHost(None), data={}, meter=meter, namespace=ns)
    assert info.value.code == "step_limit"


def test_fail_is_a_completion_not_an_exception():
    done = turn(Namespace(), "(fail :nope)")
    assert (done.status, done.value) == ("failed", ptclisp.Keyword("nope"))


def threaded(fn, items, max_concurrency):
    with ThreadPoolExecutor(max_concurrency) as pool:
        return list(pool.map(fn, items))


def test_pmap_and_pcalls_give_the_same_results_sequentially_and_in_threads():
    seen_threads = set()

    def lookup(args):
        seen_threads.add(threading.get_ident())
        current_meter()  # tool code runs with the run's meter installed, in any thread
        return {"v": args["i"] * 10}

    source = ("[(pmap #(:v (tool/lookup {:i %})) (range 20)) "
              "(pcalls #(inc 1) #(:v (tool/lookup {:i 7})))]")
    sequential = turn(Namespace(), source, tools={"lookup": lookup}).value
    parallel = turn(Namespace(), source, tools={"lookup": lookup}, parallel_map=threaded).value
    assert sequential == parallel
    assert sequential[0] == ptclisp.List(range(0, 200, 10))
    assert len(seen_threads) > 1


def test_pmap_over_several_collections():
    assert turn(Namespace(), "(pmap + [1 2] [10 20])").value == ptclisp.List([11, 22])


def test_analysis_is_cached_by_source_text():
    assert load("(+ 1 2 3)") is load("(+ 1 2 3)")
    assert load("(f)", known_globals=("f",)) is not load("(g)", known_globals=("g",))


def test_nothing_but_keyboard_interrupt_escapes_run():
    def exits(args):
        raise SystemExit(3)

    result = ptclisp.run("(tool/exits {})", tools={"exits": exits})
    assert result.status == "error" and result.error.code == "tool_error"
    assert "SystemExit" in result.error.message

    def interrupted(args):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ptclisp.run("(tool/stop {})", tools={"stop": interrupted})


def test_host_data_that_is_not_json_like_is_a_clear_error():
    result = ptclisp.run("data/x", data={"x": object()})
    assert result.error.code == "invalid_args" and "data/x" in result.error.message


def test_run_returns_a_pending_step_when_an_async_operation_is_unfinished():
    slow = ptclisp.Tool("slow", lambda x: None, signature="(x :int) -> :int", is_async=True)
    step = ptclisp.run("(await (tool/slow {:x 1}))", tools={"slow": slow})
    assert isinstance(step, ptclisp.PendingStep) and step.status == "pending"
