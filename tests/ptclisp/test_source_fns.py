"""Fns compiled to Python source and their loop kernels (``ptclisp/_compile_source.py``).

The property tests (tests/properties/test_source_fns.py) compare them with the closure compiler
on generated bodies; these are the cases a generator does not reach: limits inside kernels,
globals, data, tools, recursion, sessions.
"""

from __future__ import annotations

import time
from functools import partial
from unittest.mock import patch

import pytest

import ptclisp
from ptclisp import Limits
from ptclisp._analyzer import ast as A
from ptclisp._compiler import compiler as _compiler
from ptclisp._compiler.context import Namespace
from ptclisp._compiler.source import KERNEL_MIN_ITEMS, is_compiled
from ptclisp._core._kernels import _BATCH
from ptclisp._limits import Meter
from ptclisp._run import execute, load
from ptclisp._tools.host import ToolHost


def kernels_of(source: str) -> object:
    """The filter kernel of the fn ``source`` evaluates to, compiled now if it can have one."""
    offer = getattr(ptclisp.run(source).value, "ptclisp_kernels", None)
    return None if offer is None else offer.kernel("keep", KERNEL_MIN_ITEMS)


@pytest.mark.parametrize("source", [
    '#(= (:status %) "paid")',
    "(fn [o] (* (:qty o) (:price o 1.0)))",
    "(fn [x] (let [y (inc x)] (if (and (< y 3) (not (nil? x))) [y] {:y y})))",
    "(let [n 3] (fn [x] (+ x n)))",
    "(fn [x] (tool/lookup {:x x}))",
    "(fn [x] (str x data/suffix))",
    "(fn [{:keys [a]}] a)",
    "(fn [[a {:keys [c] :or {c 1}}]] (+ a c))",
])
def test_one_expression_bodies_become_source_fns_with_kernels(source: str) -> None:
    assert kernels_of(source) is not None


@pytest.mark.parametrize("source", [
    "(fn [x] (loop [i x] (if (pos? i) (recur (dec i)) i)))",
    "(fn [x & more] x)",
    "(fn ([x] x) ([x y] y))",
    "(fn [x] (fn [y] (+ x y)))",
    "(fn [x] (case x 1 :one :other))",
])
def test_other_bodies_stay_closures(source: str) -> None:
    result = ptclisp.run(source)
    assert callable(result.value)
    assert kernels_of(source) is None


def test_a_kernel_charges_one_step_per_item_as_calls_would() -> None:
    n = 3 * _BATCH + 7
    by_kernel = ptclisp.run(f"(count (filter #(odd? %) (vec (range {n}))))")
    by_calls = ptclisp.run(f"(count (filter #(odd? %) (vec (range {n}))))".replace(
        "#(odd? %)", "(fn [x] (loop [] (odd? x)))"))  # a loop: not a source fn
    assert by_kernel.value == by_calls.value == n // 2
    assert by_kernel.steps == by_calls.steps


def test_step_limit_stops_a_kernel_between_batches() -> None:
    n = 100_000
    building = n + 1  # what filter charges for its result before calling the predicate
    limits = Limits(max_steps=building + 3 * _BATCH)
    result = ptclisp.run("(count (filter #(> % 1) data/xs))", data={"xs": list(range(n))},
                         limits=limits)
    assert result.error is not None and result.error.code == "step_limit"
    assert result.steps <= building + 4 * _BATCH  # stopped at the fourth batch, not at the end


@pytest.mark.parametrize("spare", [0, 1, 2, 5, 700, 2_999, 3_000, 3_001, 5_000])
def test_a_batch_the_budget_ends_in_stops_where_the_calls_would(spare: int) -> None:
    """The budget ends inside a batch: the calls it pays for run, the next one is over the
    limit, and the run reports the limit's steps (not the whole batch's up-front charge)."""
    program = "(count (filter #(odd? %) (vec (range 3000))))"
    by_calls = program.replace("#(odd? %)", "(fn [x] (loop [] (odd? x)))")  # not a source fn
    whole = ptclisp.run(program).steps
    limits = Limits(max_steps=whole - 3_000 + spare)
    kernel, calls = ptclisp.run(program, limits=limits), ptclisp.run(by_calls, limits=limits)
    assert (kernel.status, kernel.steps, kernel.value) == (calls.status, calls.steps, calls.value)
    if spare < 3_000:
        assert kernel.error is not None and kernel.error.code == "step_limit"
        assert kernel.steps == limits.max_steps + 1


def test_a_fold_that_stops_within_the_budget_is_not_a_step_limit() -> None:
    program = "(reduce (fn [a x] (if (= x 10) (reduced a) (+ a x))) 0 (vec (range 3000)))"
    whole = ptclisp.run(program)
    assert whole.value == 45
    limited = ptclisp.run(program, limits=Limits(max_steps=whole.steps))
    assert (limited.value, limited.steps) == (45, whole.steps)


def test_the_clock_is_checked_between_batches() -> None:
    limits = Limits(timeout_s=0.3, max_steps=10**9, max_memory=2**31)
    started = time.monotonic()
    result = ptclisp.run(
        "(let [xs (vec (range 200000))] (loop [] (count (filter #(= (str %) \"x\") xs)) (recur)))",
        limits=limits)
    assert result.error is not None and result.error.code == "timeout"
    assert time.monotonic() - started < 10  # bounded (a loaded CI machine is slow, not stuck)


def test_depth_counts_a_kernel_as_one_call_level() -> None:
    source = """(defn down [n] (if (zero? n) 0 (first (mapv (fn [x] (down (dec x))) [n]))))
                (down {n})"""
    assert ptclisp.run(source.format(n=100)).value == 0
    deep = ptclisp.run(source.format(n=1000))
    assert deep.error is not None and deep.error.code == "depth_limit"


def test_an_error_inside_a_kernel_has_the_position_of_its_call() -> None:
    result = ptclisp.run('(filter\n  #(< % "a")\n  [1 2])')
    assert result.error is not None
    assert (result.error.code, result.error.line, result.error.column) == ("type_error", 2, 3)


def test_an_error_refunds_the_items_a_kernel_never_started() -> None:
    source = "(mapv #(/ 10 %) [1 2 0 4 5 6])"
    with_kernel = ptclisp.run(source)
    with_calls = ptclisp.run(source.replace("#(/ 10 %)", "(fn [x] (loop [] (/ 10 x)))"))
    assert with_kernel.error.code == with_calls.error.code == "division_by_zero"
    assert with_kernel.steps == with_calls.steps


def test_named_source_fns_recurse_through_themselves() -> None:
    source = "(defn fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))) [(fib 20) fib]"
    eager = partial(_compiler.compile_program, source_fns="eager")
    with patch.object(_compiler, "compile_program", eager):
        value = ptclisp.run(source).value
    assert value[0] == 6765
    assert value[1].__code__.co_filename.startswith("<ptclisp fn")


def test_a_global_used_before_its_def_is_the_usual_error() -> None:
    result = ptclisp.run("(defn g [x] (h x)) (g 1) (defn h [x] x)")
    assert result.error is not None and result.error.code == "unbound_symbol"
    assert "h is used before its def" in result.error.message


def test_tool_calls_and_data_inside_a_kernel() -> None:
    calls = []

    def lookup(args: dict[str, object]) -> dict[str, object]:
        calls.append(args["x"])
        return {"v": args["x"] * 10}

    result = ptclisp.run("(mapv #(str (:v (tool/lookup {:x %})) data/suffix) [1 2 3])",
                         tools={"lookup": lookup}, data={"suffix": "!"})
    assert list(result.value) == ["10!", "20!", "30!"]
    assert calls == [1, 2, 3]
    assert [c.args for c in result.tool_calls] == [{"x": 1}, {"x": 2}, {"x": 3}]


def test_a_source_fn_defined_in_one_run_meters_against_the_run_calling_it() -> None:
    ns = Namespace()
    execute(load("(defn big? [x] (> x 0))"), host=ToolHost(None), data={},
            meter=Meter(Limits()), namespace=ns)
    program = load("(count (filter big? (vec (range 50000))))", known_globals=tuple(ns))
    with pytest.raises(ptclisp.LimitExceeded) as info:
        execute(program, host=ToolHost(None), data={}, meter=Meter(Limits(max_steps=1000)),
                namespace=ns)
    assert info.value.code == "step_limit"


def test_wrong_arity_names_the_count_the_fn_takes() -> None:
    result = ptclisp.run("((fn add [x y] (+ x y)) 1)")
    assert result.error is not None and result.error.code == "arity_error"
    assert result.error.message == "wrong number of arguments (1) passed to add, which takes 2"


@pytest.mark.parametrize("source, message", [
    ("(map (fn f [a b] a) [1 2])", "wrong number of arguments (1) passed to f, which takes 2"),
    ("(map #(+ %1 %2 %3) [1 2])", "wrong number of arguments (1) passed to fn, which takes 3"),
    ("(map-indexed (fn g [a] a) [1 2])", "wrong number of arguments (2) passed to g, which takes 1"),
    ("(map-indexed (fn h [a] (loop [] a)) [1 2])",  # a closure fn, not a source fn
     "wrong number of arguments (2) passed to h, which takes 1"),
])
def test_a_builtin_calling_a_fn_with_the_wrong_count_names_both_counts(source: str,
                                                                       message: str) -> None:
    result = ptclisp.run(source)
    assert result.error is not None and result.error.code == "arity_error"
    assert result.error.message == message


@pytest.mark.parametrize("items", [
    '[{:status "paid" :n 1} {:status "due" :n 2}]',
    '[{:status "paid" :n 1} nil #{:status} "paid" [1] {:n 3}]',  # not all maps: the exact loop
])
def test_keyword_kernels_give_the_same_rows_for_tables_and_mixed_items(items: str) -> None:
    fast = ptclisp.run(f'[(filterv #(= (:status %) "paid") {items}) (mapv #(:n % 0) {items})]')
    closures = ptclisp.run(  # loop bodies keep these fns closures
        f'[(filterv (fn [x] (loop [] (= (:status x) "paid"))) {items}) '
        f'(mapv (fn [x] (loop [] (:n x 0))) {items})]')
    assert fast.error is None and closures.error is None
    assert ptclisp.pr_str(fast.value) == ptclisp.pr_str(closures.value)
    assert fast.steps == closures.steps


def test_small_collections_leave_fns_closures_and_large_ones_compile_them() -> None:
    small = "(count (filter #(= (:k %) 7) (mapv (fn [i] {:k i}) (range 50))))"
    assert ptclisp.run(small).value == 1
    node = load(small).forms[0].args[0].args[0]  # the #(...) node of this cached program
    assert not is_compiled(node, "keep")
    large = small.replace("50", str(KERNEL_MIN_ITEMS))
    assert ptclisp.run(large).value == 1
    assert is_compiled(load(large).forms[0].args[0].args[0], "keep")


def test_some_and_every_stop_at_the_first_decisive_item_with_the_steps_of_calls() -> None:
    data = {"xs": list(range(5_000))}
    kernels = ptclisp.run(
        "[(some #(when (= % 4000) :hit) data/xs) (every? #(< % 100) data/xs) (every? int? data/xs)]",
        data=data)
    calls = ptclisp.run(
        "[(some (fn [x] (loop [] (when (= x 4000) :hit))) data/xs) "
        "(every? (fn [x] (loop [] (< x 100))) data/xs) (every? int? data/xs)]", data=data)
    assert list(kernels.value) == list(calls.value) == [ptclisp.Keyword("hit"), False, True]
    assert kernels.steps == calls.steps


def test_a_long_for_runs_as_one_comprehension_with_the_steps_of_iterations() -> None:
    source = ("(let [k 2] (count (for [o data/xs :let [b (* k (:a o))] :when (= (:s o) 1)] "
              "[b (:a o)])))")
    data = {"xs": [{"s": i % 3, "a": i} for i in range(KERNEL_MIN_ITEMS * 3)]}
    result = ptclisp.run(source, data=data)
    assert result.value == KERNEL_MIN_ITEMS
    converting = ptclisp.run("nil", data=data).steps  # the data's conversion is charged too
    assert result.steps - converting == KERNEL_MIN_ITEMS * 3  # one per iteration, as the
    # closure walk charges
    for_node = load(source).forms[0].body.args[0]
    assert isinstance(for_node, A.For) and is_compiled(for_node, "for")


# ---------------------------------------------------------------- issue 15: reuse across texts

_PIPELINE = """(def rows (mapv (fn [i] {{:a i :c (str "c" (mod i 3))}}) (range 2000)))
(mapv (fn [{{:keys [a c] :as o}}] (assoc o :b (* a {k}) :k (keyword c))) rows)"""


def test_a_new_program_text_reuses_the_compiled_modules_of_equal_fns() -> None:
    from ptclisp._compiler import source as _source

    compiled: list[str] = []
    real = _source._compile_module

    def counting(text: str, name: str) -> object:
        compiled.append(text)
        return real(text, name)

    with patch.object(_source, "_compile_module", counting):
        first = ptclisp.run(_PIPELINE.format(k=3) + "\n; turn 1")
        again = ptclisp.run(_PIPELINE.format(k=3) + "\n; turn 2")
        assert len(compiled) >= 1 and first.ok and again.ok
        before = len(compiled)
        other = ptclisp.run(_PIPELINE.format(k=5) + "\n; turn 3")
    assert first.value == again.value and first.steps == again.steps
    assert len(compiled) == before + 1  # another constant: another text, compiled once more
    assert other.value[7][ptclisp.Keyword("b")] == 35
    assert other.value[7][ptclisp.Keyword("k")] == ptclisp.Keyword("c1")


def test_a_reused_module_reports_errors_at_its_own_programs_position() -> None:
    fn = "(mapv (fn [{:keys [a]}] (assoc (get a :x) :y (inc a))) (range 2000))"
    first = ptclisp.run(fn)
    moved = ptclisp.run("\n\n  " + fn)
    assert first.error is not None and moved.error is not None
    assert first.error.code == moved.error.code
    assert (moved.error.line, moved.error.column) == (first.error.line + 2,
                                                      first.error.column + 2)


def test_assoc_in_a_kernel_stops_at_the_memory_limit_with_its_position() -> None:
    source = ("(def rows (mapv (fn [i] {:a i}) (range 3000)))\n"
              "(count (mapv (fn [o] (assoc o :b 1)) rows))")
    result = ptclisp.run(source, limits=Limits(max_memory=800_000))
    assert result.error is not None and result.error.code == "memory_limit"
    assert (result.error.line, result.error.column) == (2, 22)  # the assoc, inside the kernel
    plain = partial(_compiler.compile_program, source_fns="never")
    with patch.object(_compiler, "compile_program", plain):
        closures = ptclisp.run(source, limits=Limits(max_memory=800_000))
    assert result.error.to_dict() == closures.error.to_dict()
    assert result.steps == closures.steps and result.memory == closures.memory


@pytest.mark.parametrize("binding", ["{:keys [a b] :as o}", "[a b]"])
def test_a_destructuring_for_runs_as_one_comprehension(binding: str) -> None:
    from ptclisp._compiler import source as _source

    names: list[str] = []
    real = _source._compile_module

    def spying(text: str, name: str) -> object:
        names.append(name)
        return real(text, name)

    rows = "{:a i :b (* 2 i)}" if binding.startswith("{") else "[i (* 2 i)]"
    source = (f"(def rows (mapv (fn [i] {rows}) (range 2000)))\n"
              f"(vec (for [{binding} rows :when (odd? a)] (+ a b)))")
    _source._BY_TEXT.clear()
    with patch.object(_source, "_compile_module", spying):
        result = ptclisp.run(source)
    plain = partial(_compiler.compile_program, source_fns="never")
    with patch.object(_compiler, "compile_program", plain):
        closures = ptclisp.run(source)
    assert "for" in names
    assert result.value == closures.value and result.steps == closures.steps
    assert list(result.value[:2]) == [3, 9]
