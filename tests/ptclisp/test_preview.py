"""ptclisp.preview: effects read from the analyzed AST, never by running (issue 14).

The central property: the preview's bound is sound — a program, when run, never calls a tool
more often than ``max_calls`` says (checked on generated programs with counting tools)."""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ptclisp
from ptclisp import AnalysisError, LimitExceeded, PtclispError, ReadError, preview

APPROVAL = """
(def customer (tool/get-customer {:id 42}))
(when (> (:balance customer) 100)
  (def handle (tool/charge-card {:customer 42 :amount 100 :currency "EUR"})))
(def decision (await (tool/request-approval {:reason "refund" :amount (:balance customer)})))
(return decision)
"""


def test_the_approval_example() -> None:
    p = preview(APPROVAL)
    assert p.tool_names == ("get-customer", "charge-card", "request-approval")
    charge = p.tools[1]
    assert charge.args == {"customer": 42, "amount": 100, "currency": "EUR"}
    assert charge.max_calls == 1 and charge.conditional and not charge.repeated
    approval = p.tools[2]
    assert approval.args is None and approval.literal_args == {"reason": "refund"}
    assert approval.computed_args == ("amount",)
    assert [(a.kind, a.tools) for a in p.awaits] == [("await", ("request-approval",))]
    assert [d.name for d in p.defines] == ["customer", "handle", "decision"]
    assert p.may_return and not p.may_fail
    assert p.summary() == ("calls get-customer at most once, then may call charge-card at most "
                           "once, then calls request-approval at most once, then awaits "
                           "request-approval")
    assert json.loads(json.dumps(p.to_dict()))["summary"] == p.summary()


@pytest.mark.parametrize(("source", "tool", "bound"), [
    ("(tool/a {})", "a", 1),
    ("(tool/a {}) (tool/a {})", "a", 2),
    ("(if data/x (tool/a {}) (tool/a {}))", "a", 2),
    ("(loop [i 0] (when (< i 3) (tool/a {:i i}) (recur (inc i))))", "a", None),
    ("(dotimes [i 3] (tool/a {:i i}))", "a", None),
    ("(for [x data/xs] (tool/a {:x x}))", "a", None),
    ("(doseq [x data/xs] (tool/a {:x x}))", "a", None),
    ("(mapv #(tool/a {:x %}) data/xs)", "a", None),
    ("(pmap tool/a data/xs)", "a", None),
    ("((fn [x] (tool/a {:x x})) 1)", "a", 1),
    ("(defn f [x] (tool/a {:x x})) (f 1) (f 2) (f 3)", "a", 3),
    ("(defn f [x] (tool/a {:x x})) (defn g [] (f 1) (f 2)) (g) (g)", "a", 4),
    ("(defn f [x] (tool/a {:x x})) (map f data/xs)", "a", None),
    ("(defn f [n] (when (pos? n) (tool/a {}) (f (dec n)))) (f 3)", "a", None),
    ("(defn f [n] (g n)) (defn g [n] (tool/a {}) (f n)) (f 1)", "a", None),
    ("(defn never [] (tool/a {}))", "a", 0),
    ("(let [h (fn [] (tool/a {}))] (h))", "a", None),
    ("(-> {:x 1} (tool/a))", "a", 1),
    ("(take 2 (lazy-seq [(tool/a {})]))", "a", None),
    ("(lazy-cat [(tool/a {})] [(tool/a {})])", "a", None),
])
def test_call_bounds(source: str, tool: str, bound: int | None) -> None:
    assert preview(source).max_calls(tool) == bound


def test_literal_arguments_include_nested_values_and_stop_at_computed_ones() -> None:
    p = preview('(tool/a {:ids [1 2] :opts {:deep true} :k :kw :s #{"x"}}) (tool/b data/q)')
    a, b = p.tools
    assert a.args == {"ids": [1, 2], "opts": {"deep": True}, "k": "kw", "s": ["x"]}
    assert b.args is None and b.computed_args == ("*",)
    assert p.data == ("q",)


def test_awaits_know_their_handles_through_let_def_and_await_all() -> None:
    p = preview("""(let [h (tool/start-job {:n 1})] (await h))
                   (def hs [(tool/s1 {}) (tool/s2 {})])
                   (await-all hs)
                   (await-any [(tool/s3 {})])""")
    assert [(a.kind, a.tools) for a in p.awaits] == [
        ("await", ("start-job",)), ("await-all", ("s1", "s2")), ("await-any", ("s3",))]
    assert p.summary().endswith("then calls s3 at most once, then awaits s3")


def test_awaits_in_loops_repeat() -> None:
    p = preview("(doseq [x data/xs] (await (tool/job {:x x})))")
    assert p.awaits[0].max_calls is None and p.tools[0].repeated


def test_definitions_fail_and_sites_inside_functions() -> None:
    p = preview("(def limit 3) (defn pay [x] (tool/charge {:x x})) (fail {:reason \"no\"})")
    assert [(d.name, d.kind) for d in p.defines] == [("limit", "value"), ("pay", "fn")]
    assert p.may_fail and p.tools[0].in_fn == "pay" and p.tools[0].max_calls == 0
    assert p.summary() == "calls no tools"


def test_known_globals_let_a_later_turn_preview() -> None:
    with pytest.raises(AnalysisError):
        preview("(count rows)")
    assert preview("(count rows)", known_globals=("rows",)).tools == ()


def test_preview_runs_nothing() -> None:
    calls: list[Any] = []
    p = preview("(loop [] (recur))  (tool/x {})")
    assert p.max_calls("x") == 1 and calls == []


# ---------------------------------------------------------------- hostile sources


@pytest.mark.parametrize(("source", "error"), [
    ("(tool/a {:x 1}", ReadError),
    ("(" * 5000, ReadError),
    ("(let [x] x)", AnalysisError),
    (12345, ReadError),
])
def test_bad_programs_raise_the_reader_or_analyzer_error(source: Any, error: type) -> None:
    with pytest.raises(error):
        preview(source)


def test_oversized_and_overdeep_sources_are_refused() -> None:
    with pytest.raises(LimitExceeded) as big:
        preview("(tool/a {})" * 200_000, max_source_chars=1_000_000)
    assert big.value.code == "memory_limit"
    with pytest.raises(LimitExceeded) as deep:
        preview("(-> 1 " + "inc " * 50_000 + ")")
    assert deep.value.code == "depth_limit"


def test_large_programs_are_linear() -> None:
    many = "\n".join(f"(tool/t{i % 50} {{:i {i}}})" for i in range(20_000))
    started = time.monotonic()
    p = preview(many)
    assert len(p.tools) == 20_000 and p.max_calls("t0") == 400
    chain = "\n".join(f"(defn f{i} [] (f{i + 1}) (f{i + 1}))" for i in range(3_000))
    chain += "\n(defn f3000 [] (tool/leaf {}))\n(f0)"
    p = preview(chain)  # 2^3000 paths: the bound saturates to "any number", no blow-up
    assert p.max_calls("leaf") is None
    assert time.monotonic() - started < 60.0


# ---------------------------------------------------------------- soundness on generated programs

_STATEMENTS = st.deferred(lambda: st.one_of(
    st.just("(tool/a {:n 1})"),
    st.just("(tool/b {:n (count data/xs)})"),
    st.builds(lambda s: f"(when (odd? (count data/xs)) {s})", _STATEMENTS),
    st.builds(lambda s, t: f"(if (empty? data/xs) {s} {t})", _STATEMENTS, _STATEMENTS),
    st.builds(lambda s: f"(doseq [x data/xs] {s})", _STATEMENTS),
    st.builds(lambda s: f"(dorun (map (fn [x] {s}) data/xs))", _STATEMENTS),
    st.builds(lambda s: f"(h1 (fn [] {s}))", _STATEMENTS),
    st.builds(lambda s, t: f"(do {s} {t})", _STATEMENTS, _STATEMENTS),
    st.just("(g1)"),
    st.just("(g2 2)"),
))

_PRELUDE = """(defn g1 [] (tool/a {:from :g1}))
(defn g2 [n] (when (pos? n) (tool/b {:n n}) (g2 (dec n))))
(defn h1 [f] (f) (f))
"""


@settings(max_examples=60, deadline=None)
@given(st.lists(_STATEMENTS, min_size=1, max_size=4), st.lists(st.integers(0, 3), max_size=3))
def test_preview_bounds_every_run(statements: list[str], xs: list[int]) -> None:
    source = _PRELUDE + "\n".join(statements)
    counts: Counter[str] = Counter()

    def counting(name: str) -> Any:
        def tool(*args: Any, **kwargs: Any) -> int:
            counts[name] += 1
            return 1

        return tool

    result = ptclisp.run(source, tools={"a": counting("a"), "b": counting("b")},
                         data={"xs": xs})
    # A run may end at a limit (nested loops can call a tool 10,000+ times): the calls it made
    # before that must still be within the preview's bound.
    assert result.status == "ok" or isinstance(result.error, ptclisp.LimitExceeded), result.error
    p = preview(source)
    for name in ("a", "b"):
        bound = p.max_calls(name)
        assert bound is None or counts[name] <= bound, (source, xs, name, counts, bound)


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet="()[]{}#%:/ abcdefxy12tool.-'\"\\~@^", max_size=80))
def test_random_text_never_escapes_with_anything_but_a_ptclisp_error(text: str) -> None:
    with contextlib.suppress(PtclispError):
        preview(text)


def test_the_example_prints_the_summary() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "preview_effects.py"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    first = done.stdout.splitlines()[0]
    assert first.startswith("calls get-customer at most once, then may call charge-card")
    assert first.endswith("then calls notify any number of times")
