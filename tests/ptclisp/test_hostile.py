"""Hostile programs: every one ends with the right error code, within its limit, host intact.

Limits are small so the suite stays fast; the wall-clock assertions are generous multiples
(the machine running CI may be loaded) — they prove "bounded", not "fast".
"""

import subprocess
import sys
import textwrap
import time

import pytest

import ptclisp
from ptclisp import Limits

SMALL = Limits(max_steps=200_000, timeout_s=10.0, max_memory=16 * 2**20, max_output=10_000)
SLACK_S = 8.0  # generous bound on any single hostile run under SMALL limits


def ends_with(source, code, limits=SMALL, **kwargs):
    started = time.monotonic()
    result = ptclisp.run(source, limits=limits, **kwargs)
    elapsed = time.monotonic() - started
    assert result.status == "error", (source, result.value)
    assert result.error.code == code, (source, result.error)
    assert result.error.hint
    return result, elapsed


@pytest.mark.parametrize(
    "source",
    [
        "(loop [] (recur))",
        "(loop [i 0] (recur (inc i)))",
        "((fn f [x] (recur x)) 1)",
        "(count (range))",
        "(reduce + (range))",
        "(last (iterate inc 0))",
        "(doseq [x (range)] x)",
        "(dotimes [i 1000000000] i)",
        "(count (for [x (range) :when (neg? x)] x))",
    ],
)
def test_infinite_work_hits_the_step_limit(source):
    result, elapsed = ends_with(source, "step_limit")
    assert result.steps <= SMALL.max_steps + 2048  # one chunk of overshoot at most
    assert elapsed < SLACK_S


def test_infinite_loop_with_huge_step_budget_hits_the_timeout():
    limits = Limits(max_steps=10**15, timeout_s=0.3)
    _, elapsed = ends_with("(loop [i 0] (recur (inc i)))", "timeout", limits)
    assert elapsed < 0.3 * 10


@pytest.mark.parametrize(
    "source",
    [
        "(defn f [n] (inc (f n))) (f 1)",
        "(defn f [n] (first (map f [n]))) (f 1)",
        "(defn f [n] (reduce (fn [a x] (f x)) 0 [n])) (f 1)",
        "(defn ping [n] (pong n)) (defn pong [n] (+ 1 (ping n))) (ping 1)",
        "(defn f [n] (:k (f n))) (f 1)",
        "((fn f [n] (vector (f n))) 1)",
    ],
)
def test_deep_recursion_hits_the_depth_limit(source):
    _, elapsed = ends_with(source, "depth_limit")
    assert elapsed < SLACK_S


def test_depth_limit_holds_for_a_large_configured_depth_without_crashing_the_process():
    # Run in a child: if deep recursion could crash the interpreter, only the child dies.
    program = textwrap.dedent(
        """
        import ptclisp
        sources = ["(defn f [n] (first (map f [(inc n)]))) (f 1)",
                   "(defn f [n] (first (sort-by identity (fn [a b] (f 1)) [1 2]))) (f 1)"]
        for src, deepest in zip(sources, (5000, 10**6)):
            for depth in (400, 2000, deepest):
                r = ptclisp.run(src, limits=ptclisp.Limits(max_depth=depth, max_steps=10**8,
                                                           timeout_s=60))
                print(r.error.code)
        r = ptclisp.run("(defn f [n] (if (zero? n) 0 (inc (f (dec n))))) (f 1500)",
                        limits=ptclisp.Limits(max_depth=2000))
        print(r.value)
        """
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["depth_limit"] * 6 + ["1500"]


@pytest.mark.parametrize(
    "source",
    [
        "(vec (range 100000000))",
        '(apply str (repeat 100000000 "x"))',
        "(count (vec (repeat 100000000 1)))",
        '(loop [s "x"] (recur (str s s)))',
        "(into [] (range 100000000))",
        "(mapv inc (range 100000000))",
        "(frequencies (range 100000000))",
        "(apply str (map str (range 100000000)))",
    ],
)
def test_huge_allocations_hit_the_memory_limit(source):
    _result, elapsed = ends_with(source, "memory_limit")
    assert elapsed < SLACK_S


def test_memory_limit_with_default_limits_is_refused_up_front():
    started = time.monotonic()
    result = ptclisp.run("(count (vec (repeat 100000000 1)))")
    assert result.error.code == "memory_limit"
    assert time.monotonic() - started < SLACK_S


@pytest.mark.parametrize(
    "source",
    [
        '(loop [] (println "spam spam spam spam") (recur))',
        "(dotimes [i 100000000] (prn i))",
        '(print (apply str (repeat 20000 "x")))',
        "(doseq [x (range)] (pr x))",
    ],
)
def test_huge_output_hits_the_output_limit(source):
    result, elapsed = ends_with(source, "output_limit")
    assert len(result.output) <= SMALL.max_output
    assert elapsed < SLACK_S


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ('(.__class__ "")', "invalid_form"),
        ('(. "" __class__)', "invalid_form"),
        ("(.. \"\" __class__ __mro__)", "invalid_form"),
        ("(import os)", "invalid_form"),
        ('(__import__ "os")', "invalid_form"),
        ("(eval '(+ 1 2))", "invalid_form"),
        ('(load-string "(+ 1 2)")', "invalid_form"),
        ('(slurp "/etc/passwd")', "invalid_form"),
        ("(py/eval \"1\")", "unbound_symbol"),
        ("(python/open \"x\")", "unbound_symbol"),
        ("(java.lang.Runtime/getRuntime)", "unbound_symbol"),
        ("(new Object)", "invalid_form"),
        ("(def __builtins__ 1)", "invalid_form"),
        ("(let [__class__ 1] __class__)", "invalid_form"),
        ("(defn __init__ [] 1)", "invalid_form"),
        ("(System/exit 0)", "unbound_symbol"),
    ],
)
def test_interop_attempts_are_refused_before_running(source, code):
    result, _ = ends_with(source, code)
    assert result.steps == 0
    assert result.error.line == 1


@pytest.mark.parametrize(
    "source",
    [
        '(:__class__ "")',
        '(get "" "__class__")',
        '(get {} :__dict__)',
        "(keyword \"__class__\")",
        "(str (fn []))",
    ],
)
def test_dunder_shaped_data_is_just_data(source):
    result = ptclisp.run(source)
    assert result.status == "ok"
    assert "<" not in ptclisp.pr_str(result.value)  # no Python object repr leaks


def test_host_keeps_working_after_every_hostile_run():
    assert ptclisp.run("(+ 1 2)").value == 3
    assert sys.getrecursionlimit() <= 100_000
