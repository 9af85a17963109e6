"""Properties: the evaluator agrees with Python on generated programs; the analyzer never
crashes on generated input with anything but a ptclisp error."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ptclisp
from ptclisp._errors import PtclispError
from ptclisp._run import load
from ptclisp._values.types import equals

# ---------------------------------------------------------------- expressions with known values
# Each strategy draws (source, value): the ptclisp text and what Python computes for it.

small_ints = st.integers(-1000, 1000)
int_literal = small_ints.map(lambda n: (str(n), n))
vec_literal = st.lists(small_ints, max_size=6).map(
    lambda xs: ("[" + " ".join(map(str, xs)) + "]", list(xs))
)


def _int_ops(ints, vecs):
    binary = st.sampled_from([("+", lambda a, b: a + b), ("-", lambda a, b: a - b),
                              ("*", lambda a, b: a * b), ("max", max), ("min", min)])
    unary = st.sampled_from([("inc", lambda a: a + 1), ("dec", lambda a: a - 1), ("abs", abs),
                             ("-", lambda a: -a)])
    return st.one_of(
        st.tuples(binary, ints, ints).map(lambda t: (f"({t[0][0]} {t[1][0]} {t[2][0]})",
                                                      t[0][1](t[1][1], t[2][1]))),
        st.tuples(unary, ints).map(lambda t: (f"({t[0][0]} {t[1][0]})", t[0][1](t[1][1]))),
        st.tuples(ints, ints, ints, ints).map(
            lambda t: (f"(if (< {t[0][0]} {t[1][0]}) {t[2][0]} {t[3][0]})",
                       t[2][1] if t[0][1] < t[1][1] else t[3][1])),
        st.tuples(ints).map(lambda t: (f"(let [x {t[0][0]}] (+ x x))", 2 * t[0][1])),
        vecs.map(lambda v: (f"(count {v[0]})", len(v[1]))),
        vecs.map(lambda v: (f"(reduce + 0 {v[0]})", sum(v[1]))),
        vecs.map(lambda v: (f"(if (empty? {v[0]}) 0 (first {v[0]}))", v[1][0] if v[1] else 0)),
        st.tuples(ints).map(lambda t: (f"(get (assoc {{:a 1}} :k {t[0][0]}) :k)", t[0][1])),
        st.tuples(ints).map(lambda t: (f"(loop [i 0 acc {t[0][0]}] (if (< i 3) (recur (inc i) (+ acc i)) acc))",
                                       t[0][1] + 3)),
        st.tuples(ints).map(lambda t: (f"(let [{{:keys [a]}} {{:a {t[0][0]}}}] a)", t[0][1])),
    )


def _vec_ops(ints, vecs):
    return st.one_of(
        st.tuples(vecs, ints).map(lambda t: (f"(conj {t[0][0]} {t[1][0]})", t[0][1] + [t[1][1]])),
        vecs.map(lambda v: (f"(vec (reverse {v[0]}))", v[1][::-1])),
        vecs.map(lambda v: (f"(vec (sort {v[0]}))", sorted(v[1]))),
        vecs.map(lambda v: (f"(mapv inc {v[0]})", [x + 1 for x in v[1]])),
        vecs.map(lambda v: (f"(filterv even? {v[0]})", [x for x in v[1] if x % 2 == 0])),
        st.tuples(vecs, vecs).map(lambda t: (f"(into {t[0][0]} {t[1][0]})", t[0][1] + t[1][1])),
        st.tuples(vecs, st.integers(0, 4)).map(
            lambda t: (f"(vec (take {t[1]} {t[0][0]}))", t[0][1][: t[1]])),
        vecs.map(lambda v: (f"(vec (for [x {v[0]} :when (odd? x)] (* x 2)))",
                            [2 * x for x in v[1] if x % 2])),
        st.tuples(vecs, ints).map(lambda t: (f"(let [n {t[1][0]}] (mapv (fn [x] (- x n)) {t[0][0]}))",
                                             [x - t[1][1] for x in t[0][1]])),
    )


def _expressions(depth):
    """Expressions nested at most ``depth`` operations deep."""
    ints, vecs = int_literal, vec_literal
    for _ in range(depth):
        ints, vecs = (st.one_of(int_literal, _int_ops(ints, vecs)),
                      st.one_of(vec_literal, _vec_ops(ints, vecs)))
    return st.one_of(ints, vecs)


expressions = _expressions(3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_evaluator_agrees_with_python(case):
    source, expected = case
    result = ptclisp.run(source)
    assert result.status == "ok", (source, result.error)
    if isinstance(expected, list):
        expected = ptclisp.Vector(expected)
        assert isinstance(result.value, ptclisp.Vector), (source, result.value)
    else:
        assert type(result.value) is int, (source, result.value)
    assert equals(result.value, expected), (source, result.value, expected)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(expressions, min_size=2, max_size=4))
def test_collections_of_results_compare_structurally(cases):
    source = "[" + " ".join(s for s, _ in cases) + "]"
    result = ptclisp.run(source)
    assert result.status == "ok", (source, result.error)
    expected = ptclisp.Vector(ptclisp.Vector(v) if isinstance(v, list) else v for _, v in cases)
    assert equals(result.value, expected)


# ---------------------------------------------------------------- arbitrary forms

atoms = st.sampled_from(
    ["x", "y", "f", "1", "-2", "2.5", '"s"', ":k", ":keys", ":as", ":or", ":when", ":let",
     ":while", ":else", ":>>", "&", "nil", "true", "_", "%", "%1", "%&", "inc", "+", "map",
     "recur", "fn", "let", "loop", "if", "do", "def", "defn", "cond", "case", "condp", "for",
     "doseq", "->", "->>", "some->", "cond->", "as->", "if-let", "when-some", "quote", "and",
     "or", "tool/t", "data/d", "return", "fail", ".x", "a.b", "__x__", "#'f", "\\a"]
)


def _render(tree):
    if isinstance(tree, str):
        return tree
    kind, items = tree
    inner = " ".join(_render(i) for i in items)
    if kind == "{" and len(items) % 2:
        inner += " nil"
    return {"(": f"({inner})", "[": f"[{inner}]", "{": f"{{{inner}}}"}[kind]


forms = st.recursive(
    atoms,
    lambda children: st.tuples(st.sampled_from(["(", "(", "[", "{"]),
                               st.lists(children, max_size=5)),
    max_leaves=25,
).map(_render)


@settings(max_examples=400, deadline=None)
@given(st.lists(forms, min_size=1, max_size=3).map(" ".join))
def test_analyzer_raises_only_ptclisp_errors(source):
    try:
        load(source)
    except PtclispError as exc:
        assert exc.code in {"parse_error", "invalid_form", "arity_error", "unbound_symbol",
                            "syntax_error"}, (source, exc)
        assert exc.hint


@settings(max_examples=150, deadline=None)
@given(st.lists(forms, min_size=1, max_size=3).map(" ".join))
def test_running_generated_programs_always_returns_a_result(source):
    limits = ptclisp.Limits(max_steps=5_000, timeout_s=2.0, max_memory=2**20)
    result = ptclisp.run(source, limits=limits, data={"d": [1, 2]}, tools={"t": lambda a: a})
    assert result.status in {"ok", "failed", "error"}
    if result.status == "error":
        assert isinstance(result.error, PtclispError)
