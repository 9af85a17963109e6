"""Comprehensions: ``for`` (a sequence), ``doseq`` and ``dotimes`` (for effect, nil).

Binding clauses may be followed by ``:let [...]``, ``:when test`` and ``:while test``; several
binding clauses nest, the rightmost varying fastest. ``recur`` is not allowed in the body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from hy import models

from .._values.types import LazySeq
from . import ast as A
from ._dispatch import analyze, analyze_body, node, special
from ._env import Env, error
from .bindings import analyze_fn, bind_pairs, destructure

__all__: list[str] = []

_HINT = "write (for [x xs :when (odd? x) :let [y (* x x)]] y)"


def _clauses(form: models.Expression, env: Env) -> tuple[list[A.Node], Env]:
    name = str(form[0])
    if len(form) < 2 or not isinstance(form[1], models.List) or len(form[1]) % 2 or not form[1]:
        raise error("invalid_form", f"{name} needs a vector of binding/collection pairs", form,
                    _HINT.replace("(for", f"({name}"))
    items = list(form[1])
    clauses: list[A.Node] = []
    for key, value in zip(items[::2], items[1::2]):
        if isinstance(key, models.Keyword):
            if not clauses:
                raise error("invalid_form", f"{name} must start with a binding, not :{key.name}",
                            key, _HINT)
            clause, env = _modifier(key, value, env)
            clauses.append(clause)
        else:
            coll = analyze(value, env)
            slot = env.alloc()
            binds, env = destructure(key, node(A.Local, key, slot, " item"), env)
            if len(binds) == 1 and isinstance(key, models.Symbol):
                # a plain name: bind the element straight into its own slot
                slot = binds[0].slot
                binds = []
            clauses.append(node(A.ForBinding, key, slot, coll, tuple(binds)))
    return clauses, env


def _modifier(key: models.Keyword, value: object, env: Env) -> tuple[A.Node, Env]:
    if key.name == "let":
        if not isinstance(value, models.List) or len(value) % 2:
            raise error("invalid_form", ":let needs a binding vector", key, _HINT)
        binds, env = bind_pairs(list(zip(value[::2], value[1::2])), env)
        return node(A.ForLet, key, tuple(binds)), env
    if key.name == "when":
        return node(A.ForWhen, key, analyze(value, env)), env
    if key.name == "while":
        return node(A.ForWhile, key, analyze(value, env)), env
    raise error("invalid_form", f"unknown modifier :{key.name}", key,
                "the modifiers are :let, :when and :while")


@special("for")
def analyze_for(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (for [x xs :when t :let [..] :while t y ys] body)
    if len(form) != 3:
        raise error("arity_error", "for takes a binding vector and one body form, "
                    f"got {len(form) - 1} forms", form, _HINT)
    clauses, inner = _clauses(form, env)
    body = analyze(form[2], inner.with_recur(None))
    return node(A.For, form, tuple(clauses), body, True)


@special("doseq")
def analyze_doseq(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (doseq [x xs ...] body...)  -- for effect, returns nil
    clauses, inner = _clauses(form, env)
    body = analyze_body(form[2:], inner.with_recur(None), False, form)
    return node(A.For, form, tuple(clauses), body, False)


@special("dotimes")
def analyze_dotimes(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (dotimes [i n] body...)
    if len(form) < 2 or not isinstance(form[1], models.List) or len(form[1]) != 2 \
            or not isinstance(form[1][0], models.Symbol):
        raise error("invalid_form", "dotimes needs [name count]", form, "write (dotimes [i 3] ...)")
    name, count = form[1]
    coll = node(A.Call, form, node(A.Const, form, _count_range), (analyze(count, env),))
    binds, inner = destructure(name, node(A.Const, form, None), env)
    body = analyze_body(form[2:], inner.with_recur(None), False, form)
    return node(A.For, form, (node(A.ForBinding, name, binds[0].slot, coll, ()),), body, False)


def _count_range(n: object) -> range:
    if type(n) is not int:
        from .._errors import EvalError

        raise EvalError("dotimes needs an integer count", code="type_error",
                        hint="write (dotimes [i 3] ...)")
    return range(n)


@special("lazy-seq")
def analyze_lazy_seq(form: models.Expression, env: Env, tail: bool) -> A.Node:
    """``(lazy-seq body...)``: a seq whose body runs when it is first realised."""
    thunk = analyze_fn(form, None, [models.List([]), *form[1:]], env)
    return node(A.Call, form, node(A.Const, form, _lazy_seq), (thunk,))


@special("lazy-cat")
def analyze_lazy_cat(form: models.Expression, env: Env, tail: bool) -> A.Node:
    """``(lazy-cat coll...)``: the colls concatenated, each evaluated when reached."""
    from .._core import BUILTINS

    parts = tuple(node(A.Call, form, node(A.Const, form, _lazy_seq),
                       (analyze_fn(form, None, [models.List([]), coll], env),))
                  for coll in form[1:])
    return node(A.Call, form, node(A.Const, form, BUILTINS["concat"]), parts)


def _lazy_seq(thunk: Callable[[], Any]) -> LazySeq:
    return LazySeq(_realise(thunk))


def _realise(thunk: Callable[[], Any]) -> Iterator[Any]:
    from .._core._support import seq_source

    yield from seq_source(thunk(), "lazy-seq")
