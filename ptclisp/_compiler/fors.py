"""Compiling ``for``/``doseq``/``dotimes``: nested generators over the binding clauses.

``for`` over a finite first collection is realised at once into a list (fast, and the common
case); over a lazy sequence it stays lazy, so ``(take 3 (for [x (range)] ...))`` works. A lazy
``for`` runs on its own copy of the frame, so it may be realised later without disturbing the
code that made it. Every iteration charges one step. A collecting ``for`` over a vector or
list, with one binding and :let/:when, may run as one comprehension (``_compile_source``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .._analyzer import ast as A
from .._core._kernels import run_kernel
from .._values.types import LazySeq, List, Vector
from .rt import iter_seq
from .source import for_kernel_source

if TYPE_CHECKING:
    from .compiler import Compiler, Ev

__all__ = ["compile_for"]

Walk = Callable[[list[Any], Iterable[Any]], Iterator[Any]]
_LET, _WHEN, _WHILE = 0, 1, 2
_PASS, _SKIP, _STOP = 0, 1, 2


def compile_for(compiler: Compiler, node: A.For) -> Ev:
    groups = _groups(compiler, node.clauses)
    body, ctx = compiler.compile(node.body), compiler.ctx
    walk = _level(groups, 0, body, ctx)
    first = groups[0][1]
    offer = for_kernel_source(compiler, node)

    if not node.collect:

        def doseq(f: list[Any]) -> Any:
            for _ in walk(f, iter_seq(first(f))):
                pass
            return None

        return doseq

    def for_(f: list[Any]) -> Any:
        items = first(f)
        if isinstance(items, LazySeq):
            return LazySeq(walk(list(f), items))
        kernel = None if offer is None or (type(items) is not Vector and type(items) is not List) \
            else offer.kernel("for", len(items))
        if kernel is not None:  # the whole for as one comprehension (see _compile_source)
            result = run_kernel(kernel, items, f, enter=False)
        else:
            result = list(walk(f, iter_seq(items)))
        ctx.meter.alloc_items(len(result))  # type: ignore[union-attr]
        return List(result)

    return for_


Group = tuple[int, "Ev", list[tuple[int, "Ev"]], list[tuple[int, Any]]]


def _groups(compiler: Compiler, clauses: tuple[A.Node, ...]) -> list[Group]:
    """Each binding clause with the :let/:when/:while modifiers that follow it."""
    groups: list[Group] = []
    for clause in clauses:
        if isinstance(clause, A.ForBinding):
            prologue = [(b.slot, compiler.compile(b.expr)) for b in clause.prologue]
            groups.append((clause.slot, compiler.compile(clause.coll), prologue, []))
        elif isinstance(clause, A.ForLet):
            binds = [(b.slot, compiler.compile(b.expr)) for b in clause.binds]
            groups[-1][3].append((_LET, binds))
        elif isinstance(clause, A.ForWhen):
            groups[-1][3].append((_WHEN, compiler.compile(clause.test)))
        else:
            assert isinstance(clause, A.ForWhile)
            groups[-1][3].append((_WHILE, compiler.compile(clause.test)))
    return groups


def _level(groups: list[Group], i: int, body: Ev, ctx: Any) -> Walk:
    slot, _, prologue, modifiers = groups[i]
    last = i == len(groups) - 1
    inner = None if last else _level(groups, i + 1, body, ctx)
    inner_coll = None if last else groups[i + 1][1]

    def walk(f: list[Any], items: Iterable[Any]) -> Iterator[Any]:
        meter = ctx.meter
        for item in items:
            meter.fuel -= 1
            if meter.fuel < 0:
                meter.refuel()
            f[slot] = item
            for s, value in prologue:
                f[s] = value(f)
            if modifiers:
                verdict = _check(modifiers, f)
                if verdict == _STOP:
                    return
                if verdict == _SKIP:
                    continue
            if inner is None:
                yield body(f)
            else:
                yield from inner(f, iter_seq(inner_coll(f)))  # type: ignore[misc]

    return walk


def _check(modifiers: list[tuple[int, Any]], f: list[Any]) -> int:
    """Run the modifiers of one iteration: ``_PASS``, ``_SKIP`` (:when) or ``_STOP`` (:while)."""
    for kind, payload in modifiers:
        if kind == _LET:
            for s, value in payload:
                f[s] = value(f)
        else:
            v = payload(f)
            if v is None or v is False:
                return _STOP if kind == _WHILE else _SKIP
    return _PASS
