"""Expression fns compiled to Python source, with loop kernels for the builtins that loop.

Most fns in LLM-written programs are small keys and predicates handed to ``filter``, ``map``,
``sort-by`` or ``group-by``: ``#(= (:status %) "paid")``, ``(fn [o] (* (:qty o) (:price o)))``.
The closure compiler pays a Python call per AST node for them. When a fn has one fixed arity,
no destructuring, and a body made only of the nodes below, its body becomes *one Python
expression* instead, compiled once per loaded program:

    constants, parameters, ``let`` locals, captured values, globals, ``data/...``
    if / and / or / do / let, vector, map and set literals
    calls of builtins, run-level fns, keywords, constants, parameters, captured values, globals

The function made from it charges a step and a level of depth per call exactly as a closure fn
does. A one-parameter fn also gets two *kernels*, the expression inlined into a loop over the
items: ``keep(xs, want)`` (filter/remove) and ``each(xs)`` (map and the keys of sort-by/group-by);
a two-parameter fn gets ``fold(xs, acc)`` (reduce).
``run_kernel`` charges one step per item before each batch and one level of depth around it, so
steps and depth match calling the fn on every item; no Python call is made per item.

Exactness: an operator is inlined only for the types on which Python's operator *is* Clojure's
(``type(x) is int``...); every other case calls the builtin itself, through the same
position-attaching wrapper the closure compiler uses, so values and errors are the same. The
property tests compare both compilers on generated fns.

Generated code is cached per fn node (nodes live as long as their loaded program): a compile
only binds the run context, the namespace and the constants into the cached factory.
"""

from __future__ import annotations

import itertools
import keyword
import math
import operator
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import _ast as A
from ._values import Keyword, Map, Set, Vector

if TYPE_CHECKING:
    from ._compiler import Compiler, Ev

__all__ = ["Kernels", "compile_source_fn", "run_fold", "run_kernel"]

_BATCH = 4096
"""Items per kernel batch: the clock and step budget are checked between batches."""


class Kernels:
    """The loops of a source fn: ``keep``/``each`` for one parameter, ``fold`` for two."""

    __slots__ = ("keep", "each", "fold")

    def __init__(self, keep: Callable[[Any, bool], list[Any]] | None = None,
                 each: Callable[[Any], list[Any]] | None = None,
                 fold: Callable[[Any, Any], Any] | None = None) -> None:
        self.keep, self.each, self.fold = keep, each, fold


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


def compile_source_fn(compiler: Compiler, node: A.Fn) -> Ev | None:
    """The factory of ``node`` as a source fn, or None when its body cannot be one expression."""
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
        fn.ptclisp_kernels = kernels
    return fn


# ---------------------------------------------------------------- plans and their cache


class _Plan:
    """Generated code for one fn node, and what a compile binds into it."""

    __slots__ = ("factory", "consts", "sites", "node")

    def __init__(self, factory: Callable[..., Any], consts: list[Any],
                 sites: list[Callable[[Compiler], Any]], node: A.Fn) -> None:
        self.factory, self.consts, self.sites, self.node = factory, consts, sites, node

    def bind(self, compiler: Compiler) -> Callable[..., tuple[Any, Kernels | None]]:
        sites = [site(compiler) for site in self.sites]
        return self.factory(compiler.ctx, compiler.ns, *self.consts, *sites)  # type: ignore[no-any-return]


_CACHE: dict[int, _Plan | None] = {}
_CACHE_SIZE = 4096


def _plan_for(node: A.Fn) -> _Plan | None:
    key = id(node)
    hit = _CACHE.get(key, _MISSING)
    if hit is not _MISSING and (hit is None or hit.node is node):
        return hit  # type: ignore[return-value]
    plan = _make_plan(node)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[key] = plan  # a None entry may outlive its node: a reused id only loses the fast path
    return plan


_MISSING: Any = object()


def _make_plan(node: A.Fn) -> _Plan | None:
    if len(node.arities) != 1:
        return None
    arity = node.arities[0]
    if arity.variadic or arity.prologue:
        return None
    emitter = _Emitter(node)
    try:
        body = emitter.expr(arity.body)
        fast = emitter.fast_variant(arity.body) if arity.nparams == 1 else None
    except (_NotExpression, RecursionError):
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
    exec(code, _GLOBALS, namespace)
    return _Plan(namespace["factory"], emitter.consts, emitter.sites, node)


# ---------------------------------------------------------------- code generation


class _NotExpression(Exception):
    """The body uses a node that has no expression form here: the closure compiler takes it."""


_SIMPLE_TYPES = frozenset({int, str, float, Keyword})
_NUMERIC_OPS = {"+": "+", "-": "-", "*": "*", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
_INC_DEC = {"inc": "+ 1", "dec": "- 1"}


class _Code:
    """A Python expression and whether it always yields a Python bool."""

    __slots__ = ("text", "boolean")

    def __init__(self, text: str, boolean: bool = False) -> None:
        self.text, self.boolean = text, boolean


class _Emitter:
    """Turns the body of one fn into a Python expression, collecting constants and call sites."""

    def __init__(self, node: A.Fn) -> None:
        self.node = node
        self.consts: list[Any] = []
        self.sites: list[Callable[[Compiler], Any]] = []
        self._temps = itertools.count()
        self.pure = True
        """No effect, no program code: evaluating the body twice is the same as once."""
        self.assume_maps = False
        """Read keywords with ``coll.get(k)`` alone: an AttributeError says coll is no map."""
        self.reads_keys = False

    def fast_variant(self, body: A.Node) -> _Code | None:
        """The body again, reading every keyword as from a map, when that is worth having and
        safe to undo: a pure body whose fast kernel failed is simply run again exactly."""
        if not (self.pure and self.reads_keys):
            return None
        self.assume_maps = True
        try:
            return self.expr(body)
        finally:
            self.assume_maps = False

    # ------------------------------------------------------------ the module text

    def module(self, body: _Code, nparams: int, fast: _Code | None = None) -> str:
        params = ", ".join(f"v{i}" for i in range(1, nparams + 1))
        consts = "".join(f", k{i}" for i in range(len(self.consts)))
        sites = "".join(f", s{i}" for i in range(len(self.sites)))
        first = 1 if self.node.named else 0  # a named fn is its own capture 0
        captured = ", ".join(f"c{i}" for i in range(first, first + len(self.node.captures)))
        lines = [
            f"def factory(ctx, ns{consts}{sites}):",
            f"    def make({captured}):",
            f"        def fn({params}):",
            "            m = ctx.meter",
            "            m.fuel -= 1",
            "            if m.fuel < 0:",
            "                m.refuel()",
            "            d = m.depth = m.depth + 1",
            "            if d > m.limits.max_depth:",
            "                m.depth -= 1",
            "                m.enter()",
            f"            r = {body.text}",
            "            m.depth -= 1",
            "            return r",
        ]
        if self.node.named:
            lines.append("        c0 = fn")
        if nparams == 1:
            lines += self._one_param_kernels(body, fast)
        elif nparams == 2:
            lines += [
                "        def fold(part, xs, v1):",
                "            for v2 in xs:",
                f"                v1 = {body.text}",
                "                if type(v1) is Reduced:",
                "                    break",
                "            return v1",
                "        return fn, Kernels(fold=fold)",
            ]
        else:
            lines.append("        return fn, None")
        lines.append("    return make")
        return "\n".join(lines) + "\n"

    def _one_param_kernels(self, body: _Code, fast: _Code | None) -> list[str]:
        """keep and each, as comprehensions (C-level appends) over the batch iterator ``xs``.
        The analyzer never rebinds a parameter's slot (only recur would), so the loop variable
        v1 is never assigned inside. With a fast variant, it runs first over the batch tuple
        ``part``; any exception sends the batch to the exact loops (the body is pure)."""
        test = self.truthy(body)
        lines = ["        def keep(part, xs, want):"]
        if fast is not None:
            fast_test = self.truthy(fast)
            lines += [
                "            try:",
                "                if want:",
                f"                    return [v1 for v1 in part if {fast_test}]",
                f"                return [v1 for v1 in part if not {fast_test}]",
                "            except Exception:",
                "                pass",
            ]
        lines += [
            "            if want:",
            f"                return [v1 for v1 in xs if {test}]",
            f"            return [v1 for v1 in xs if not {test}]",
            "        def each(part, xs):",
        ]
        if fast is not None:
            lines += [
                "            try:",
                f"                return [{fast.text} for v1 in part]",
                "            except Exception:",
                "                pass",
            ]
        lines += [
            f"            return [{body.text} for v1 in xs]",
            "        return fn, Kernels(keep=keep, each=each)",
        ]
        return lines

    # ------------------------------------------------------------ helpers

    def temp(self) -> str:
        return f"t{next(self._temps)}"

    def const(self, value: Any) -> str:
        if value is None or type(value) in (bool, int, str):
            return repr(value)
        if type(value) is float and math.isfinite(value):
            return repr(value)
        for i, known in enumerate(self.consts):
            if known is value:
                return f"k{i}"
        self.consts.append(value)
        return f"k{len(self.consts) - 1}"

    def site(self, make: Callable[[Compiler], Any], pure: bool = False) -> str:
        """A call site; ``pure``: calling it has no effect and runs no program code."""
        self.pure = self.pure and pure
        self.sites.append(make)
        return f"s{len(self.sites) - 1}"

    def truthy(self, code: _Code) -> str:
        if code.boolean:
            return code.text
        t = self.temp()
        return f"(({t} := {code.text}) is not None and {t} is not False)"

    def bound(self, code: _Code) -> tuple[str, str]:
        """(name, binding) so the value can be used twice: a bare name needs no temp."""
        if code.text.isidentifier() and not keyword.iskeyword(code.text):  # not None/True
            return code.text, code.text
        t = self.temp()
        return t, f"({t} := {code.text})"

    # ------------------------------------------------------------ nodes

    def expr(self, node: A.Node) -> _Code:
        method = _NODES.get(type(node))
        if method is None:
            raise _NotExpression(type(node).__name__)
        return method(self, node)

    def const_node(self, node: A.Const) -> _Code:
        return _Code(self.const(node.value), type(node.value) is bool)

    def local(self, node: A.Local) -> _Code:
        return _Code(f"v{node.slot}")

    def captured(self, node: A.Captured) -> _Code:
        return _Code(f"c{node.index}")

    def reference(self, node: A.Global | A.DataRef) -> _Code:
        return _Code(f"{self.site(_reader(node), pure=True)}(None)")

    def builtin(self, node: A.Builtin | A.RunFn) -> _Code:
        if node.name in ("*1", "*2", "*3"):
            raise _NotExpression(node.name)
        return _Code(self.site(_resolved(node), pure=True))

    def if_(self, node: A.If) -> _Code:
        test = self.truthy(self.expr(node.test))
        then, orelse = self.expr(node.then), self.expr(node.orelse)
        return _Code(f"({then.text} if {test} else {orelse.text})",
                     then.boolean and orelse.boolean)

    def and_(self, node: A.And) -> _Code:
        return self._chain(node.items, falsy_stops=True)

    def or_(self, node: A.Or) -> _Code:
        return self._chain(node.items, falsy_stops=False)

    def _chain(self, items: tuple[A.Node, ...], falsy_stops: bool) -> _Code:
        """and/or: Python's own operator where the tested value is a bool (then Python's and
        Clojure's truthiness agree), an explicit nil/false test elsewhere."""
        codes = [self.expr(i) for i in items]
        text = codes[-1].text
        for code in reversed(codes[:-1]):
            if code.boolean:
                text = f"({code.text} {'and' if falsy_stops else 'or'} {text})"
                continue
            t = self.temp()
            stop = f"({t} := {code.text}) is None or {t} is False"
            if not falsy_stops:
                stop = f"({t} := {code.text}) is not None and {t} is not False"
            text = f"({t} if {stop} else {text})"
        return _Code(text, all(c.boolean for c in codes))

    def do(self, node: A.Do) -> _Code:
        codes = [self.expr(n) for n in node.body]
        if len(codes) == 1:
            return codes[0]
        return _Code("(" + ", ".join(c.text for c in codes) + ")[-1]", codes[-1].boolean)

    def let(self, node: A.Let) -> _Code:
        binds = [f"(v{b.slot} := {self.expr(b.expr).text}) is not UNSET" for b in node.binds]
        body = self.expr(node.body)
        return _Code(f"({body.text} if {' and '.join(binds)} else UNSET)", body.boolean)

    def vector_lit(self, node: A.VectorLit) -> _Code:
        return self._literal("Vector", node.items)

    def set_lit(self, node: A.SetLit) -> _Code:
        return self._literal("Set", node.items)

    def _literal(self, cls: str, items: tuple[A.Node, ...]) -> _Code:
        self.pure = False  # charges memory
        parts = "".join(self.expr(i).text + ", " for i in items)
        return _Code(f"(ctx.meter.alloc_items({len(items)}) or {cls}(({parts})))")

    def map_lit(self, node: A.MapLit) -> _Code:
        self.pure = False  # charges memory
        parts = "".join(f"({self.expr(k).text}, {self.expr(v).text}), " for k, v in node.pairs)
        return _Code(f"(ctx.meter.alloc_items({2 * len(node.pairs)}) or Map(({parts})))")

    def tool_call(self, node: A.ToolCall) -> _Code:
        arg = self.expr(node.arg).text if node.arg is not None else "None"
        return _Code(f"{self.site(_tool_caller(node))}({arg})")

    # ------------------------------------------------------------ calls

    def call(self, node: A.Call) -> _Code:
        fn = node.fn
        if isinstance(fn, A.Const) and type(fn.value) is Keyword and 1 <= len(node.args) <= 2:
            return self._keyword_call(fn.value, node.args)
        if isinstance(fn, A.Builtin) and fn.name not in ("*1", "*2", "*3"):
            inlined = self._inline_builtin(fn.name, node)
            if inlined is not None:
                return inlined
        if isinstance(fn, (A.Builtin, A.RunFn)):
            if fn.name in ("*1", "*2", "*3"):
                raise _NotExpression(fn.name)
            site = self.site(_known_call(_resolved(fn), fn.name, node))
            return _Code(f"{site}({self._args(node.args)})")
        if isinstance(fn, A.Const):
            value = fn.value
            site = self.site(_known_call(lambda compiler: value, _name_of(value), node))
            return _Code(f"{site}({self._args(node.args)})")
        callee = self.expr(fn).text
        name = fn.name if isinstance(fn, (A.Global, A.Local, A.Captured)) else "fn"
        site = self.site(_dynamic_call(name, node))
        args = self._args(node.args)
        return _Code(f"{site}({callee}{', ' if args else ''}{args})")

    def _args(self, args: tuple[A.Node, ...]) -> str:
        return ", ".join(self.expr(a).text for a in args)

    def _keyword_call(self, key: Keyword, args: tuple[A.Node, ...]) -> _Code:
        self.reads_keys = True
        k = self.const(key)
        if self.assume_maps:
            default = f", {self.expr(args[1]).text}" if len(args) == 2 else ""
            return _Code(f"{self.expr(args[0]).text}.get({k}{default})")
        coll, bind = self.bound(self.expr(args[0]))
        if len(args) == 1:
            return _Code(f"({coll}.get({k}) if type({bind}) is Map else {k}({coll}))")
        default, dbind = self.bound(self.expr(args[1]))
        # & (not and): the default is evaluated whatever the collection is, after it
        return _Code(f"({coll}.get({k}, {default}) if (type({bind}) is Map) & "
                     f"({dbind} is not UNSET) else {k}({coll}, {default}))")

    def _inline_builtin(self, name: str, node: A.Call) -> _Code | None:
        args = node.args
        if name == "=" and len(args) == 2:
            return self._equals(args, node)
        if name in _NUMERIC_OPS and len(args) == 2:
            return self._numeric(name, args, node)
        if name in _INC_DEC and len(args) == 1:
            x, bind = self.bound(self.expr(args[0]))
            tt, slow = self.temp(), self._slow(name, node)
            return _Code(f"({x} {_INC_DEC[name]} if ({tt} := type({bind})) is int or {tt} is float "
                         f"else {slow}({x}))")
        if name == "not" and len(args) == 1:
            code = self.expr(args[0])
            if code.boolean:
                return _Code(f"(not {code.text})", True)
            t = self.temp()
            return _Code(f"(({t} := {code.text}) is None or {t} is False)", True)
        if name in ("nil?", "some?") and len(args) == 1:
            op = "is" if name == "nil?" else "is not"
            return _Code(f"({self.bound(self.expr(args[0]))[1]} {op} None)", True)
        return None

    def _slow(self, name: str, node: A.Call) -> str:
        """The builtin for the types an inlined operator leaves to it. Numeric builtins only
        check types and compute; ``=`` may realize a lazy seq (running program code)."""
        return self.site(_known_call(_resolved(A.Builtin(name)), name, node), pure=name != "=")

    def _equals(self, args: tuple[A.Node, ...], node: A.Call) -> _Code:
        left, right = args
        if isinstance(left, A.Const) and not isinstance(right, A.Const):
            left, right = right, left  # = is symmetric, and reading a constant has no effect
        if isinstance(right, A.Const):
            value = right.value
            if type(value) is str:  # only an equal str is == to a str among ptclisp values
                return _Code(f"({self.expr(left).text} == {self.const(value)})", True)
            x = self.bound(self.expr(left))[1]  # never a literal left of "is"
            if value is None or type(value) in (bool, Keyword):  # interned: identity
                return _Code(f"({x} is {self.const(value)})", True)
            if type(value) in (int, float):
                t, slow = self.temp(), self._slow("=", node)
                k = self.const(value)
                return _Code(f"({t} == {k} if type({t} := {x}) is {type(value).__name__} "
                             f"else {slow}({t}, {k}))")
        (a, x), (b, y) = self.bound(self.expr(left)), self.bound(self.expr(right))
        ta, slow = self.temp(), self._slow("=", node)
        # "or a is b": an identical NaN is = to itself, as in the closure compiler and Clojure
        return _Code(f"({a} == {b} or {a} is {b} if ({ta} := type({x})) is type({y}) "
                     f"and {ta} in SIMPLE else {slow}({a}, {b}))")

    def _numeric(self, name: str, args: tuple[A.Node, ...], node: A.Call) -> _Code:
        op, slow = _NUMERIC_OPS[name], self._slow(name, node)
        left, right = args
        boolean = op in ("<", ">", "<=", ">=")
        if isinstance(right, A.Const) and type(right.value) in (int, float):
            (a, x), k = self.bound(self.expr(left)), self.const(right.value)
            return _Code(f"({a} {op} {k} if type({x}) is {type(right.value).__name__} "
                         f"else {slow}({a}, {k}))", boolean)
        (a, x), (b, y) = self.bound(self.expr(left)), self.bound(self.expr(right))
        ta = self.temp()
        return _Code(f"({a} {op} {b} if ({ta} := type({x})) is type({y}) "
                     f"and ({ta} is int or {ta} is float) else {slow}({a}, {b}))", boolean)


_NODES: dict[type[Any], Callable[[_Emitter, Any], _Code]] = {
    A.Const: _Emitter.const_node,
    A.Local: _Emitter.local,
    A.Captured: _Emitter.captured,
    A.Global: _Emitter.reference,
    A.DataRef: _Emitter.reference,
    A.Builtin: _Emitter.builtin,
    A.RunFn: _Emitter.builtin,
    A.If: _Emitter.if_,
    A.And: _Emitter.and_,
    A.Or: _Emitter.or_,
    A.Do: _Emitter.do,
    A.Let: _Emitter.let,
    A.VectorLit: _Emitter.vector_lit,
    A.SetLit: _Emitter.set_lit,
    A.MapLit: _Emitter.map_lit,
    A.ToolCall: _Emitter.tool_call,
    A.Call: _Emitter.call,
}


class _Unset:
    __slots__ = ()


_GLOBALS: dict[str, Any] = {
    "Map": Map, "Set": Set, "Vector": Vector, "Kernels": Kernels, "SIMPLE": _SIMPLE_TYPES,
    "UNSET": _Unset(),
}


# ---------------------------------------------------------------- call sites
#
# A site is made per compile (it may need the namespace or the run context) and is what the
# generated code calls where the closure compiler would have a closure: same errors, same
# positions.


def _resolved(node: A.Builtin | A.RunFn) -> Callable[[Compiler], Any]:
    return lambda compiler: compiler.compile(node)([])


def _reader(node: A.Global | A.DataRef) -> Callable[[Compiler], Any]:
    return lambda compiler: compiler.compile(node)  # their closures ignore the frame


def _known_call(resolve: Callable[[Compiler], Any], name: str,
                node: A.Node) -> Callable[[Compiler], Any]:
    from ._compile_call import positioned

    return lambda compiler: positioned(resolve(compiler), name, node)


def _dynamic_call(name: str, node: A.Node) -> Callable[[Compiler], Any]:
    from ._compile_call import positioned_dynamic

    return lambda compiler: positioned_dynamic(name, node)


def _tool_caller(node: A.ToolCall) -> Callable[[Compiler], Any]:
    from ._compiler import tool_caller

    return lambda compiler: tool_caller(compiler.ctx, node.name, node.line, node.column)


def _name_of(value: Any) -> str:
    return getattr(value, "ptclisp_name", None) or repr(value)
