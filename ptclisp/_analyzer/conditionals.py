"""Conditionals and sequencing: ``if when cond case condp if-let when-let if-some when-some do
and or`` and their negations, plus ``quote``/``var``/``comment``. Branches inherit tail position."""

from __future__ import annotations

from hy import models

from . import ast as A
from ._dispatch import analyze, analyze_body, node, special
from ._env import Env, error
from .bindings import destructure

__all__: list[str] = []


def _arity(form: models.Expression, low: int, high: int | None, usage: str) -> None:
    n = len(form) - 1
    if n < low or (high is not None and n > high):
        expects = f"{low}" if high == low else f"{low} to {high}" if high else f"at least {low}"
        raise error("arity_error", f"{form[0]} expects {expects} arguments, got {n}", form,
                    f"write {usage}")


def _negate(test: A.Node, form: object) -> A.Node:
    return node(A.Call, form, node(A.Const, form, _not), (test,))


def _not(value: object) -> bool:
    return value is None or value is False


def _some(value: object) -> bool:
    return value is not None


@special("if")
def analyze_if(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (if test then else?)
    _arity(form, 2, 3, "(if test then else)")
    orelse = analyze(form[3], env, tail) if len(form) == 4 else node(A.Const, form, None)
    return node(A.If, form, analyze(form[1], env), analyze(form[2], env, tail), orelse)


@special("if-not")
def analyze_if_not(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (if-not test then else?)
    _arity(form, 2, 3, "(if-not test then else)")
    orelse = analyze(form[3], env, tail) if len(form) == 4 else node(A.Const, form, None)
    return node(A.If, form, analyze(form[1], env), orelse, analyze(form[2], env, tail))


@special("when")
def analyze_when(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (when test body...)
    _arity(form, 1, None, "(when test body...)")
    body = analyze_body(form[2:], env, tail, form)
    return node(A.If, form, analyze(form[1], env), body, node(A.Const, form, None))


@special("when-not")
def analyze_when_not(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (when-not test body...)
    _arity(form, 1, None, "(when-not test body...)")
    body = analyze_body(form[2:], env, tail, form)
    return node(A.If, form, analyze(form[1], env), node(A.Const, form, None), body)


@special("do")
def analyze_do(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (do body...)
    return analyze_body(form[1:], env, tail, form)


@special("cond")
def analyze_cond(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (cond test expr ... :else expr)
    clauses = list(form[1:])
    if len(clauses) % 2:
        raise error("invalid_form", "cond needs test/expression pairs", form,
                    "write (cond (< x 0) :neg (> x 0) :pos :else :zero)")
    result: A.Node = node(A.Const, form, None)
    for test, expr in reversed(list(zip(clauses[::2], clauses[1::2]))):
        result = node(A.If, test, analyze(test, env), analyze(expr, env, tail), result)
    return result


@special("case")
def analyze_case(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (case expr const result ... default?) -- (a b) groups several constants
    from .._reader.reader import form_to_value

    _arity(form, 1, None, "(case x :a 1 :b 2 default)")
    clauses = list(form[2:])
    default = analyze(clauses.pop(), env, tail) if len(clauses) % 2 else None
    table: list[tuple[object, int]] = []
    branches: list[A.Node] = []
    seen: set[object] = set()
    for consts, expr in zip(clauses[::2], clauses[1::2]):
        group = list(consts) if isinstance(consts, models.Expression) else [consts]
        for const in group:
            value = form_to_value(const)
            if value in seen:
                raise error("invalid_form", f"duplicate case constant {const}", const,
                            "each constant may appear in only one clause")
            seen.add(value)
            table.append((value, len(branches)))
        branches.append(analyze(expr, env, tail))
    return node(A.Case, form, analyze(form[1], env), tuple(table), tuple(branches), default)


@special("condp")
def analyze_condp(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (condp pred expr test result ... test :>> f ... default?)
    _arity(form, 2, None, "(condp = x 1 :one 2 :two :other)")
    items = list(form[3:])
    clauses: list[tuple[A.Node, A.Node, bool]] = []
    i = 0
    while i + 1 < len(items):
        test = analyze(items[i], env)
        if isinstance(items[i + 1], models.Keyword) and items[i + 1].name == ">>":
            if i + 2 >= len(items):
                raise error("invalid_form", "condp :>> needs a function after it", items[i + 1],
                            "write test :>> (fn [result] ...)")
            clauses.append((test, analyze(items[i + 2], env), True))
            i += 3
        else:
            clauses.append((test, analyze(items[i + 1], env, tail), False))
            i += 2
    default = analyze(items[i], env, tail) if i < len(items) else None
    return node(A.Condp, form, analyze(form[1], env), analyze(form[2], env), tuple(clauses),
                default)


def _binding_test(form: models.Expression, env: Env, tail: bool, *, some: bool,
                  one_branch: bool) -> A.Node:
    name = str(form[0])
    usage = f"({name} [x (lookup)] then{'' if one_branch else ' else'})"
    if len(form) < 2 or not isinstance(form[1], models.List) or len(form[1]) != 2:
        raise error("invalid_form", f"{name} needs a binding vector with one pattern and value",
                    form, f"write {usage}")
    if not one_branch:
        _arity(form, 2, 3, usage)
    pattern, expr = form[1]
    slot = env.alloc()
    temp = node(A.Local, pattern, slot, " test")
    binds, inner = destructure(pattern, temp, env)
    if one_branch:
        then_body = analyze_body(form[2:], inner, tail, form)
        orelse: A.Node = node(A.Const, form, None)
    else:
        then_body = analyze(form[2], inner, tail)
        orelse = analyze(form[3], env, tail) if len(form) == 4 else node(A.Const, form, None)
    test = node(A.Call, form, node(A.Const, form, _some), (temp,)) if some else temp
    then = node(A.Let, form, tuple(binds), then_body)
    return node(A.Let, form, (node(A.Bind, form, slot, analyze(expr, env)),),
                node(A.If, form, test, then, orelse))


@special("if-let")
def analyze_if_let(form: models.Expression, env: Env, tail: bool) -> A.Node:
    return _binding_test(form, env, tail, some=False, one_branch=False)


@special("when-let")
def analyze_when_let(form: models.Expression, env: Env, tail: bool) -> A.Node:
    return _binding_test(form, env, tail, some=False, one_branch=True)


@special("if-some")
def analyze_if_some(form: models.Expression, env: Env, tail: bool) -> A.Node:
    return _binding_test(form, env, tail, some=True, one_branch=False)


@special("when-some")
def analyze_when_some(form: models.Expression, env: Env, tail: bool) -> A.Node:
    return _binding_test(form, env, tail, some=True, one_branch=True)


@special("and")
def analyze_and(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (and x y ...) -- the first falsy value, else the last
    if len(form) == 1:
        return node(A.Const, form, True)
    return _junction(A.And, form, env, tail)


@special("or")
def analyze_or(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (or x y ...) -- the first truthy value, else the last
    if len(form) == 1:
        return node(A.Const, form, None)
    return _junction(A.Or, form, env, tail)


def _junction(cls: type[A.Node], form: models.Expression, env: Env, tail: bool) -> A.Node:
    items = [analyze(f, env) for f in form[1:-1]] + [analyze(form[-1], env, tail)]
    return items[0] if len(items) == 1 else node(cls, form, tuple(items))


@special("quote")
def analyze_quote(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (quote form) / 'form
    from .._reader.reader import form_to_value

    _arity(form, 1, 1, "'x or (quote x)")
    return node(A.Const, form, form_to_value(form[1]))


@special("var")
def analyze_var(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # #'name -- there are no vars; evaluates to the value the name refers to
    _arity(form, 1, 1, "#'name")
    if not isinstance(form[1], models.Symbol):
        raise error("invalid_form", "var needs a symbol", form, "write #'name")
    return analyze(form[1], env)


@special("comment")
def analyze_comment(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (comment ...) -- ignored, evaluates to nil
    return node(A.Const, form, None)



@special("when-first")
def analyze_when_first(form: models.Expression, env: Env, tail: bool) -> A.Node:
    """``(when-first [x coll] body)``: body with x bound to (first coll) when (seq coll)."""
    usage = "(when-first [x coll] body)"
    if len(form) < 2 or not isinstance(form[1], models.List) or len(form[1]) != 2:
        raise error("invalid_form", "when-first needs a binding vector with one pattern and value",
                    form, f"write {usage}")
    from .._core import BUILTINS

    pattern, expr = form[1]
    slot = env.alloc()
    temp = node(A.Local, pattern, slot, " seq")
    first = node(A.Call, form, node(A.Const, form, BUILTINS["first"]), (temp,))
    binds, inner = destructure(pattern, first, env)
    then = node(A.Let, form, tuple(binds), analyze_body(form[2:], inner, tail, form))
    seq = node(A.Call, form, node(A.Const, form, BUILTINS["seq"]), (analyze(expr, env),))
    return node(A.Let, form, (node(A.Bind, form, slot, seq),),
                node(A.If, form, temp, then, node(A.Const, form, None)))


@special("assert")
def analyze_assert(form: models.Expression, env: Env, tail: bool) -> A.Node:
    """``(assert x)`` / ``(assert x message)``: an ``assertion_failed`` error when x is falsy."""
    _arity(form, 1, 2, "(assert test) or (assert test \"message\")")
    from .._reader.literals import form_to_value
    from .._values.printer import pr_str

    try:
        shown = pr_str(form_to_value(form[1]))
    except Exception:
        shown = "the test"
    message = analyze(form[2], env) if len(form) == 3 else node(A.Const, form, None)
    fail = node(A.Call, form, node(A.Const, form, _assert_failed),
                (node(A.Const, form, shown), message))
    return node(A.If, form, analyze(form[1], env), node(A.Const, form, None), fail)


def _assert_failed(shown: str, message: object) -> None:
    from .._errors import EvalError
    from .._values.types import to_python

    text = f"Assert failed: {shown}"
    if message is not None:
        said = message if isinstance(message, str) else to_python(message)
        text = f"Assert failed: {said}\n{shown}"
    raise EvalError(text, code="assertion_failed",
                    hint="the program's own (assert ...) did not hold: check the data first")
