"""clojure.walk and the clojure.core additions of issue 14: properties, limits, hostile data.
Values against real Clojure are in tests/conformance (x-walk-*, x-core-extra-*, x-reader-*)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ptclisp
from ptclisp import Limits

SMALL = Limits(max_steps=100_000, max_memory=4 * 2**20, timeout_s=10.0)

JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(alphabet="abc-", min_size=1, max_size=4),
                                            inner, max_size=4)),
    max_leaves=25,
)


def run(source: str, **kwargs: Any) -> ptclisp.Result:
    return ptclisp.run(source, **kwargs)


@settings(max_examples=80)
@given(JSON)
def test_postwalk_and_prewalk_identity_give_the_value_back(data: Any) -> None:
    for fn in ("postwalk", "prewalk"):
        same = run(f"(= data/x (clojure.walk/{fn} identity data/x))", data={"x": data})
        assert same.status == "ok" and same.value is True, same.error


@settings(max_examples=80)
@given(JSON)
def test_stringify_then_keywordize_is_the_host_data(data: Any) -> None:
    result = run("(= data/x (clojure.walk/keywordize-keys (clojure.walk/stringify-keys data/x)))",
                 data={"x": data})
    assert result.status == "ok" and result.value is True


@settings(max_examples=50)
@given(JSON)
def test_postwalk_counts_every_number_once(data: Any) -> None:
    program = """(let [n (count (filter number? (tree-seq coll? seq data/x)))
                       doubled (clojure.walk/postwalk #(if (number? %) (* 2 %) %) data/x)]
                   [n (count (filter number? (tree-seq coll? seq doubled)))])"""
    result = run(program, data={"x": data})
    assert result.status == "ok", result.error
    a, b = result.value
    assert a == b


def test_walk_rebuilds_maps_from_entries_and_checks_them() -> None:
    assert run("(clojure.walk/walk (fn [[k v]] [v k]) identity {:a 1})").value == {1: ptclisp.Keyword("a")}
    bad = run("(clojure.walk/walk (fn [e] 5) identity {:a 1})")
    assert bad.status == "error" and bad.error.code == "type_error" and "[k v]" in bad.error.hint


def test_walk_aliases_match_what_models_write() -> None:
    assert run("(walk/postwalk-replace {:a 1} [:a])").value == (1,)


def test_deeply_nested_data_hits_the_depth_limit_not_the_host_stack() -> None:
    program = """(let [deep (loop [v [] i 0] (if (< i 5000) (recur [v] (inc i)) v))]
                   (clojure.walk/postwalk identity deep))"""
    result = run(program)
    assert result.status == "error" and result.error.code == "depth_limit"


@pytest.mark.parametrize("source", [
    "(clojure.walk/postwalk identity (vec (range 200000)))",
    "(clojure.walk/prewalk identity (vec (repeat 2000 (vec (range 200)))))",
    "(clojure.walk/keywordize-keys (zipmap (map str (range 100000)) (range)))",
    "(clojure.walk/prewalk-replace {1 2} (vec (range 200000)))",
])
def test_walking_huge_data_is_charged(source: str) -> None:
    started = time.monotonic()
    result = run(source, limits=SMALL)
    assert result.status == "error" and result.error.code in ("step_limit", "memory_limit")
    assert time.monotonic() - started < 10.0


def test_walk_over_an_infinite_seq_hits_a_limit() -> None:
    result = run("(clojure.walk/postwalk identity (range))", limits=SMALL)
    assert result.status == "error" and result.error.code in ("step_limit", "memory_limit")


def test_trampoline_and_bounded_count_are_metered() -> None:
    loop = run("(trampoline (fn f [] f))", limits=SMALL)
    assert loop.status == "error" and loop.error.code == "step_limit"
    assert run("(bounded-count 10 (range))").value == 10
    assert run("(bounded-count 1000000000 (range))", limits=SMALL).error.code == "step_limit"


def test_when_first_binds_destructures_and_evaluates_coll_once() -> None:
    assert run("(when-first [[a b] (list [1 2])] (+ a b))").value == 3
    result = run("(when-first [x (do (println \"once\") [7])] x)")
    assert result.value == 7 and result.output == "once\n"
    bad = run("(when-first [x] 1)")
    assert bad.status == "error" and bad.error.code == "invalid_form"


@pytest.mark.parametrize(("source", "expected"), [
    ("(map-entry? [1 2])", True),  # documented deviation: entries are [k v] vectors
    ("(sorted? (sort [2 1]))", False),
    ("(unsigned-bit-shift-right -1 0)", -1),
    ("(bit-set 1 64)", 1),
    ("(unchecked-add 9223372036854775807 1)", -(2**63)),
    ("((comparator <) 1 1)", 0),
])
def test_additions_edge_values(source: str, expected: Any) -> None:
    assert run(source).value == expected


@pytest.mark.parametrize("source", [
    "{{:a 1 :b 2} :x {:b 2 :a 1} :y}", "#{#{1 2} #{2 1}}", "#{[1 2] (1 2)}",
    "{[1 [2 #{3 4}]] 1 (1 (2 #{4 3})) 2}",
])
def test_literals_equal_as_values_are_duplicates(source: str) -> None:
    result = run(source)
    assert result.status == "error" and result.error.code == "parse_error"
    assert "duplicate" in result.error.message


def test_regex_and_short_fn_literals_are_never_duplicates() -> None:
    assert run('#{#"a" #"a"}').status == "ok"
    assert run("(count #{#(inc %) #(inc %)})").value == 2
    assert run('(count {[#"a"] 1 [#"a"] 2})').status == "ok"


def test_duplicate_check_of_a_huge_literal_stays_linear() -> None:
    items = " ".join(f"{{:k {i} :v [{i} {i}]}}" for i in range(20_000))
    # 530 KB of program text is charged ~256 B/char of memory (issue 11): give it the budget
    roomy = Limits(max_memory=512 * 2**20)
    started = time.monotonic()
    result = run(f"(count #{{{items}}})", limits=roomy)
    assert result.value == 20_000
    assert time.monotonic() - started < 20.0
    dup = run(f"(count #{{{items} {{:v [7 7] :k 7}}}})", limits=roomy)
    assert dup.status == "error" and dup.error.code == "parse_error"


_NEW = sorted([
    "clojure.walk/walk", "clojure.walk/prewalk", "clojure.walk/postwalk",
    "clojure.walk/keywordize-keys", "clojure.walk/stringify-keys", "clojure.walk/prewalk-replace",
    "clojure.walk/postwalk-replace", "decimal?", "ratio?", "rational?", "indexed?", "reversible?",
    "sorted?", "map-entry?", "bit-set", "bit-clear", "bit-flip", "bit-and-not", "bit-test",
    "unsigned-bit-shift-right", "unchecked-add", "unchecked-multiply", "unchecked-negate",
    "bounded-count", "unreduced", "ensure-reduced", "completing", "comparator", "trampoline",
    "num", "byte", "short", "bigint", "memoize", "replicate", "ident?", "qualified-keyword?",
    "eduction", "iteration", "halt-when", "sorted-set",
])


@settings(max_examples=80)
@given(st.sampled_from(_NEW),
       st.lists(st.one_of(st.none(), st.integers(-(2**70), 2**70), st.floats(),
                          st.text(max_size=6), st.booleans(), JSON), max_size=3))
def test_new_builtins_on_junk_end_with_a_coded_result(name: str, args: list[Any]) -> None:
    result = run(f"(apply {name} data/args)", data={"args": args}, limits=SMALL)
    if result.status == "error":
        assert result.error.code != "internal_error", (name, args, result.error)


def test_replicate_and_memoize_are_charged() -> None:
    assert run("(count (replicate 100000000 1))", limits=SMALL).error.code in (
        "memory_limit", "step_limit")
    memo = run("(let [f (memoize inc)] (reduce + (map f (range 100000))))", limits=SMALL)
    assert memo.status == "error" and memo.error.code in ("memory_limit", "step_limit")


def test_iteration_is_lazy_and_metered() -> None:
    endless = run("(count (iteration inc :initk 0))", limits=SMALL)
    assert endless.status == "error" and endless.error.code in ("step_limit", "memory_limit")
    assert run("(vec (take 2 (iteration inc :initk 0)))").value == (1, 2)
    odd = run("(iteration inc :initk)")
    assert odd.status == "error" and odd.error.code == "invalid_args"


def test_lazy_seq_runs_its_body_once_when_realised_and_is_bounded() -> None:
    once = run("(let [x (lazy-seq (println \"ran\") [1])] [(count x) (count x)])")
    assert once.value == (1, 1) and once.output == "ran\n"
    never = run("(do (lazy-seq (println \"ran\") [1]) :done)")
    assert never.value == ptclisp.Keyword("done") and never.output == ""
    endless = run("(defn nums [n] (lazy-seq (cons n (nums (inc n))))) (count (nums 0))")
    assert endless.status == "error" and endless.error.code in ("depth_limit", "step_limit")
    fast = run("(count (lazy-cat (range 100000) (range 100000)))", limits=SMALL)
    assert fast.status == "error" or fast.value == 200_000
    assert run("(lazy-seq)").value == ()


def test_halt_when_in_a_sequence_is_a_clear_error() -> None:
    result = run("(sequence (halt-when odd?) [2 3])")
    assert result.status == "error" and result.error.code == "invalid_args"
    assert "into" in result.error.hint
    assert run("(into [] (halt-when odd?) (range))", limits=SMALL).value == 1
