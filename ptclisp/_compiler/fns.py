"""Compiling ``fn``: closures that capture by value and run ``recur`` in a loop.

Evaluating an ``A.Fn`` node makes a Python function. Calling it checks the argument count,
charges a step and a level of depth, builds the frame ``[captures, *args, *locals]``, runs the
destructuring prologue and the body, and loops while the body returns ``RECUR``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._analyzer import ast as A
from .._errors import EvalError
from .._values.types import List
from . import source as _source
from .rt import RECUR
from .source import calls_itself, compile_source_fn, hot_source, kernel_source

if TYPE_CHECKING:
    from .._limits import Meter
    from .compiler import Compiler, Ev

__all__ = ["make_fn_factory"]

Runner = Callable[[list[Any], tuple[Any, ...]], Any]


def make_fn_factory(compiler: Compiler, node: A.Fn) -> Ev:
    """The closure that, evaluated in a frame, makes the function value."""
    if compiler.source_fns != "never":
        source_fn = compile_source_fn(compiler, node)
        if source_fn is not None:
            return source_fn
    captures = [compiler.compile(c) for c in node.captures]
    named, name = node.named, node.name or "fn"
    expects = _expects(node.arities)
    if len(node.arities) == 1 and not node.arities[0].variadic:
        return _single_arity_factory(captures, node, expects, compiler)
    runners = {a.nparams: _runner(compiler, a) for a in node.arities if not a.variadic}
    variadic = [(a.nparams, _runner(compiler, a)) for a in node.arities if a.variadic]

    def factory(f: list[Any]) -> Any:
        captured = [None, *[e(f) for e in captures]] if named else [e(f) for e in captures]

        def fn(*args: Any) -> Any:
            run = runners.get(len(args))
            if run is not None:
                return run(captured, args)
            if variadic and len(args) >= variadic[0][0]:
                fixed, run = variadic[0]
                rest = List(args[fixed:]) if len(args) > fixed else None
                return run(captured, (*args[:fixed], rest))
            raise _arity_error(name, len(args), expects)

        fn.ptclisp_name = name  # type: ignore[attr-defined]
        fn.__name__ = fn.__qualname__ = name
        if named:
            captured[0] = fn
        return fn

    return factory


def _single_arity_factory(captures: list[Ev], node: A.Fn, expects: str, compiler: Compiler) -> Ev:
    """The common case, one fixed arity: the runner is inlined into the function itself."""
    arity, named, name = node.arities[0], node.named, node.name or "fn"
    body, ctx, nparams = compiler.compile(arity.body), compiler.ctx, arity.nparams
    prologue = [(b.slot, compiler.compile(b.expr)) for b in arity.prologue]
    pad = [None] * (arity.nslots - 1 - nparams)
    hot = hot_source(compiler, node)
    self_calls = hot is not None and calls_itself(node)
    if nparams == 1 and not prologue:
        return _one_param_factory(captures, node, compiler, body, pad, hot, self_calls)

    def factory(f: list[Any]) -> Any:
        captured = [None, *[e(f) for e in captures]] if named else [e(f) for e in captures]
        state: list[Any] = [None, _source.hot_calls(self_calls) if hot is not None else -1]

        def fn(*args: Any) -> Any:
            if len(args) != nparams:
                raise _arity_error(name, len(args), expects)
            entry = state[0]
            if entry is not None:  # the stand-in's entry, without its Python function
                meter_: Meter = ctx.meter  # type: ignore[assignment]
                return entry(*args, meter_, meter_.depth, None)
            calls = state[1] = state[1] - 1
            if calls == 0 and hot is not None:
                state[0] = _hand_over(fn, hot(captured))
            meter: Meter = ctx.meter  # type: ignore[assignment]  # set while a run is on
            meter.fuel -= 1
            if meter.fuel < 0:
                meter.refuel()
            depth = meter.depth = meter.depth + 1
            if depth > meter.limits.max_depth:
                meter.depth -= 1
                meter.enter()  # raises depth_limit
            frame = [captured, *args, *pad]
            for slot, value in prologue:
                frame[slot] = value(frame)
            result = body(frame)
            while result is RECUR:
                meter.fuel -= 1
                if meter.fuel < 0:
                    meter.refuel()
                for slot, value in prologue:
                    frame[slot] = value(frame)
                result = body(frame)
            meter.depth -= 1  # no try/finally: an exception ends the whole run
            return result

        fn.ptclisp_entry = None if hot is not None else False  # type: ignore[attr-defined]
        return _finish(fn, node, compiler, captured)

    return factory


def _one_param_factory(captures: list[Ev], node: A.Fn, compiler: Compiler, body: Ev,
                       pad: list[None], hot: Callable[[list[Any]], Any] | None,
                       self_calls: bool) -> Ev:
    """The most common function shape (``#(...)``, ``(fn [x] ...)``) with a fixed signature:
    Python checks the argument count (a wrong count becomes ``arity_error`` at the call site).
    Both single-arity shapes hand their calls to a source fn once hot (``hot_source``)."""
    named, ctx = node.named, compiler.ctx

    def factory(f: list[Any]) -> Any:
        captured = [None, *[e(f) for e in captures]] if named else [e(f) for e in captures]
        state: list[Any] = [None, _source.hot_calls(self_calls) if hot is not None else -1]

        def fn(x: Any) -> Any:
            entry = state[0]
            if entry is not None:  # the stand-in's entry, without its Python function
                meter_: Meter = ctx.meter  # type: ignore[assignment]
                return entry(x, meter_, meter_.depth, None)
            calls = state[1] = state[1] - 1
            if calls == 0 and hot is not None:
                state[0] = _hand_over(fn, hot(captured))
            meter: Meter = ctx.meter  # type: ignore[assignment]  # set while a run is on
            meter.fuel -= 1
            if meter.fuel < 0:
                meter.refuel()
            depth = meter.depth = meter.depth + 1
            if depth > meter.limits.max_depth:
                meter.depth -= 1
                meter.enter()  # raises depth_limit
            frame = [captured, x, *pad]
            result = body(frame)
            while result is RECUR:
                meter.fuel -= 1
                if meter.fuel < 0:
                    meter.refuel()
                result = body(frame)
            meter.depth -= 1  # no try/finally: an exception ends the whole run
            return result

        fn.ptclisp_entry = None if hot is not None else False  # type: ignore[attr-defined]
        return _finish(fn, node, compiler, captured)

    return factory


def _hand_over(fn: Any, stand_in: Any) -> Any:
    """The entry of the closure ``fn``'s stand-in, which ``fn`` calls from now on (None: it
    has none, and never will). Compiled call sites may enter it directly too
    (``ptclisp_entry``: None while the closure may still hand over, False when it never
    will); errors escaping the entry name ``fn``."""
    if stand_in is None:
        fn.ptclisp_entry = False
        return None
    stand_in.ptclisp_self = fn
    fn.ptclisp_entry = stand_in.ptclisp_entry
    return stand_in.ptclisp_entry


def _finish(fn: Any, node: A.Fn, compiler: Compiler, captured: list[Any]) -> Any:
    """Name a single-arity fn, attach what it offers the looping builtins, and let a named fn
    find itself at capture 0."""
    fn.ptclisp_name = fn.__name__ = fn.__qualname__ = node.name or "fn"
    fn.ptclisp_kernels = kernel_source(compiler, node, captured)
    if node.named:
        captured[0] = fn
    return fn


def _runner(compiler: Compiler, arity: A.Arity) -> Runner:
    body, ctx = compiler.compile(arity.body), compiler.ctx
    prologue = [(b.slot, compiler.compile(b.expr)) for b in arity.prologue]
    pad = [None] * (arity.nslots - 1 - arity.nparams - (1 if arity.variadic else 0))

    def run(captured: list[Any], args: tuple[Any, ...]) -> Any:
        meter: Meter = ctx.meter  # type: ignore[assignment]  # set while a run is on
        meter.fuel -= 1
        if meter.fuel < 0:
            meter.refuel()
        meter.enter()
        frame = [captured, *args, *pad]
        for slot, value in prologue:
            frame[slot] = value(frame)
        result = body(frame)
        while result is RECUR:
            meter.fuel -= 1
            if meter.fuel < 0:
                meter.refuel()
            for slot, value in prologue:
                frame[slot] = value(frame)
            result = body(frame)
        meter.depth -= 1  # an exception ends the run: no finally
        return result

    return run


def _expects(arities: tuple[A.Arity, ...]) -> str:
    counts = sorted(a.nparams for a in arities if not a.variadic)
    text = [str(n) for n in counts] + [f"{a.nparams} or more" for a in arities if a.variadic]
    return " or ".join(text)


def _arity_error(name: str, got: int, expects: str) -> EvalError:
    return EvalError(
        f"wrong number of arguments ({got}) passed to {name}, which takes {expects}",
        code="arity_error",
        hint=f"call {name} with {expects} argument(s)",
    )
