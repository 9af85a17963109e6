"""Core library: sequence functions (semantics, laziness, nil punning, errors)."""

from __future__ import annotations

from typing import Any

import pytest
from core_support import K, L, V, _meter, call  # noqa: F401 - _meter is an autouse fixture

import ptclisp
from ptclisp._core import BUILTINS
from ptclisp._errors import EvalError
from ptclisp._values.types import Char, LazySeq, List, Map, Set, Vector

inc, even, odd, plus = BUILTINS["inc"], BUILTINS["even?"], BUILTINS["odd?"], BUILTINS["+"]


def test_map_filter_remove_return_lists_of_realised_items() -> None:
    assert call("map", inc, V(1, 2, 3)) == L(2, 3, 4)
    assert type(call("map", inc, V(1))) is List
    assert call("map", plus, V(1, 2, 3), V(10, 20)) == L(11, 22)
    assert call("filter", even, call("range", 10)) == L(0, 2, 4, 6, 8)
    assert call("remove", even, V(1, 2, 3)) == L(1, 3)
    assert call("mapv", inc, V(1)) == V(2) and type(call("mapv", inc, V(1))) is Vector
    assert call("filterv", odd, V(1, 2, 3)) == V(1, 3)


def test_filter_uses_clojure_truthiness_zero_is_truthy() -> None:
    assert call("filter", BUILTINS["identity"], V(0, None, False, "", 1)) == L(0, "", 1)
    assert call("keep", BUILTINS["identity"], V(False, None, 1)) == L(False, 1)


def test_nil_punning() -> None:
    assert call("map", inc, None) == L()
    assert call("filter", even, None) == L()
    assert call("first", None) is None
    assert call("rest", None) == L()
    assert call("next", None) is None
    assert call("seq", None) is None
    assert call("count", None) == 0
    assert call("empty?", None) is True
    assert call("reduce", plus, None) == 0
    assert call("last", None) is None
    assert call("nth", None, 3) is None
    assert call("concat", None, V(1)) == L(1)
    assert call("reverse", None) == L()
    assert call("sort", None) == L()


def test_strings_are_sequences_of_chars() -> None:
    assert call("seq", "ab") == L(Char("a"), Char("b"))
    assert call("first", "ab") == Char("a")
    assert call("nth", "abc", 2) == Char("c")
    assert call("count", "héllo") == 5
    assert call("apply", BUILTINS["str"], call("reverse", "abc")) == "cba"
    assert call("frequencies", "aab") == Map({Char("a"): 2, Char("b"): 1})


def test_maps_are_sequences_of_entries() -> None:
    m = Map({K("a"): 1, K("b"): 2})
    assert call("first", m) == V(K("a"), 1)
    assert call("map", BUILTINS["key"], m) == L(K("a"), K("b"))
    assert call("count", m) == 2
    assert call("seq", Map()) is None


def test_access_functions() -> None:
    xs = V(1, 2, 3, 4)
    assert call("second", xs) == 2
    assert call("last", xs) == 4
    assert call("butlast", xs) == L(1, 2, 3)
    assert call("butlast", V(1)) is None
    assert call("next", V(1)) is None
    assert call("ffirst", V(V(9))) == 9
    assert call("nnext", xs) == L(3, 4)
    assert call("nthrest", xs, 3) == L(4)
    assert call("nthnext", xs, 9) is None
    assert call("take-last", 2, xs) == L(3, 4)
    assert call("take-last", 2, V()) is None
    assert call("drop-last", xs) == L(1, 2, 3)
    assert call("drop-last", 2, xs) == L(1, 2)
    assert call("split-at", 1, xs) == V(L(1), L(2, 3, 4))
    assert call("split-with", odd, V(1, 3, 2, 5)) == V(L(1, 3), L(2, 5))
    assert call("take-while", odd, V(1, 3, 2, 5)) == L(1, 3)
    assert call("drop-while", odd, V(1, 3, 2, 5)) == L(2, 5)


def test_nth_errors_and_default() -> None:
    with pytest.raises(EvalError) as e:
        call("nth", V(1, 2, 3), 10)
    assert e.value.code == "index_out_of_bounds"
    assert call("nth", V(1, 2, 3), 10, K("d")) == K("d")
    with pytest.raises(EvalError) as e:
        call("nth", Map({1: 2}), 0)
    assert e.value.code == "type_error"


def test_count_and_empty_reject_non_collections() -> None:
    for name in ("count", "empty?"):
        with pytest.raises(EvalError) as e:
            call(name, 5)
        assert e.value.code == "type_error"
        assert "integer" in e.value.message
    with pytest.raises(EvalError, match="sequence"):
        call("first", 5)


def test_reduce_forms_and_reduced() -> None:
    assert call("reduce", plus, V(1, 2, 3)) == 6
    assert call("reduce", BUILTINS["-"], 10, V(1, 2, 3)) == 4
    assert call("reduce", plus, V(5)) == 5
    assert call("reduce", plus, V()) == 0
    assert call("reduce", plus, 1.5, V(1, 2)) == 4.5

    def stop_above_5(acc: Any, x: Any) -> Any:
        return call("reduced", acc) if acc > 5 else acc + x

    assert call("reduce", stop_above_5, call("range")) == 6
    assert call("reductions", plus, V(1, 2, 3)) == L(1, 3, 6)


def test_reduce_plus_rejects_non_numbers_with_type_error() -> None:
    with pytest.raises(EvalError) as e:
        call("reduce", plus, V(1, K("a")))
    assert e.value.code == "type_error"
    with pytest.raises(EvalError) as e:
        call("reduce", plus, 0, V(1, None))
    assert e.value.code == "type_error"


def test_some_every() -> None:
    assert call("some", even, V(1, 3, 4)) is True
    assert call("some", even, V(1, 3)) is None
    assert call("some", Set({3}), V(1, 3)) == 3
    assert call("every?", even, V()) is True
    assert call("every?", even, V(2, 3)) is False
    assert call("not-any?", odd, V(2, 4)) is True
    assert call("not-every?", odd, V(1, 2)) is True


def test_partitions() -> None:
    r = V(*range(7))
    assert call("partition", 3, r) == L(L(0, 1, 2), L(3, 4, 5))
    assert call("partition", 2, 1, V(1, 2, 3)) == L(L(1, 2), L(2, 3))
    assert call("partition", 3, 3, V(0), V(1, 2, 3, 4, 5)) == L(L(1, 2, 3), L(4, 5, 0))
    assert call("partition-all", 3, r) == L(L(0, 1, 2), L(3, 4, 5), L(6))
    assert call("partition-all", 2, 1, V(1, 2, 3)) == L(L(1, 2), L(2, 3), L(3))
    assert call("partition-by", odd, V(1, 1, 2, 2, 3)) == L(L(1, 1), L(2, 2), L(3))


def test_distinct_dedupe_flatten_interleave_interpose() -> None:
    assert call("distinct", V(1, 2, 1, 3, 2)) == L(1, 2, 3)
    assert call("dedupe", V(1, 1, 2, 1)) == L(1, 2, 1)
    assert call("flatten", V(1, V(2, L(3, V(4))), Set({5}))) == L(1, 2, 3, 4, Set({5}))
    assert call("flatten", None) == L()
    assert call("interleave", V(1, 2), V(K("a"), K("b"), K("c"))) == L(1, K("a"), 2, K("b"))
    assert call("interleave") == L()
    assert call("interpose", ",", V("a", "b")) == L("a", ",", "b")


def test_group_by_frequencies_keep_order() -> None:
    g = call("group-by", odd, V(1, 2, 3, 4))
    assert g == Map({True: V(1, 3), False: V(2, 4)})
    assert list(g) == [True, False]
    assert call("frequencies", V(K("a"), K("b"), K("a"))) == Map({K("a"): 2, K("b"): 1})


def test_sort_is_stable_and_uses_clojure_compare() -> None:
    assert call("sort", V(3, 1, 2)) == L(1, 2, 3)
    assert call("sort", V("b", None, "a")) == L(None, "a", "b")
    assert call("sort", V(V(1, 2), V(1), V(0, 5))) == L(V(1), V(0, 5), V(1, 2))
    assert call("sort", BUILTINS[">"], V(3, 1, 2)) == L(3, 2, 1)
    assert call("sort", lambda a, b: b - a, V(3, 1, 2)) == L(3, 2, 1)
    recs = V(*(Map({K("k"): k, K("i"): i}) for i, k in enumerate([1, 0, 1, 0])))
    by_k = call("sort-by", K("k"), recs)
    assert [r[K("i")] for r in by_k] == [1, 3, 0, 2]
    desc = call("sort-by", K("k"), BUILTINS[">"], recs)
    assert [r[K("i")] for r in desc] == [0, 2, 1, 3]
    with pytest.raises(EvalError) as e:
        call("sort", V(1, "a"))
    assert e.value.code == "type_error"


def test_sort_by_juxt_keys() -> None:
    recs = V(Map({K("a"): 1, K("b"): 2}), Map({K("a"): 1, K("b"): 1}), Map({K("a"): 0, K("b"): 9}))
    out = call("sort-by", call("juxt", K("a"), K("b")), recs)
    assert [(r[K("a")], r[K("b")]) for r in out] == [(0, 9), (1, 1), (1, 2)]


def test_apply() -> None:
    assert call("apply", plus, 1, 2, V(3, 4)) == 10
    assert call("apply", plus, None) == 0
    assert call("apply", BUILTINS["str"], "a", V("b", "c")) == "abc"


def test_mapcat_keep_indexed() -> None:
    assert call("mapcat", BUILTINS["reverse"], V(V(1, 2), V(3))) == L(2, 1, 3)
    assert call("map-indexed", BUILTINS["vector"], V(K("a"))) == L(V(0, K("a")))
    assert call("keep-indexed", lambda i, x: x if i % 2 else None, V(1, 2, 3, 4)) == L(2, 4)


def test_max_min_key_keep_last_on_ties() -> None:
    count = BUILTINS["count"]
    assert call("max-key", count, "ab", "cd") == "cd"
    assert call("min-key", count, "ab", "c", "d") == "d"


def test_tree_seq() -> None:
    tree = V(1, V(2, V(3)))
    out = call("tree-seq", BUILTINS["vector?"], BUILTINS["seq"], tree)
    assert out == L(tree, 1, V(2, V(3)), 2, V(3), 3)


def test_transducers() -> None:
    xf = call("comp", call("map", inc), call("filter", even), call("take", 2))
    assert call("into", V(), xf, call("range")) == V(2, 4)
    assert call("transduce", call("map", inc), plus, V(1, 2, 3)) == 9
    assert call("sequence", call("mapcat", BUILTINS["reverse"]), V(V(1, 2))) == L(2, 1)
    assert call("into", V(), BUILTINS["cat"], V(V(1), V(2, 3))) == V(1, 2, 3)


# ---------------------------------------------------------------- laziness


def test_infinite_sequences_are_lazy() -> None:
    nat = call("range")
    assert type(nat) is LazySeq
    assert call("take", 3, nat) == L(0, 1, 2)
    assert call("take", 3, call("map", inc, nat)) == L(1, 2, 3)
    assert call("first", call("drop", 5, call("filter", odd, nat))) == 11
    assert call("take", 4, call("iterate", lambda x: x * 2, 1)) == L(1, 2, 4, 8)
    assert call("take", 5, call("cycle", V(1, 2))) == L(1, 2, 1, 2, 1)
    assert call("take", 2, call("repeat", K("x"))) == L(K("x"), K("x"))
    assert call("nth", nat, 100) == 100
    assert call("take", 2, call("partition", 2, nat)) == L(L(0, 1), L(2, 3))


def test_rest_of_rest_of_lazy_seq_stays_flat() -> None:
    xs = call("range")
    for _ in range(5000):  # nested generators would overflow the C stack
        xs = call("rest", xs)
    assert call("first", xs) == 5000
    assert call("take", 2, xs) == L(5000, 5001)


def test_range_forms() -> None:
    assert call("range", 3) == L(0, 1, 2)
    assert call("range", 2, 6) == L(2, 3, 4, 5)
    assert call("range", 5, 0, -2) == L(5, 3, 1)
    assert call("range", 0, 1, 0.25) == L(0, 0.25, 0.5, 0.75)
    assert call("take", 3, call("range", 1, 5, 0)) == L(1, 1, 1)
    assert call("range", 5, 5) == L()
    assert call("repeat", 2, K("x")) == L(K("x"), K("x"))


def test_stateful_transducers_flush_and_keep_state_per_use() -> None:
    pby = call("partition-by", odd)
    assert call("into", V(), pby, V(1, 2, 4, 5)) == V(V(1), V(2, 4), V(5))
    assert call("into", V(), pby, V(2, 1)) == V(V(2), V(1))
    assert call("into", V(), call("partition-all", 2), V(1, 2, 3)) == V(V(1, 2), V(3))
    assert call("into", V(), call("dedupe"), V(1, 1, 2, 1)) == V(1, 2, 1)
    assert call("into", V(), call("interpose", K("x")), V(1, 2)) == V(1, K("x"), 2)
    assert call("into", V(), call("distinct"), V(1, 2, 1)) == V(1, 2)


def test_walking_a_long_vector_with_rest_or_next_is_linear():
    """rest of a long vector is an offset view, and rest of that another offset: no copies."""
    limits = ptclisp.Limits(max_memory=4 * 2**20, max_steps=400_000)
    for step in ("rest", "next"):
        source = (f"(loop [xs data/xs n 0 total 0] (if (empty? xs) [n total] "
                  f"(recur ({step} xs) (inc n) (+ total (first xs)))))")
        result = ptclisp.run(source, data={"xs": list(range(20_000))}, limits=limits)
        assert result.error is None, result.error
        assert list(result.value) == [20_000, sum(range(20_000))]


def test_rest_of_a_long_vector_behaves_as_a_seq():
    result = ptclisp.run("(let [r (rest (vec (range 40)))] [(first r) (count r) (seq? r) "
                         "(= r (range 1 40)) (conj r :x) (rest (rest r)) (nth r 3)])")
    assert ptclisp.pr_str(result.value) == (
        "[1 39 true true (:x 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 "
        "27 28 29 30 31 32 33 34 35 36 37 38 39) (3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 "
        "21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39) 4]")
