"""Analyzer: special forms are checked up front; every error has a code, position and hint."""

import pytest

from ptclisp._analyzer import analyze_program
from ptclisp._analyzer import ast as A
from ptclisp._errors import AnalysisError
from ptclisp._reader.reader import read_forms


def analyze(source, **kwargs):
    return analyze_program(read_forms(source), **kwargs)


def failure(source):
    with pytest.raises(AnalysisError) as info:
        analyze(source)
    err = info.value
    assert err.hint, f"no hint for {source!r}"
    return err.code, err.line, err.column


# ---------------------------------------------------------------- shapes


def test_constants_fold_and_symbols_resolve_to_places():
    program = analyze("(let [x 1] [x :k]) nil true data/orders tool/get inc")
    let, nil, true, data, tool, inc = program.forms
    assert isinstance(let, A.Let) and isinstance(let.body, A.VectorLit)
    assert isinstance(let.body.items[0], A.Local) and let.body.items[1] == A.Const(
        let.body.items[1].value, line=1, column=15
    )
    assert (nil.value, true.value) == (None, True)
    assert isinstance(data, A.DataRef) and data.name == "orders"
    assert isinstance(tool, A.ToolRef) and tool.name == "get"
    assert isinstance(inc, A.Builtin)


def test_closure_captures_outer_locals_by_index():
    (let,) = analyze("(let [n 1] (fn [x] (+ x n)))").forms
    fn = let.body
    assert isinstance(fn, A.Fn)
    assert [type(c) for c in fn.captures] == [A.Local]
    call = fn.arities[0].body
    assert isinstance(call.args[0], A.Local) and isinstance(call.args[1], A.Captured)


def test_nodes_carry_positions():
    (form,) = analyze("\n  (if true\n      (inc 1) 2)").forms
    assert (form.line, form.column) == (2, 3)
    assert (form.then.line, form.then.column) == (3, 7)


def test_threading_macros_desugar_to_calls():
    (form,) = analyze("(-> 1 (- 2) inc)").forms
    assert isinstance(form, A.Call) and form.fn.name == "inc"
    inner = form.args[0]
    assert inner.fn.name == "-" and inner.args[0].value == 1 and inner.args[1].value == 2


def test_defs_anywhere_are_known_before_use():
    program = analyze("(defn a [] (b)) (defn b [] 1)")
    assert program.defs == {"a", "b"}


def test_known_globals_from_earlier_runs_resolve():
    (form,) = analyze("(f 1)", known_globals={"f"}).forms
    assert isinstance(form.fn, A.Global)


def test_locals_shadow_builtins():
    (let,) = analyze("(let [count 3] count)").forms
    assert isinstance(let.body, A.Local)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("(frobnicate 1)", ("unbound_symbol", 1, 2)),
        ("(let [x 1]\n  y)", ("unbound_symbol", 2, 3)),
        ("(if)", ("arity_error", 1, 1)),
        ("(if 1 2 3 4)", ("arity_error", 1, 1)),
        ("(let [x] x)", ("invalid_form", 1, 6)),
        ("(let x 1)", ("invalid_form", 1, 1)),
        ("(fn x)", ("invalid_form", 1, 1)),
        ("(fn [a & b c] a)", ("invalid_form", 1, 8)),
        ("(fn ([a] 1) ([b] 2))", ("invalid_form", 1, 1)),
        ("(defn)", ("invalid_form", 1, 1)),
        ("(def 1 2)", ("invalid_form", 1, 1)),
        ("(def if 2)", ("invalid_form", 1, 6)),
        ("(defn let [] 2)", ("invalid_form", 1, 7)),
        ("(def tool/x 2)", ("invalid_form", 1, 6)),
        ("(cond 1)", ("invalid_form", 1, 1)),
        ("(case)", ("arity_error", 1, 1)),
        ("(case 1 2 :a 2 :b)", ("invalid_form", 1, 14)),
        ("(recur 1)", ("invalid_form", 1, 1)),
        ("(loop [x 1] (inc (recur x)))", ("invalid_form", 1, 18)),
        ("(loop [x 1] (recur x 2))", ("arity_error", 1, 13)),
        ("(fn [x] (do (recur x) 1))", ("invalid_form", 1, 13)),
        ("(for [x [1]] (recur x))", ("invalid_form", 1, 14)),
        ("(for [x [1] :until true] x)", ("invalid_form", 1, 13)),
        ("(for [:when true] 1)", ("invalid_form", 1, 7)),
        ("(for [x [1]] 1 2)", ("arity_error", 1, 1)),
        ("(if-let [x] 1)", ("invalid_form", 1, 1)),
        ("(let [{:keys x} {}] x)", ("invalid_form", 1, 14)),
        ("(let [[a &] [1]] a)", ("invalid_form", 1, 10)),
        ("(let [5 1] 5)", ("invalid_form", 1, 7)),
        ("(tool/x 1 2)", ("arity_error", 1, 1)),
        ("(cond-> 1 true)", ("invalid_form", 1, 1)),
        ("(as-> 1 2 3)", ("invalid_form", 1, 1)),
        ("(->)", ("arity_error", 1, 1)),
        ("(condp = 1 2 :>>)", ("invalid_form", 1, 14)),
        ("(atom 1)", ("unbound_symbol", 1, 2)),
        ("(try 1 (catch Exception e 2))", ("unbound_symbol", 1, 2)),
    ],
)
def test_malformed_forms_are_rejected_with_position(source, expected):
    assert failure(source) == expected


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ('(.getClass "x")', "invalid_form"),
        ('(.invoke "x")', "invalid_form"),
        ('(.__class__ "")', "invalid_form"),
        ('(. "" __class__)', "invalid_form"),
        ("(.. System getProperties)", "invalid_form"),
        ("(new java.util.Date)", "invalid_form"),
        ("(StringBuilder. \"x\")", "invalid_form"),
        ("(import os)", "invalid_form"),
        ("(require 'clojure.string)", "invalid_form"),
        ("(eval '(+ 1 2))", "invalid_form"),
        ('(load-string "(+ 1 2)")', "invalid_form"),
        ('(slurp "/etc/passwd")', "invalid_form"),
        ('(__import__ "os")', "invalid_form"),
        ("(py/exec 1)", "unbound_symbol"),
        ("(java.util.Math/abs -1)", "unbound_symbol"),
        ("(java.lang.Runtime/getRuntime)", "unbound_symbol"),
        ("(os.path/join 1)", "unbound_symbol"),
        ("x.__class__", "invalid_form"),
        ("a.b", "unbound_symbol"),
    ],
)
def test_interop_attempts_are_analysis_errors(source, code):
    assert failure(source)[0] == code


def test_unknown_function_gets_a_did_you_mean_hint():
    with pytest.raises(AnalysisError) as info:
        analyze("(fliter odd? [1 2])")
    assert "filter" in info.value.hint
    with pytest.raises(AnalysisError) as info:
        analyze("(clojure.string/jion \",\" [1])")
    assert "clojure.string/join" in info.value.hint or "join" in info.value.hint


def test_unsupported_clojure_names_explain_the_alternative():
    with pytest.raises(AnalysisError) as info:
        analyze("(swap! a inc)")
    assert "reduce" in info.value.hint


def test_error_dict_has_the_cli_shape():
    with pytest.raises(AnalysisError) as info:
        analyze("(nope)")
    assert set(info.value.to_dict()) == {"code", "message", "hint", "line", "column"}
