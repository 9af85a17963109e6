"""AST → Python closures.

Each node becomes a closure ``ev(frame) -> value``; evaluating a program is calling closures,
never walking the tree or looking a name up in a dict. ``frame`` is the current function's list
of slots (slot 0 holds the captured values). The analyzer decided every slot.

- Function calls charge one step and one level of depth (``meter.enter``/``leave``); loop
  iterations charge one step. The meter is read from the run context at call time, so functions
  ``def``'d in one run and called in a later one meter against the later run.
- ``recur`` stores the new values into the loop's slots and returns the ``RECUR`` sentinel; the
  enclosing ``loop``/``fn`` sees it and runs its body again. Nothing grows the Python stack.
- A Python exception escaping a call is turned into a ``PtclispError`` with the call's position
  (``convert_exception``); ``ReturnSignal``/``FailSignal``/``Suspend`` are ``BaseException``s and
  pass through untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any, Literal

from .._analyzer import ast as A
from .._core import BUILTINS
from .._errors import EvalError, PtclispError
from .._values.types import Map, Set, Vector
from . import source as _source
from .calls import compile_call, host_keys, keyword_keys, tool_caller, tool_keys_caller
from .context import Namespace, RunContext, run_functions
from .exceptions import convert_exception
from .fns import make_fn_factory
from .fors import compile_for
from .rt import RECUR

__all__ = ["RECUR", "compile_program", "convert_exception"]

Ev = Callable[[list[Any]], Any]


SourceFns = Literal["tiered", "eager", "never"]


def compile_program(program: A.Program, ns: Namespace, *,
                    source_fns: SourceFns = "tiered") -> Callable[[], Any]:
    """Compile ``program`` against ``ns``; the result evaluates the forms and returns the last.

    ``source_fns``: when fns that allow it become Python source (``_compile_source``):
    ``tiered`` (the default) compiles a fn's kernel once a builtin loops over enough items with
    it; ``eager`` also makes every such fn a source fn at once (the property tests check the
    translation that way); ``never`` keeps every fn closures (the reference they compare with).
    """
    compiler = Compiler(ns, source_fns=source_fns)
    forms = [compiler.compile(f) for f in program.forms]
    pad = [None] * max(program.nslots - 1, 0)
    ctx = compiler.ctx

    def run() -> Any:
        frame: list[Any] = [(), *pad]
        value = None
        hook, first = ctx.form_hook, ctx.first_form
        if hook is None and not first:
            for form in forms:
                value = form(frame)
            return value
        for index in range(first, len(forms)):
            if hook is not None:
                hook(index, ns, ctx)
            value = forms[index](frame)
        return value

    return run


class Compiler:
    """Compiles nodes for one namespace (its globals and its run context)."""

    def __init__(self, ns: Namespace, *, source_fns: SourceFns = "tiered") -> None:
        self.ns = ns
        self.source_fns = source_fns
        self.bound_plans: dict[Any, Any] = {}  # source fn plans bound to this compile
        self.ctx: RunContext = ns.context
        self._run_fns: dict[str, Any] | None = None  # made for the first run-level fn

    @property
    def run_fns(self) -> dict[str, Any]:
        """The run-level functions of this namespace's context (``run_functions``)."""
        if self._run_fns is None:
            self._run_fns = run_functions(self.ctx)
        return self._run_fns

    def compile(self, node: A.Node) -> Ev:
        method: Callable[[Compiler, Any], Ev] = _METHODS[type(node)]
        return method(self, node)

    # ------------------------------------------------------------ places

    def const(self, node: A.Const) -> Ev:
        value = node.value
        return lambda f: value

    def local(self, node: A.Local) -> Ev:
        return itemgetter(node.slot)  # C-level f[slot]

    def captured(self, node: A.Captured) -> Ev:
        index = node.index
        return lambda f: f[0][index]

    def global_(self, node: A.Global) -> Ev:
        g, name, line, column = self.ns, node.name, node.line, node.column

        def ev(f: list[Any]) -> Any:
            try:
                return g[name]
            except KeyError:
                raise EvalError(f"{name} is used before its def has run", code="unbound_symbol",
                                hint=f"evaluate (def {name} ...) before using it",
                                line=line, column=column) from None

        return ev

    def builtin(self, node: A.Builtin) -> Ev:
        value = BUILTINS[node.name]
        return lambda f: value

    def run_fn(self, node: A.RunFn) -> Ev:
        if node.name in ("*1", "*2", "*3"):
            history, index = self.ns.history, int(node.name[1]) - 1
            return lambda f: history[-1 - index] if index < len(history) else None
        value = self.run_fns[node.name]
        return lambda f: value

    def data_ref(self, node: A.DataRef) -> Ev:
        ctx, name, line, column = self.ctx, node.name, node.line, node.column

        def ev(f: list[Any]) -> Any:
            data = ctx.data
            if name in data:
                return data[name]
            shown = ", ".join(f"data/{n}" for n in sorted(data)) or "none"
            raise EvalError(f"data/{name} is not provided", code="unbound_symbol",
                            hint=f"available inputs: {shown}", line=line, column=column)

        return ev

    def tool_ref(self, node: A.ToolRef) -> Ev:
        ctx, name = self.ctx, node.name

        def tool(args: Any = None) -> Any:
            return ctx.host.call(name, args)

        tool.ptclisp_name = f"tool/{name}"  # type: ignore[attr-defined]
        return lambda f: tool

    # ------------------------------------------------------------ literals

    def vector_lit(self, node: A.VectorLit) -> Ev:
        return self._collection(node.items, Vector)

    def set_lit(self, node: A.SetLit) -> Ev:
        return self._collection(node.items, Set)

    def _collection(self, items: tuple[A.Node, ...], cls: type[Any]) -> Ev:
        evs = [self.compile(i) for i in items]
        ctx, n = self.ctx, len(evs)

        def ev(f: list[Any]) -> Any:
            ctx.meter.alloc_items(n)  # type: ignore[union-attr]
            return cls([e(f) for e in evs])

        return ev

    def map_lit(self, node: A.MapLit) -> Ev:
        pairs = [(self.compile(k), self.compile(v)) for k, v in node.pairs]
        ctx, n = self.ctx, 2 * len(pairs)

        def ev(f: list[Any]) -> Any:
            ctx.meter.alloc_items(n)  # type: ignore[union-attr]
            return Map([(k(f), v(f)) for k, v in pairs])

        return ev

    # ------------------------------------------------------------ control

    def if_(self, node: A.If) -> Ev:
        test = self.compile(node.test)
        then, orelse = self.compile(node.then), self.compile(node.orelse)

        def ev(f: list[Any]) -> Any:
            t = test(f)
            if t is None or t is False:
                return orelse(f)
            return then(f)

        return ev

    def do(self, node: A.Do) -> Ev:
        *init, last = [self.compile(n) for n in node.body]

        def ev(f: list[Any]) -> Any:
            for e in init:
                e(f)
            return last(f)

        return ev

    def and_(self, node: A.And) -> Ev:
        *init, last = [self.compile(n) for n in node.items]

        def ev(f: list[Any]) -> Any:
            for e in init:
                v = e(f)
                if v is None or v is False:
                    return v
            return last(f)

        return ev

    def or_(self, node: A.Or) -> Ev:
        *init, last = [self.compile(n) for n in node.items]

        def ev(f: list[Any]) -> Any:
            for e in init:
                v = e(f)
                if v is not None and v is not False:
                    return v
            return last(f)

        return ev

    def case(self, node: A.Case) -> Ev:
        expr = self.compile(node.expr)
        table = dict(node.table)
        branches = [self.compile(b) for b in node.branches]
        default = self.compile(node.default) if node.default is not None else None
        line, column = node.line, node.column

        def ev(f: list[Any]) -> Any:
            value = expr(f)
            try:
                index = table.get(value)
            except TypeError:
                index = None
            if index is not None:
                return branches[index](f)
            if default is not None:
                return default(f)
            raise EvalError(f"no case clause matches {_show(value)}", code="invalid_args",
                            hint="add a default expression as the last argument of case",
                            line=line, column=column)

        return ev

    def condp(self, node: A.Condp) -> Ev:
        pred, expr = self.compile(node.pred), self.compile(node.expr)
        clauses = [(self.compile(t), self.compile(r), arrow) for t, r, arrow in node.clauses]
        default = self.compile(node.default) if node.default is not None else None
        line, column = node.line, node.column

        def ev(f: list[Any]) -> Any:
            p, value = pred(f), expr(f)
            for test, result, arrow in clauses:
                hit = _call(p, (test(f), value), "condp predicate", line, column)
                if hit is not None and hit is not False:
                    return _call(result(f), (hit,), "condp :>> fn", line, column) if arrow \
                        else result(f)
            if default is not None:
                return default(f)
            raise EvalError(f"no condp clause matches {_show(value)}", code="invalid_args",
                            hint="add a default expression as the last argument of condp",
                            line=line, column=column)

        return ev

    # ------------------------------------------------------------ bindings

    def _binds(self, binds: tuple[A.Bind, ...]) -> list[tuple[int, Ev]]:
        return [(b.slot, self.compile(b.expr)) for b in binds]

    def let(self, node: A.Let) -> Ev:
        binds, body = self._binds(node.binds), self.compile(node.body)
        if len(binds) == 1:
            ((slot, value),) = binds

            def ev1(f: list[Any]) -> Any:
                f[slot] = value(f)
                return body(f)

            return ev1

        def ev(f: list[Any]) -> Any:
            for slot, value in binds:
                f[slot] = value(f)
            return body(f)

        return ev

    def loop(self, node: A.Loop) -> Ev:
        entry, prologue = self._binds(node.entry), self._binds(node.prologue)
        body, ctx = self.compile(node.body), self.ctx
        hot = _source.loop_source(self, node)
        # [the loop as Python source once made, iterations left before making it]
        state: list[Any] = [None, _source.HOT_LOOPS if hot is not None else -1]

        line, column = node.line, node.column

        def ev(f: list[Any]) -> Any:
            for slot, value in entry:
                f[slot] = value(f)
            if state[0] is not None:
                return state[0](f)
            meter = ctx.meter
            while True:
                result = body(f)
                if result is not RECUR:
                    return result
                meter.fuel -= 1  # type: ignore[union-attr]
                if meter.fuel < 0:  # type: ignore[union-attr]
                    _refuel_at(meter, line, column)
                for slot, value in prologue:
                    f[slot] = value(f)
                left = state[1] = state[1] - 1
                if left == 0 and hot is not None:
                    state[0] = hot()
                    if state[0] is not None:
                        return state[0](f)  # the same loop, from the values in its slots

        return ev

    def recur(self, node: A.Recur) -> Ev:
        args = [self.compile(a) for a in node.args]
        slots = node.slots
        if not args:
            return lambda f: RECUR
        if len(args) == 1:
            (s0,), (a0,) = slots, args

            def ev1(f: list[Any]) -> Any:
                f[s0] = a0(f)
                return RECUR

            return ev1
        if len(args) == 2:
            (s0, s1), (a0, a1) = slots, args

            def ev2(f: list[Any]) -> Any:
                v0 = a0(f)
                f[s1] = a1(f)
                f[s0] = v0
                return RECUR

            return ev2
        count = range(len(args))

        def ev(f: list[Any]) -> Any:
            values = [a(f) for a in args]
            for i in count:
                f[slots[i]] = values[i]
            return RECUR

        return ev

    def def_(self, node: A.Def) -> Ev:
        g, name, value = self.ns, node.name, self.compile(node.expr)

        def ev(f: list[Any]) -> Any:
            v = value(f)
            g[name] = v
            return v

        return ev

    # ------------------------------------------------------------ functions and calls

    def fn(self, node: A.Fn) -> Ev:
        return make_fn_factory(self, node)

    def call(self, node: A.Call) -> Ev:
        return compile_call(self, node)

    def tool_call(self, node: A.ToolCall) -> Ev:
        keywords = keyword_keys(node.arg)
        if keywords is not None:
            return self._tool_call_keys(node, keywords)
        call = tool_caller(self.ctx, node.name, node.line, node.column)
        if node.arg is None:
            return lambda f: call(None)
        arg = self.compile(node.arg)
        return lambda f: call(arg(f))

    def _tool_call_keys(self, node: A.ToolCall, keywords: tuple[Any, ...]) -> Ev:
        """``(tool/name {:k v ...})``: the literal charged as ``map_lit`` charges it, its
        values evaluated in order into the tool's argument dict instead of the map."""
        call = tool_keys_caller(self.ctx, node.name, keywords, node.line, node.column)
        keys, arg = host_keys(keywords), node.arg
        if type(arg) is A.Const:  # a constant map of atoms: charged nothing, as a constant
            constants = list(zip(keys, arg.value.values()))
            return lambda f: call(dict(constants))
        assert isinstance(arg, A.MapLit)
        values = [self.compile(v) for _, v in arg.pairs]
        ctx, n = self.ctx, 2 * len(values)
        if len(values) == 1:
            ((k0,), (v0,)) = keys, values

            def ev1(f: list[Any]) -> Any:
                ctx.meter.alloc_items(n)  # type: ignore[union-attr]
                return call({k0: v0(f)})

            return ev1

        def ev(f: list[Any]) -> Any:
            ctx.meter.alloc_items(n)  # type: ignore[union-attr]
            return call({k: v(f) for k, v in zip(keys, values)})

        return ev

    def for_(self, node: A.For) -> Ev:
        return compile_for(self, node)


_METHODS: dict[type[Any], Callable[[Compiler, Any], Ev]] = {
    A.Const: Compiler.const,
    A.Local: Compiler.local,
    A.Captured: Compiler.captured,
    A.Global: Compiler.global_,
    A.Builtin: Compiler.builtin,
    A.RunFn: Compiler.run_fn,
    A.DataRef: Compiler.data_ref,
    A.ToolRef: Compiler.tool_ref,
    A.VectorLit: Compiler.vector_lit,
    A.SetLit: Compiler.set_lit,
    A.MapLit: Compiler.map_lit,
    A.If: Compiler.if_,
    A.Do: Compiler.do,
    A.And: Compiler.and_,
    A.Or: Compiler.or_,
    A.Case: Compiler.case,
    A.Condp: Compiler.condp,
    A.Let: Compiler.let,
    A.Loop: Compiler.loop,
    A.Recur: Compiler.recur,
    A.Def: Compiler.def_,
    A.Fn: Compiler.fn,
    A.Call: Compiler.call,
    A.ToolCall: Compiler.tool_call,
    A.For: Compiler.for_,
}


# ---------------------------------------------------------------- errors




def _refuel_at(meter: Any, line: int, column: int) -> None:
    try:
        meter.refuel()
    except PtclispError as exc:
        raise exc.at(line, column) from None


def _call(fn: Any, args: tuple[Any, ...], what: str, line: int, column: int) -> Any:
    try:
        return fn(*args)
    except PtclispError as exc:
        raise exc.at(line, column) from None
    except Exception as exc:
        raise convert_exception(exc, what, line, column, fn, args) from exc


def _show(value: Any) -> str:
    from .._values.printer import pr_str

    text = pr_str(value)
    return text if len(text) <= 60 else text[:57] + "..."
