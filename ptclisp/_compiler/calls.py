"""Compiling calls: ``(f a b)`` → a closure specialised for the argument count.

When the callee is known at compile time (a builtin, a run-level function, a keyword) it is
bound into the closure; otherwise the callee is evaluated per call. Exceptions escaping the
callee get the call's position (see ``convert_exception``); argument evaluation happens outside
the ``try`` so an error inside an argument keeps its own, more precise position.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._analyzer import ast as A
from .._core import BUILTINS
from .._errors import PtclispError
from .._values.types import Keyword, Map
from .exceptions import convert_exception

if TYPE_CHECKING:
    from .compiler import Compiler, Ev

__all__ = [
    "compile_call",
    "host_keys",
    "keyword_keys",
    "positioned",
    "positioned_dynamic",
    "tool_caller",
    "tool_keys_caller",
]


def compile_call(compiler: Compiler, node: A.Call) -> Ev:
    fn = node.fn
    kind = type(fn)
    if kind is A.Builtin:
        return _builtin_call(compiler, node, fn.name)  # type: ignore[attr-defined]
    if kind is A.RunFn and fn.name not in ("*1", "*2", "*3"):  # type: ignore[attr-defined]
        name = fn.name  # type: ignore[attr-defined]
        args = [compiler.compile(a) for a in node.args]
        return _fixed(compiler.run_fns[name], args, name, node)
    args = [compiler.compile(a) for a in node.args]
    if isinstance(fn, A.Const):
        if type(fn.value) is Keyword and len(args) == 1:
            if isinstance(node.args[0], A.Local):
                return _keyword_lookup_local(fn.value, node.args[0].slot)
            return _keyword_lookup(fn.value, args[0])
        return _fixed(fn.value, args, _name_of(fn.value), node)
    name = fn.name if isinstance(fn, (A.Global, A.Local, A.Captured)) else "fn"
    if isinstance(fn, A.Captured) and len(args) == 1:
        return _captured1(fn.index, args[0], name, node)
    return _dynamic(compiler.compile(fn), args, name, node)


def _builtin_call(compiler: Compiler, node: A.Call, name: str) -> Ev:
    """A call of a core function: two-number arithmetic, comparison and ``=`` inlined (a
    constant second argument bound in), the rest called with the call's position."""
    value = BUILTINS[name]
    nodes = node.args
    count = len(nodes)
    if count == 2 and (name == "=" or name in _FAST2):
        second = nodes[1]
        const = second.value if type(second) is A.Const else _NONE
        slow = positioned(value, name, node)
        a0 = compiler.compile(nodes[0])
        if name == "=":
            if const is not _NONE and type(const) in _SIMPLE:
                return _equals_const(slow, a0, const)
            return _equals2(slow, [a0, compiler.compile(second)])
        if type(const) in _NUMBER:
            return _fast2_const(_FAST2[name], slow, a0, const)
        return _fast2(_FAST2[name], slow, [a0, compiler.compile(second)])
    args = [compiler.compile(a) for a in nodes]
    if count == 1 and name in _FAST1:
        return _fast1(_FAST1[name], positioned(value, name, node), args[0])
    return _fixed(value, args, name, node)


def _captured1(index: int, a0: Ev, name: str, node: A.Node) -> Ev:
    """``(f x)`` where ``f`` is a captured value — typically a named fn calling itself."""
    line, column = node.line, node.column

    def ev(f: list[Any]) -> Any:
        fn, x = f[0][index], a0(f)
        try:
            return fn(x)
        except PtclispError as exc:
            raise exc.at(line, column) from None
        except Exception as exc:
            raise convert_exception(exc, _name_of_dynamic(fn, name), line, column, fn,
                                    (x,)) from exc

    return ev


# Builtins inlined for the common case of two ints, two floats or two strings/keywords; any
# other argument types take the builtin's own path (same result, same errors).
def _mul(x: Any, y: Any) -> Any:
    """``*`` on two ints or two floats: big integers go through the checked multiply."""
    if type(x) is float or (-_BIG < x < _BIG and -_BIG < y < _BIG):
        return x * y
    from .._core._numbers import big_mul

    return big_mul(x, y)


_BIG = 2**64
_FAST2: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": _mul, "<": operator.lt,
    ">": operator.gt, "<=": operator.le, ">=": operator.ge,
}
_FAST1: dict[str, Callable[[Any], Any]] = {"inc": lambda x: x + 1, "dec": lambda x: x - 1}
_NUMBER = (int, float)


Slow = Callable[..., Any]


def positioned(fn: Any, name: str, node: A.Node) -> Slow:
    """Call ``fn`` (a builtin, a constant) on evaluated arguments.

    Errors get the call's position.
    """
    line, column = node.line, node.column

    def call(*values: Any) -> Any:
        try:
            return fn(*values)
        except PtclispError as exc:
            raise exc.at(line, column) from None
        except Exception as exc:
            raise convert_exception(exc, name, line, column, fn, values) from exc

    return call


def _fast2(op: Callable[[Any, Any], Any], slow: Slow, args: list[Ev]) -> Ev:
    a0, a1 = args

    def ev(f: list[Any]) -> Any:
        x, y = a0(f), a1(f)
        tx = type(x)
        if (tx is int or tx is float) and type(y) is tx:
            return op(x, y)
        return slow(x, y)

    return ev


def _fast2_const(op: Callable[[Any, Any], Any], slow: Slow, a0: Ev, y: Any) -> Ev:
    ty = type(y)

    def ev(f: list[Any]) -> Any:
        x = a0(f)
        if type(x) is ty:
            return op(x, y)
        return slow(x, y)

    return ev


def _equals_const(slow: Slow, a0: Ev, y: Any) -> Ev:
    ty = type(y)

    def ev(f: list[Any]) -> Any:
        x = a0(f)
        if type(x) is ty:
            return x == y
        return slow(x, y)

    return ev


def _fast1(op: Callable[[Any], Any], slow: Slow, arg: Ev) -> Ev:
    def ev(f: list[Any]) -> Any:
        x = arg(f)
        tx = type(x)
        if tx is int or tx is float:
            return op(x)
        return slow(x)

    return ev


def _equals2(slow: Slow, args: list[Ev]) -> Ev:
    a0, a1 = args

    def ev(f: list[Any]) -> Any:
        x, y = a0(f), a1(f)
        if x is y:
            return True
        tx = type(x)
        if tx is type(y) and tx in _SIMPLE:
            return x == y
        return slow(x, y)

    return ev


_SIMPLE = frozenset({int, str, float, Keyword})
_NONE: Any = object()


def _name_of(value: Any) -> str:
    return getattr(value, "ptclisp_name", None) or repr(value)


def _keyword_lookup(key: Keyword, arg: Ev) -> Ev:
    def ev(f: list[Any]) -> Any:
        coll = arg(f)
        if type(coll) is Map:
            return coll.get(key)
        return key(coll)

    return ev


def _keyword_lookup_local(key: Keyword, slot: int) -> Ev:
    def ev(f: list[Any]) -> Any:
        coll = f[slot]
        if type(coll) is Map:
            return coll.get(key)
        return key(coll)

    return ev


def _fixed(fn: Any, args: list[Ev], name: str, node: A.Node) -> Ev:
    line, column = node.line, node.column
    if len(args) == 0:

        def ev0(f: list[Any]) -> Any:
            try:
                return fn()
            except PtclispError as exc:
                raise exc.at(line, column) from None
            except Exception as exc:
                raise convert_exception(exc, name, line, column, fn, ()) from exc

        return ev0
    if len(args) == 1:
        (a0,) = args

        def ev1(f: list[Any]) -> Any:
            x = a0(f)
            try:
                return fn(x)
            except PtclispError as exc:
                raise exc.at(line, column) from None
            except Exception as exc:
                raise convert_exception(exc, name, line, column, fn, (x,)) from exc

        return ev1
    if len(args) == 2:
        a0, a1 = args

        def ev2(f: list[Any]) -> Any:
            x, y = a0(f), a1(f)
            try:
                return fn(x, y)
            except PtclispError as exc:
                raise exc.at(line, column) from None
            except Exception as exc:
                raise convert_exception(exc, name, line, column, fn, (x, y)) from exc

        return ev2
    if len(args) == 3:
        a0, a1, a2 = args

        def ev3(f: list[Any]) -> Any:
            x, y, z = a0(f), a1(f), a2(f)
            try:
                return fn(x, y, z)
            except PtclispError as exc:
                raise exc.at(line, column) from None
            except Exception as exc:
                raise convert_exception(exc, name, line, column, fn, (x, y, z)) from exc

        return ev3

    def ev(f: list[Any]) -> Any:
        values = [a(f) for a in args]
        try:
            return fn(*values)
        except PtclispError as exc:
            raise exc.at(line, column) from None
        except Exception as exc:
            raise convert_exception(exc, name, line, column, fn, tuple(values)) from exc

    return ev


def _dynamic(callee: Ev, args: list[Ev], name: str, node: A.Node) -> Ev:
    line, column = node.line, node.column
    if len(args) == 1:
        (a0,) = args

        def ev1(f: list[Any]) -> Any:
            fn, x = callee(f), a0(f)
            try:
                return fn(x)
            except PtclispError as exc:
                raise exc.at(line, column) from None
            except Exception as exc:
                raise convert_exception(exc, _name_of_dynamic(fn, name), line, column, fn,
                                        (x,)) from exc

        return ev1
    if len(args) == 2:
        a0, a1 = args

        def ev2(f: list[Any]) -> Any:
            fn, x, y = callee(f), a0(f), a1(f)
            try:
                return fn(x, y)
            except PtclispError as exc:
                raise exc.at(line, column) from None
            except Exception as exc:
                raise convert_exception(exc, _name_of_dynamic(fn, name), line, column, fn,
                                        (x, y)) from exc

        return ev2

    call = positioned_dynamic(name, node)
    return lambda f: call(callee(f), *[a(f) for a in args])


def positioned_dynamic(name: str, node: A.Node) -> Callable[..., Any]:
    """``call(fn, *args)`` for a callee known only at run time; errors get the call's position."""
    line, column = node.line, node.column

    def call(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except PtclispError as exc:
            raise exc.at(line, column) from None
        except Exception as exc:
            raise convert_exception(exc, _name_of_dynamic(fn, name), line, column, fn,
                                    args) from exc

    return call


def tool_caller(ctx: Any, name: str, line: int, column: int) -> Callable[[Any], Any]:
    """``call(args)`` asking the run's host for ``tool/name``; errors get the call's position."""

    def call(value: Any) -> Any:
        try:
            return ctx.host.call(name, value)
        except PtclispError as exc:
            raise exc.at(line, column) from None
        except Exception as exc:
            raise convert_exception(exc, f"tool/{name}", line, column) from exc

    return call


def keyword_keys(arg: A.Node | None) -> tuple[Keyword, ...] | None:
    """The keys of a tool call's argument when it is a map literal whose keys are keywords
    with distinct host keys — a ``MapLit`` or a constant map of JSON atoms (``Const``) — else
    None: ``tool_keys_caller`` then passes the values without building the map."""
    if type(arg) is A.MapLit:
        keys = [k.value for k, _ in arg.pairs if type(k) is A.Const]
        if len(keys) != len(arg.pairs):
            return None
    elif type(arg) is A.Const and type(arg.value) is Map:
        if not all(type(v) in _ATOMS for v in arg.value.values()):
            return None
        keys = list(arg.value)
    else:
        return None
    if not all(type(k) is Keyword for k in keys):
        return None
    if len({_host_key(k) for k in keys}) != len(keys):
        return None
    return tuple(keys)


_ATOMS = frozenset({int, float, str, bool, type(None)})


def _host_key(key: Keyword) -> str:
    """A keyword key as ``_tools.host._host_args`` passes it to a tool."""
    return key.qualified if key.ns else key.name


def tool_keys_caller(ctx: Any, name: str, keywords: tuple[Keyword, ...], line: int,
                     column: int) -> Callable[[dict[str, Any]], Any]:
    """``call(host_args)`` for ``(tool/name {:k v ...})`` whose map literal has the keys
    ``keywords`` (``keyword_keys``): the caller builds ``host_args`` (``host_keys`` → the
    values) instead of the map, and charges it as the literal (``ToolHost.call_keys``).
    Errors get the call's position."""

    def call(host_args: dict[str, Any]) -> Any:
        try:
            return ctx.host.call_keys(name, keywords, host_args)
        except PtclispError as exc:
            raise exc.at(line, column) from None
        except Exception as exc:
            raise convert_exception(exc, f"tool/{name}", line, column) from exc

    return call


def host_keys(keywords: tuple[Keyword, ...]) -> tuple[str, ...]:
    """The keys a tool gets for these keyword keys (as ``_tools.host._host_args`` maps them)."""
    return tuple(_host_key(k) for k in keywords)


def _name_of_dynamic(fn: Any, name: str) -> str:
    return getattr(fn, "ptclisp_name", None) or name
