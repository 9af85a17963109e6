"""Threading macros, rewritten into plain forms before analysis:
``-> ->> some-> some->> cond-> cond->> as->``.

A step that is a symbol or keyword ``f`` becomes ``(f x)``; a list ``(f a)`` gets ``x`` inserted
first (``->``) or last (``->>``). The ``some``/``cond`` variants bind intermediate values to
generated names no program can write.
"""

from __future__ import annotations

from hy import models

from . import ast as A
from ._dispatch import analyze, special
from ._env import Env, at, error

__all__: list[str] = []


def _sym(name: str, where: object) -> models.Symbol:
    return at(models.Symbol(name, from_parser=True), where)


def _expr(items: list[object], where: object) -> models.Expression:
    return at(models.Expression(items), where)


def thread_step(acc: object, step: object, last: bool) -> models.Expression:
    """Insert ``acc`` into ``step`` (first or last argument)."""
    if isinstance(step, models.Expression) and step:
        head, *args = list(step)
        items = [head, *args, acc] if last else [head, acc, *args]
        return _expr(items, step)
    if isinstance(step, models.Expression):
        raise error("invalid_form", "cannot thread through ()", step,
                    "each step is a fn or (f args)")
    return _expr([step, acc], step)


def _needs(form: models.Expression, n: int, usage: str) -> None:
    if len(form) - 1 < n:
        raise error("arity_error", f"{form[0]} needs at least {n} argument{'s' if n > 1 else ''}",
                    form, f"write {usage}")


@special("->", "->>")
def analyze_thread(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (-> x (f a) g) => (g (f x a));  (->> x (f a) g) => (g (f a x))
    _needs(form, 1, "(-> x (f a) g)")
    last = str(form[0]) == "->>"
    acc = form[1]
    for step in form[2:]:
        acc = thread_step(acc, step, last)
    return analyze(acc, env, tail)


@special("some->", "some->>")
def analyze_some_thread(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (some-> x f g) => (let [t x] (if (nil? t) nil (some-> (f t) g)))
    _needs(form, 1, "(some-> x :a f)")
    last = str(form[0]) == "some->>"
    steps = list(form[2:])
    acc: object = form[1]
    if steps:
        acc = _some_chain(form[1], steps, last, env, form)
    return analyze(acc, env, tail)


def _some_chain(value: object, steps: list[object], last: bool, env: Env, where: object) -> object:
    name = env.root.gensym("some")
    sym = _sym(name, where)
    rest = thread_step(sym, steps[0], last)
    body = rest if len(steps) == 1 else _some_chain(rest, steps[1:], last, env, where)
    binding = at(models.List([sym, value]), where)
    return _expr([_sym("if-some", where), binding, body, _sym("nil", where)], where)


@special("cond->", "cond->>")
def analyze_cond_thread(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (cond-> x t1 s1 t2 s2) => (let [g x g (if t1 (-> g s1) g) g (if t2 (-> g s2) g)] g)
    _needs(form, 1, "(cond-> x test step ...)")
    last = str(form[0]) == "cond->>"
    clauses = list(form[2:])
    if len(clauses) % 2:
        raise error("invalid_form", f"{form[0]} needs test/step pairs", form,
                    "write (cond-> m (:a m) (assoc :b 1))")
    sym = _sym(env.root.gensym("cond"), form)
    bindings: list[object] = [sym, form[1]]
    for test, step in zip(clauses[::2], clauses[1::2]):
        bindings += [sym, _expr([_sym("if", test), test, thread_step(sym, step, last), sym], test)]
    let_form = _expr([_sym("let", form), at(models.List(bindings), form), sym], form)
    return analyze(let_form, env, tail)


@special("as->")
def analyze_as_thread(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (as-> x name f1 f2) => (let [name x name f1 name f2] name)
    _needs(form, 2, "(as-> x $ (f $ 1) (g 2 $))")
    name = form[2]
    if not isinstance(name, models.Symbol):
        raise error("invalid_form", "as-> needs a name as its second argument", form,
                    "write (as-> x $ (f $ 1))")
    bindings: list[object] = [name, form[1]]
    for step in form[3:]:
        bindings += [name, step]
    let_form = _expr([_sym("let", form), at(models.List(bindings), form), name], form)
    return analyze(let_form, env, tail)
