"""Core library: clojure.set and the reference extensions (sum-by, where, all-of, ...)."""

from __future__ import annotations

from typing import Any

from core_support import K, L, V, _meter, call, code_of  # noqa: F401 - _meter is an autouse fixture

from ptclisp._core import BUILTINS
from ptclisp._values.types import Map, Set, Symbol


def M(**kw: Any) -> Map:
    return Map({K(k): v for k, v in kw.items()})


def test_set_algebra() -> None:
    s = "clojure.set/"
    assert call(s + "union", Set({1}), Set({2}), None) == Set({1, 2})
    assert call(s + "union") == Set()
    for name in ("union", "intersection", "difference"):
        assert type(call(s + name, Set({1}), Set({2}))) is Set, name
    assert call(s + "intersection", Set({1, 2}), Set({2, 3})) == Set({2})
    assert call(s + "difference", Set({1, 2}), Set({2})) == Set({1})
    assert call(s + "subset?", Set({1}), Set({1, 2})) is True
    assert call(s + "superset?", Set({1}), Set({1, 2})) is False
    assert call(s + "select", BUILTINS["odd?"], Set({1, 2, 3})) == Set({1, 3})
    assert code_of(s + "union", V(1)) == "type_error"


def test_relations() -> None:
    s = "clojure.set/"
    rel = Set({M(a=1, b=2), M(a=1, b=3)})
    assert call(s + "project", rel, V(K("a"))) == Set({M(a=1)})
    assert call(s + "rename-keys", M(a=1, b=2), M(a=K("x"))) == M(b=2, x=1)
    assert call(s + "rename", rel, M(b=K("c"))) == Set({M(a=1, c=2), M(a=1, c=3)})
    assert call(s + "index", rel, V(K("a"))) == Map({M(a=1): rel})
    assert call(s + "map-invert", M(a=1)) == Map({1: K("a")})
    joined = call(s + "join", Set({M(a=1, b=2), M(a=2, b=3)}), Set({M(a=1, c=3)}))
    assert joined == Set({M(a=1, b=2, c=3)})
    keyed = call(s + "join", V(M(a=1, b=2)), V(M(x=1, c=3)), M(a=K("x")))
    assert keyed == Set({M(a=1, b=2, x=1, c=3)})


def test_sum_avg_skip_nil_and_reject_non_numbers() -> None:
    rows = V(M(x=1), M(x=None), M(y=2), Map({"x": 5}))
    assert call("sum", V(1, 2, 3.5)) == 6.5
    assert call("sum", V()) == 0
    assert call("sum-by", K("x"), rows) == 6  # string key "x" found by :x
    assert call("avg-by", K("x"), V(M(x=10), M(x=None), M(x=20))) == 15.0
    assert call("avg", V()) is None
    assert call("avg-by", K("x"), V()) is None
    assert call("sum-by", BUILTINS["count"], V("ab", "c")) == 3
    assert code_of("sum-by", K("a"), V(M(a="10"))) == "type_error"


def test_min_max_by_pluck_distinct_by() -> None:
    rows = V(M(p=None), M(p=10), M(p=5))
    assert call("min-by", K("p"), rows) == M(p=5)
    assert call("max-by", K("p"), rows) == M(p=10)
    assert call("min-by", K("p"), V()) is None
    assert call("max-by", BUILTINS["count"], "a", "abc", "ab") == "abc"
    assert call("pluck", K("a"), V(M(a=1), M(b=2))) == L(1, None)
    assert call("distinct-by", K("c"), V(M(c=1, i=0), M(c=1, i=1), M(c=2, i=2))) == L(
        M(c=1, i=0), M(c=2, i=2))


def test_where_operators() -> None:
    rows = V(M(age=20), M(age=None), M(), M(age=10))
    assert call("filter", call("where", K("age"), BUILTINS[">"], 18), rows) == L(M(age=20))
    assert call("filter", call("where", K("age"), BUILTINS["<="], 10), rows) == L(M(age=10))
    assert call("filter", call("where", K("age"), BUILTINS["="], None), rows) == L(M(age=None), M())
    assert call("filter", call("where", K("age")), rows) == L(M(age=20), M(age=10))
    status = V(M(s="a"), M(s="b"), M(s="c"))
    assert call("filter", call("where", K("s"), BUILTINS["="], K("a")), status) == L(M(s="a"))
    assert call("filter", call("where", K("s"), BUILTINS["not="], "a"), status) == L(M(s="b"), M(s="c"))
    assert call("filter", call("where", K("s"), K("in"), V(K("a"), "c")), status) == L(M(s="a"), M(s="c"))
    assert call("filter", call("where", K("s"), Symbol("in"), V("b")), status) == L(M(s="b"))
    tags = V(M(t=V("x", "y")), M(t=V()), M(t="axb"))
    assert call("filter", call("where", K("t"), "includes", "x"), tags) == L(M(t=V("x", "y")), M(t="axb"))
    nested = V(M(u=M(r=1)), M(u=M(r=2)), M(u=None))
    assert call("filter", call("where", V(K("u"), K("r")), BUILTINS["="], 1), nested) == L(M(u=M(r=1)))
    dates = V(M(d="2024-01-05"), M(d="2024-03-01"))
    assert call("filter", call("where", K("d"), BUILTINS[">="], "2024-02"), dates) == L(M(d="2024-03-01"))
    assert code_of("where", K("a"), K("bogus"), 1) == "invalid_args"
    assert code_of("where", K("a"), BUILTINS["="]) == "invalid_args"


def test_predicate_combinators() -> None:
    rows = V(M(a=1, b=2), M(a=1, b=3), M(a=2, b=2))
    a1, b2 = call("where", K("a"), BUILTINS["="], 1), call("where", K("b"), BUILTINS["="], 2)
    assert call("filter", call("all-of", a1, b2), rows) == L(M(a=1, b=2))
    assert call("filter", call("any-of", a1, b2), rows) == rows
    assert call("filter", call("none-of", a1), rows) == L(M(a=2, b=2))
    assert call("filter", call("all-of"), rows) == rows
    assert call("filter", call("any-of"), rows) == L()
    assert call("filter", call("none-of"), rows) == rows
