"""Expression fns compiled to Python source, with loop kernels for the builtins that loop.

Most fns in LLM-written programs are small keys and predicates handed to ``filter``, ``map``,
``sort-by`` or ``group-by``: ``#(= (:status %) "paid")``, ``(fn [o] (* (:qty o) (:price o)))``.
The closure compiler pays a Python call per AST node for them. When a fn has one fixed arity
(its parameters' destructuring read as a ``let``) and a body made only of the nodes below,
its body becomes *one Python expression* instead, and the builtins that loop run it inlined
in a loop (a *kernel*, compiled when a builtin first loops over ``KERNEL_MIN_ITEMS`` items
with the fn — see ``KernelSource``):

    constants, parameters, ``let`` locals, captured values, globals, ``data/...``
    if / and / or / do / let, vector, map and set literals
    calls of builtins, run-level fns, keywords, constants, parameters, captured values, globals

The fn itself stays closures (``eager`` compiles also make it a source fn, charging a step and
a level of depth per call as a closure does; the property tests use that to check every
translated call). A one-parameter fn has the kernels ``keep`` (filter, remove), ``each`` (map,
mapv, the keys of sort-by and group-by) and ``find`` (some, every?); a two-parameter fn has
``fold`` (reduce). ``run_kernel``/``run_find``/``run_fold`` charge one step per item before each
batch, refund the items a batch never started, and enter one level of depth around the loop,
so steps and depth match calling the fn on every item; no Python call is made per item.

Exactness: an operator is inlined only for the types on which Python's operator *is* Clojure's
(``type(x) is int``...); every other case calls the builtin itself, through the same
position-attaching wrapper the closure compiler uses, so values and errors are the same. A
*pure* body (no effect, no program code: keyword lookups, inlined operators, constants) also gets
a fast variant that reads every keyword with ``coll.get(k)`` alone — tables are vectors of maps
— and falls back to the exact loop for the whole batch on any exception (an AttributeError: an
item was no map); running a pure body twice is the same as once. The property tests compare both
compilers on generated fns, over tables and mixed items.

Every fn module's fn enters an *entry* ``rec(args, m, d, at_)`` (``Emitter._rec_lines``),
metered as a closure call. A named fn calling itself by name (fib) calls its own ``rec``
directly (``Emitter.direct_variant``), and compiled calls of fns held by names enter the
callee's entry through a per-site cache (``Emitter.entry_call``): one frame per call. A
``loop`` of expression nodes becomes a Python ``while`` once it has run ``HOT_LOOPS``
iterations (``loop_source``), continuing from the values its slots hold.

Generated code is cached per fn node and kind (nodes live as long as their loaded program): a
compile only binds the run context, the namespace and the constants into the cached factory.
The compiled factories are also cached by their module text (``_compiled``): the same fn in a
new program text (an agent's next turn) emits the same text and skips Python's ``compile``.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._analyzer import ast as A
from .._core._kernels import NOT_FOUND
from .._errors import PtclispError
from .._identity import by_identity
from .._values.types import KEYWORD_CACHE, Keyword, List, Map, Set, Vector
from .emitter import Emitter, NotExpression
from .exceptions import convert_exception
from .rt import MISSING, RECUR

if TYPE_CHECKING:
    from .compiler import Compiler, Ev

__all__ = ["HOT_CALLS", "HOT_LOOPS", "KERNEL_MIN_ITEMS", "KernelSource", "compile_source_fn",
           "for_kernel_source", "hot_source", "is_compiled", "kernel_source", "loop_source"]

KERNEL_MIN_ITEMS = 1_000
"""A builtin compiles a fn's kernel for a collection at least this long. Compiling costs
0.2-0.5 ms (Python's ``compile``); a per-item call of the closure costs ~0.4 us more than the
kernel, so a one-off loop over fewer items is cheaper without. Once compiled (cached per fn
node and kind, so for every later run of the same program), a kernel serves any size."""


class KernelSource:
    """A fn's offer to the builtins that loop: its kernels, each compiled on first demand.

    ``captured`` is what the kernels' ``make`` takes: the fn's captured values, after the fn
    itself for a named fn (the list is the fn's own; its slot 0 is filled once the fn exists).
    """

    __slots__ = ("_captured", "_compiler", "_made", "_node")

    def __init__(self, node: A.Fn, compiler: Compiler, captured: list[Any]) -> None:
        self._node, self._compiler, self._captured = node, compiler, captured
        self._made: dict[str, Callable[..., Any] | None] = {}

    def kernel(self, kind: str, count: int) -> Callable[..., Any] | None:
        """The ``kind`` kernel (keep, each, find, fold), if the fn has it and it is worth using
        for ``count`` items: compiled already, or ``count`` large enough to pay for compiling."""
        made = self._made
        if kind in made:
            return made[kind]
        node = self._node
        if not (count >= KERNEL_MIN_ITEMS or is_compiled(node, kind)
                or self._compiler.source_fns == "eager"):
            return None
        plan = _plan_for(node)
        make = None if plan is None else plan.bind(kind, self._compiler)
        made[kind] = kernel = None if make is None else make(*self._captured)
        return kernel


def compile_source_fn(compiler: Compiler, node: A.Fn) -> Ev | None:
    """The factory of ``node`` as a source fn (``eager`` compiles only), or None when its body
    cannot be one expression. Tiered compiles keep closures for fns: a call costs ~0.5 us
    more than a source fn's, compiling one ~0.2 ms; kernels are where compiling pays."""
    plan = _plan_for(node) if compiler.source_fns == "eager" else None
    make = None if plan is None else plan.bind("fn", compiler)
    if make is None:
        return None
    captures = [compiler.compile(c) for c in node.captures]
    name, named = node.name or "fn", node.named

    def factory(f: list[Any]) -> Any:
        values = [c(f) for c in captures]
        fn = make(*values)
        fn.ptclisp_name = name
        fn.__name__ = fn.__qualname__ = name
        fn.ptclisp_kernels = KernelSource(node, compiler, [fn, *values] if named else values)
        return fn

    return factory


HOT_LOOPS = 200
"""A ``loop`` without destructuring whose body can be one expression runs as Python source
(``loop_source``) from its ``HOT_LOOPS``-th iteration on (counted over every run of the same
compiled loop): compiling costs ~0.2-0.5 ms once, an iteration then costs a Python ``while``
step instead of a closure call per node."""


def loop_source(compiler: Compiler, node: A.Loop) -> Callable[[], Any] | None:
    """``make()`` → the loop as Python source, ``loop_(f)`` continuing from the values of its
    slots in the frame ``f`` (None when it has no such form); None for loops that never have
    one (``never`` compiles, destructuring loops)."""
    if compiler.source_fns == "never" or node.prologue:
        return None

    def make() -> Any:
        plan = _plan_for(node)  # type: ignore[arg-type]
        made = None if plan is None else plan.bind("loop", compiler)
        return None if made is None else made()

    return make


HOT_CALLS = 1_000
"""A closure fn whose body can be one expression is replaced, from its ``HOT_CALLS``-th call
on, by a source fn (``hot_source``): compiling costs ~0.2-0.5 ms once, a source fn call saves
~0.5 us and most of the Python frames of a closure call (fib(25) makes 240,000 calls)."""


HOT_SELF_CALLS = 100
"""The same for a named fn that calls itself by name (``calls_itself``): its source fn calls
itself directly (one Python frame per call), and a recursion makes its calls in a burst — fib(25)
spent ~3 ms in its first 1,000 closure calls."""


def hot_calls(self_calls: bool) -> int:
    """The call at which a closure fn hands over to its source fn (see ``HOT_SELF_CALLS``)."""
    return min(HOT_CALLS, HOT_SELF_CALLS) if self_calls else HOT_CALLS


def calls_itself(node: A.Fn) -> bool:
    """Whether a named single-arity fn's body calls the fn by name with its arity (outside
    nested fns, whose capture 0 is their own) — the calls ``Emitter.direct_variant`` makes
    direct. A guess for when to compile, never a change of behaviour."""
    if not node.named or len(node.arities) != 1:
        return False
    nparams = node.arities[0].nparams
    stack: list[Any] = [node.arities[0].body, *(b.expr for b in node.arities[0].prologue)]
    fields = _CHILD_FIELDS
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is tuple or kind is list:
            stack.extend(item)
            continue
        names = fields.get(kind)
        if names is None:
            if not isinstance(item, A.Node):
                continue
            names = fields[kind] = _child_fields(kind)
        if kind is A.Call and type(item.fn) is A.Captured and item.fn.index == 0 and \
                len(item.args) == nparams:
            return True
        if kind is not A.Fn:
            stack.extend(getattr(item, name) for name in names)
    return False


_CHILD_FIELDS: dict[type[Any], tuple[str, ...]] = {}
"""Node type → the fields ``calls_itself`` walks: every field but the position (a node's
``dataclasses.fields`` cost more than the walk itself; a new text walks each named fn)."""


def _child_fields(kind: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind) if f.name not in ("line", "column"))


def hot_source(compiler: Compiler, node: A.Fn) -> Callable[[list[Any]], Any] | None:
    """``make(captured)`` → the source fn standing in for a hot closure fn made from ``node``
    (or None when its body is not one expression); None for fns that never have one.

    The stand-in charges a step and a level of depth per call and raises the same errors, as
    the eager source fns the property tests check; a named fn's own value (capture 0) stays
    the closure, so the program never sees the stand-in."""
    if compiler.source_fns == "never" or len(node.arities) != 1 or node.arities[0].variadic:
        return None

    def make(captured: list[Any]) -> Any:
        plan = _plan_for(node)
        made = None if plan is None else plan.bind("hot", compiler)
        return None if made is None else made(*captured)

    return make


def for_kernel_source(compiler: Compiler, node: A.For) -> KernelSource | None:
    """What a ``for`` offers: its ``for`` kernel, when its shape allows one (see
    ``Emitter.for_clause``); the kernel reads the enclosing frame, so nothing is captured."""
    binding, *modifiers = node.clauses
    if compiler.source_fns == "never" or not node.collect or \
            not isinstance(binding, A.ForBinding) or \
            not all(isinstance(m, (A.ForLet, A.ForWhen)) for m in modifiers):
        return None
    return KernelSource(node, compiler, [])  # type: ignore[arg-type]


def kernel_source(compiler: Compiler, node: A.Fn, captured: list[Any]) -> KernelSource | None:
    """What a closure fn made from ``node`` offers the builtins that loop (None: never kernels)."""
    if compiler.source_fns == "never" or len(node.arities) != 1:
        return None
    arity = node.arities[0]
    if arity.variadic or arity.nparams not in (1, 2):
        return None
    return KernelSource(node, compiler, captured)


# ---------------------------------------------------------------- plans and their cache


class _Plan:
    """One fn node's body as Python expressions; each kind of module (the fn, a kernel) is
    compiled from it when first asked for, then kept (for every compile of the node)."""

    __slots__ = ("_factories", "body", "direct", "emitter", "fast")

    def __init__(self, emitter: Emitter, body: Any, fast: Any, direct: Any = None) -> None:
        """``body``/``fast``: a fn's ``Code``s, or a ``for``'s ``Emitter.for_clause`` parts;
        ``direct``: a self-recursive fn's body with direct self-calls (``direct_variant``)."""
        self.emitter, self.body, self.fast, self.direct = emitter, body, fast, direct
        self._factories: dict[str, Callable[..., Any] | None] = {}

    def compiled(self, kind: str) -> bool:
        return self._factories.get(kind) is not None

    def bind(self, kind: str, compiler: Compiler) -> Callable[..., Any] | None:
        """``make(*captured)`` of ``kind`` for this compile (bound once per compile), or None."""
        made = compiler.bound_plans.get((self, kind))
        if made is None:
            factory = self._factory(kind)
            if factory is None:
                return None
            sites = [site(compiler) for site in self.emitter.sites]
            made = compiler.bound_plans[(self, kind)] = factory(
                compiler.ctx, compiler.ns, *self.emitter.consts, *sites)
        return made

    def _factory(self, kind: str) -> Callable[..., Any] | None:
        if kind not in self._factories:
            if kind == "for":
                source: str | None = self.emitter.for_module(self.body, self.fast)
            elif kind == "loop":
                source = self.emitter.loop_module(self.body)
            else:
                source = self.emitter.module(kind, self.body, self.fast, self.direct)
            self._factories[kind] = None if source is None else \
                _compiled(source, getattr(self.emitter.node, "name", None) or kind)
        return self._factories[kind]


_CACHE: dict[int, tuple[A.Fn, _Plan | None]] = {}
"""id(node) → (node, plan): holding the node keeps its id from being reused while cached."""
_CACHE_SIZE = 4096


def is_compiled(node: A.Fn, kind: str) -> bool:
    """Whether ``node``'s ``kind`` module is compiled (no compile is started)."""
    hit = _CACHE.get(id(node))
    return hit is not None and hit[0] is node and hit[1] is not None and hit[1].compiled(kind)


def _plan_for(node: A.Fn) -> _Plan | None:
    return by_identity(_CACHE, node, _make_plan, _CACHE_SIZE)


def _make_plan(node: A.Fn | A.For | A.Loop) -> _Plan | None:
    if isinstance(node, A.For):
        return _make_for_plan(node)
    if isinstance(node, A.Loop):
        return _make_loop_plan(node)
    if len(node.arities) != 1:
        return None
    arity = node.arities[0]
    if arity.variadic:
        return None
    emitter = Emitter(node)
    whole = _with_prologue(arity)
    try:
        body = emitter.expr(whole)
        emitter.body_calls_out = emitter.calls_out
        fast = emitter.fast_variant(whole) if arity.nparams == 1 else None
        direct = emitter.direct_variant(whole)
    except (NotExpression, RecursionError):
        return None
    return _Plan(emitter, body, fast, direct)


def _with_prologue(arity: A.Arity) -> A.Node:
    """The body, preceded by the parameters' destructuring as a ``let``: the closure runs the
    prologue's binds into their slots before the body, charging nothing, exactly as a ``let``
    does, so ``(fn [{:keys [a b] :as o}] ...)`` compiles like ``(fn [p] (let [...] ...))``."""
    if not arity.prologue:
        return arity.body
    return A.Let(arity.prologue, arity.body, line=arity.line, column=arity.column)


def _make_for_plan(node: A.For) -> _Plan | None:
    emitter = Emitter(node)
    emitter.for_slots = set()
    try:
        clause = emitter.for_clause(node)
        fast = emitter.fast_for(node)
    except (NotExpression, RecursionError):
        return None
    return _Plan(emitter, clause, fast)


def _make_loop_plan(node: A.Loop) -> _Plan | None:
    emitter = Emitter(node)  # type: ignore[arg-type]
    try:
        body = emitter.loop_body(node)
    except (NotExpression, RecursionError):
        return None
    return _Plan(emitter, body, None)


_BY_TEXT: dict[tuple[str, str], Callable[..., Any] | None] = {}
"""(module text, name) → its factory, for every fn node that emits the same text: a new program
text (each turn of an agent) with the same fns reuses their compiled modules. The text is the
whole behaviour: constants enter it as literals or factory arguments, call sites, positions and
captured values as factory arguments, so equal texts are interchangeable."""
_BY_TEXT_SIZE = 1024


def _compiled(source: str, name: str) -> Callable[..., Any] | None:
    """The ``factory`` of a generated module (cached by its text), or None when Python will
    not compile it."""
    key = (source, name)
    if key in _BY_TEXT:
        return _BY_TEXT[key]
    factory = _compile_module(source, name)
    if len(_BY_TEXT) >= _BY_TEXT_SIZE:
        _BY_TEXT.clear()
    _BY_TEXT[key] = factory
    return factory


def _compile_module(source: str, name: str) -> Callable[..., Any] | None:
    if "Reduced" not in _GLOBALS:  # imported late: the core library imports this module
        from .._core._support import Reduced

        _GLOBALS["Reduced"] = Reduced
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            code = compile(source, f"<ptclisp fn {name}>", "exec")
        except (SyntaxError, SyntaxWarning, RecursionError, MemoryError):
            return None  # e.g. a body nested too deeply for Python's parser: closures run it
    namespace: dict[str, Any] = {}
    # Our own generated text: program values enter it only as repr() literals of ints/strings
    # or as factory arguments, names only as v/c/k/s/t + a number.
    exec(code, _GLOBALS, namespace)
    return namespace["factory"]




def _deeper(rec: Callable[..., Any], args: tuple[Any, ...], meter: Any, depth: int,
            at: tuple[int, int, str] | None) -> Any:
    """An entry's ``meter.levels[depth]`` (its first line) was past the table's end: at the
    depth limit, the call's step is charged (a call charges it before its depth check) and
    ``depth_limit`` raised, positioned as the entry positions its errors (``at``: the call's
    line, column and name, None when the caller's site positions them); below it, the table
    grows and the call is made again (nothing of it has run)."""
    if depth < meter.max_depth:
        meter.grow_levels(depth)
        return rec(*args, meter, depth, at)
    try:
        meter.fuel -= 1
        if meter.fuel < 0:
            meter.refuel()
        meter.depth = depth
        meter.enter()  # raises depth_limit
    except PtclispError as exc:
        if at is None:
            raise
        raise exc.at(at[0], at[1]) from None
    raise AssertionError("unreachable: enter() raised")  # pragma: no cover


def _refuel_at(meter: Any, line: int, column: int) -> None:
    try:
        meter.refuel()
    except PtclispError as exc:
        raise exc.at(line, column) from None


_GLOBALS: dict[str, Any] = {
    "PtclispError": PtclispError, "convert_exception": convert_exception,
    "RECUR": RECUR, "refuel_at": _refuel_at, "deeper": _deeper,
    "Map": Map, "Set": Set, "Vector": Vector, "List": List, "UNSET": NOT_FOUND,
    "MISSING": MISSING,
    "NOHIT": (object(), None),  # an entry_call cache holding no callee: no value is its key
    "KEYWORDS": KEYWORD_CACHE,
    "SIMPLE": frozenset({int, str, float, Keyword}),  # types whose == is Clojure's =
}


