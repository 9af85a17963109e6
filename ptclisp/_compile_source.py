"""Expression fns compiled to Python source, with loop kernels for the builtins that loop.

Most fns in LLM-written programs are small keys and predicates handed to ``filter``, ``map``,
``sort-by`` or ``group-by``: ``#(= (:status %) "paid")``, ``(fn [o] (* (:qty o) (:price o)))``.
The closure compiler pays a Python call per AST node for them. When a fn has one fixed arity,
no destructuring, and a body made only of the nodes below, its body becomes *one Python
expression* instead (compiled when a builtin first loops over ``KERNEL_MIN_ITEMS`` items with
it, or at once for a fn whose plan is cached — see ``KernelSource``):

    constants, parameters, ``let`` locals, captured values, globals, ``data/...``
    if / and / or / do / let, vector, map and set literals
    calls of builtins, run-level fns, keywords, constants, parameters, captured values, globals

The function made from it charges a step and a level of depth per call exactly as a closure fn
does. A one-parameter fn also gets *kernels*, the expression inlined into a loop over the
items: ``keep`` (filter/remove), ``each`` (map, mapv, the keys of sort-by/group-by) and ``find``
(some, every?); a two-parameter fn gets ``fold`` (reduce). ``run_kernel``/``run_find``/``run_fold``
charge one step per item before each batch, refund the items a batch never started, and enter
one level of depth around the loop, so steps and depth match calling the fn on every item; no
Python call is made per item.

Exactness: an operator is inlined only for the types on which Python's operator *is* Clojure's
(``type(x) is int``...); every other case calls the builtin itself, through the same
position-attaching wrapper the closure compiler uses, so values and errors are the same. A
*pure* body (no effect, no program code: keyword lookups, inlined operators, constants) also gets
a fast variant that reads every keyword with ``coll.get(k)`` alone — tables are vectors of maps
— and falls back to the exact loop for the whole batch on any exception (an AttributeError: an
item was no map); running a pure body twice is the same as once. The property tests compare both
compilers on generated fns, over tables and mixed items.

Generated code is cached per fn node (nodes live as long as their loaded program): a compile
only binds the run context, the namespace and the constants into the cached factory.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import _ast as A
from ._source_emitter import Emitter, NotExpression
from ._values import Keyword, Map, Set, Vector

if TYPE_CHECKING:
    from ._compiler import Compiler, Ev

__all__ = ["KERNEL_MIN_ITEMS", "NOT_FOUND", "KernelSource", "Kernels", "compile_source_fn",
           "is_compiled", "kernel_source", "run_find", "run_fold", "run_kernel"]

_PENDING: Any = object()

_BATCH = 4096
"""Items per kernel batch: the clock and step budget are checked between batches."""


class Kernels:
    """The loops of a source fn: ``keep``/``each``/``find`` for one parameter, ``fold`` for two.
    Each takes the batch tuple and an iterator over it (see ``_run_batch``)."""

    __slots__ = ("each", "find", "fold", "keep")

    def __init__(self, keep: Callable[..., list[Any]] | None = None,
                 each: Callable[..., list[Any]] | None = None,
                 find: Callable[..., Any] | None = None,
                 fold: Callable[..., Any] | None = None) -> None:
        self.keep, self.each, self.find, self.fold = keep, each, find, fold


def run_kernel(kernel: Callable[..., list[Any]], xs: tuple[Any, ...], *args: Any) -> list[Any]:
    """``kernel`` (keep, each) over ``xs`` in batches, charged like one fn call per item."""
    from ._limits import current_meter

    meter = current_meter()
    meter.enter()
    if len(xs) <= _BATCH:
        out = _run_batch(meter, kernel, xs, args)
    else:
        out = []
        for start in range(0, len(xs), _BATCH):
            out += _run_batch(meter, kernel, xs[start:start + _BATCH], args)
    meter.depth -= 1  # an exception ends the run: no finally, as for every call
    return out


def run_fold(fold: Callable[..., Any], acc: Any, xs: tuple[Any, ...]) -> Any:
    """``(reduce f acc xs)`` by the fold kernel; a ``Reduced`` result is returned as it is."""
    from ._core._support import Reduced
    from ._limits import current_meter

    meter = current_meter()
    meter.enter()
    for start in range(0, len(xs), _BATCH):
        part = xs if len(xs) <= _BATCH else xs[start:start + _BATCH]
        acc = _run_batch(meter, fold, part, (acc,), may_stop=True)
        if type(acc) is Reduced:
            break
    meter.depth -= 1
    return acc


def run_find(find: Callable[..., Any], xs: tuple[Any, ...], want: bool) -> Any:
    """The first ``(f x)`` whose truth is ``want`` (some: True, every?: False), else ``NOT_FOUND``."""
    from ._limits import current_meter

    meter = current_meter()
    meter.enter()
    found = NOT_FOUND
    for start in range(0, len(xs), _BATCH):
        part = xs if len(xs) <= _BATCH else xs[start:start + _BATCH]
        found = _run_batch(meter, find, part, (want,), may_stop=True)
        if found is not NOT_FOUND:
            break
    meter.depth -= 1
    return found


def _run_batch(meter: Any, kernel: Callable[..., Any], part: tuple[Any, ...],
               args: tuple[Any, ...], may_stop: bool = False) -> Any:
    """One batch: charged up front; the items never started are refunded (after an error, or
    when a fold ``may_stop`` at a reduced value), so the steps are those of the calls made.
    The kernel gets the batch and an iterator over it: the exact loop runs over the iterator,
    whose length hint then counts the items not started."""
    meter.tick(len(part))
    items = iter(part)
    try:
        result = kernel(part, items, *args)
    except BaseException:
        meter.fuel += operator.length_hint(items)
        raise
    if may_stop:
        meter.fuel += operator.length_hint(items)
    return result


KERNEL_MIN_ITEMS = 1_000
"""A builtin compiles a fn's kernels for a collection at least this long. Compiling costs about
a millisecond (Python's ``compile``); per-item calls of the closure cost ~0.4 us more than the
kernel, so a one-off loop over fewer items is cheaper without. Once compiled (cached per fn
node, so for every later run of the same program), kernels serve collections of any size."""


class KernelSource:
    """A fn's offer to the builtins that loop: its kernels, compiled on first demand.

    A closure fn carries one unresolved (its node, the compiler, its captured values); a source
    fn carries its kernels already made.
    """

    __slots__ = ("_captured", "_compiler", "_kernels", "_named", "_node")

    def __init__(self, node: A.Fn | None = None, compiler: Compiler | None = None,
                 captured: list[Any] | None = None, named: bool = False,
                 kernels: Kernels | None | object = _PENDING) -> None:
        self._node, self._compiler, self._captured, self._named = node, compiler, captured, named
        self._kernels = kernels

    def for_items(self, count: int) -> Kernels | None:
        """The kernels, if they exist and are worth using for ``count`` items."""
        kernels = self._kernels
        if kernels is _PENDING:
            node = self._node
            assert node is not None and self._compiler is not None and self._captured is not None
            if count < KERNEL_MIN_ITEMS and not is_compiled(node):
                return None
            plan = _plan_for(node)
            captured = self._captured[1:] if self._named else self._captured
            kernels = self._kernels = None if plan is None else \
                plan.bind(self._compiler)(*captured)[1]
        return kernels  # type: ignore[return-value]


def compile_source_fn(compiler: Compiler, node: A.Fn) -> Ev | None:
    """The factory of ``node`` as a source fn, or None: when its body cannot be one expression,
    or (``tiered``) when it has not been compiled yet — closures run it until a builtin loops
    over enough items to make compiling worth it (see ``KernelSource``)."""
    if compiler.source_fns == "tiered" and not is_compiled(node):
        return None
    plan = _plan_for(node)
    if plan is None:
        return None
    make = plan.bind(compiler)
    captures = [compiler.compile(c) for c in node.captures]
    name = node.name or "fn"
    if not captures:
        return lambda f: _named(make(), name)
    if len(captures) == 1:
        (c0,) = captures
        return lambda f: _named(make(c0(f)), name)
    return lambda f: _named(make(*[c(f) for c in captures]), name)


def _named(made: tuple[Any, Kernels | None], name: str) -> Any:
    fn, kernels = made
    fn.ptclisp_name = name
    fn.__name__ = fn.__qualname__ = name
    if kernels is not None:
        fn.ptclisp_kernels = KernelSource(kernels=kernels)
    return fn


def kernel_source(compiler: Compiler, node: A.Fn, captured: list[Any]) -> KernelSource | None:
    """What a closure fn made from ``node`` offers the builtins that loop (None: never kernels)."""
    if compiler.source_fns == "never" or len(node.arities) != 1:
        return None
    arity = node.arities[0]
    if arity.variadic or arity.prologue or arity.nparams not in (1, 2):
        return None
    return KernelSource(node, compiler, captured, node.named)


# ---------------------------------------------------------------- plans and their cache


class _Plan:
    """Generated code for one fn node, and what a compile binds into it."""

    __slots__ = ("consts", "factory", "sites")

    def __init__(self, factory: Callable[..., Any], consts: list[Any],
                 sites: list[Callable[[Compiler], Any]]) -> None:
        self.factory, self.consts, self.sites = factory, consts, sites

    def bind(self, compiler: Compiler) -> Callable[..., tuple[Any, Kernels | None]]:
        """``make(*captured) -> (fn, kernels)`` for this compile (made once per compile)."""
        made = compiler.bound_plans.get(self)
        if made is None:
            sites = [site(compiler) for site in self.sites]
            made = compiler.bound_plans[self] = self.factory(
                compiler.ctx, compiler.ns, *self.consts, *sites)
        return made  # type: ignore[no-any-return]


_CACHE: dict[int, tuple[A.Fn, _Plan | None]] = {}
"""id(node) → (node, plan): holding the node keeps its id from being reused while cached."""
_CACHE_SIZE = 4096


def is_compiled(node: A.Fn) -> bool:
    """Whether ``node`` has a compiled plan (no compile is started)."""
    hit = _CACHE.get(id(node))
    return hit is not None and hit[0] is node and hit[1] is not None


def _plan_for(node: A.Fn) -> _Plan | None:
    hit = _CACHE.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    plan = _make_plan(node)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[id(node)] = (node, plan)
    return plan


def _make_plan(node: A.Fn) -> _Plan | None:
    if len(node.arities) != 1:
        return None
    arity = node.arities[0]
    if arity.variadic or arity.prologue:
        return None
    emitter = Emitter(node)
    try:
        body = emitter.expr(arity.body)
        fast = emitter.fast_variant(arity.body) if arity.nparams == 1 else None
    except (NotExpression, RecursionError):
        return None
    if "Reduced" not in _GLOBALS:  # imported late: the core library imports this module
        from ._core._support import Reduced

        _GLOBALS["Reduced"] = Reduced
    source = emitter.module(body, arity.nparams, fast)
    namespace: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            code = compile(source, f"<ptclisp fn {node.name or 'fn'}>", "exec")
        except (SyntaxError, SyntaxWarning, RecursionError, MemoryError):
            return None  # e.g. a body nested too deeply for Python's parser: closures run it
    # Our own generated text: program values enter it only as repr() literals of ints/strings
    # or as factory arguments, names only as v/c/k/s/t + a number.
    exec(code, _GLOBALS, namespace)  # noqa: S102
    return _Plan(namespace["factory"], emitter.consts, emitter.sites)


class _Unset:
    """A value no expression yields: ``(x := e) is not UNSET`` binds a let local in an and-chain;
    ``find`` returns it for "no such item"."""

    __slots__ = ()


NOT_FOUND: Any = _Unset()


_GLOBALS: dict[str, Any] = {
    "Map": Map, "Set": Set, "Vector": Vector, "Kernels": Kernels, "UNSET": NOT_FOUND,
    "SIMPLE": frozenset({int, str, float, Keyword}),  # types whose == is Clojure's =
}


