"""The analyzer's entry: one form → one node, by form type and, for lists, by head symbol.

Special forms and macros live in ``SPECIAL`` (name → handler), filled by the family modules
(``bindings``, ``conditionals``, ``iteration``, ``threading``). Each handler is a small function
``(form, env, tail) -> Node``; ``tail`` says whether the form is in tail position (where
``recur`` is allowed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hy import models

from .._reader.literals import form_to_value
from .._values.types import EMPTY_LIST, Keyword, Map, Set, Vector
from . import ast as A
from ._env import Env, error, pos
from .symbols import resolve_symbol

__all__ = ["SPECIAL", "analyze", "analyze_body", "node", "special"]

Handler = Callable[[models.Expression, Env, bool], A.Node]
SPECIAL: dict[str, Handler] = {}


def special(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler for the special forms/macros ``names``."""

    def register(fn: Handler) -> Handler:
        for name in names:
            SPECIAL[name] = fn
        return fn

    return register


def node(cls: type[Any], form: object, *args: Any) -> Any:
    """Build ``cls(*args)`` positioned at ``form``."""
    try:  # pos(form), inline: one call fewer for every node
        line, column = form._start_line or 0, form._start_column or 0  # type: ignore[attr-defined]
    except AttributeError:
        line, column = pos(form)
    return cls(*args, line=line, column=column)


def analyze(form: object, env: Env, tail: bool = False) -> A.Node:
    """Analyze one form in ``env``."""
    by_type = _BY_TYPE.get(type(form))  # the common forms, one dict look-up
    if by_type is not None:
        return by_type(form, env, tail)
    if isinstance(form, models.Expression):
        return _expression(form, env, tail)
    if isinstance(form, models.Symbol):
        return resolve_symbol(form, env)
    if isinstance(form, models.List):
        return _collection(form, env, A.VectorLit, Vector)
    if isinstance(form, models.Dict):
        return _map(form, env)
    if isinstance(form, models.Set):
        return _collection(form, env, A.SetLit, Set)
    return node(A.Const, form, literal_value(form))


def literal_value(form: object) -> Any:
    """The value of an atomic literal form."""
    if isinstance(form, models.Keyword):
        return Keyword.parse(form.name)
    if isinstance(form, (models.String, models.Integer, models.Float)):
        return form_to_value(form)
    if isinstance(form, (models.Complex, models.Bytes, models.FString)):
        raise error("invalid_form", f"unsupported literal {form!r}", form,
                    "use numbers, strings, keywords, vectors and maps")
    return form_to_value(form)


def analyze_body(forms: Sequence[object], env: Env, tail: bool, where: object) -> A.Node:
    """A sequence of forms evaluated in order; the last one's value (nil when empty)."""
    if not forms:
        return node(A.Const, where, None)
    nodes = [analyze(f, env, False) for f in forms[:-1]]
    nodes.append(analyze(forms[-1], env, tail))
    if len(nodes) == 1:
        return nodes[0]
    return node(A.Do, where, tuple(nodes))


def _expression(form: models.Expression, env: Env, tail: bool) -> A.Node:
    if not form:
        return node(A.Const, form, EMPTY_LIST)
    head, *rest = form  # not form[0], form[1:]: hy's __getitem__ is Python, a slice a new model
    if isinstance(head, models.Symbol):
        name = str(head)
        handler = SPECIAL.get(name)
        if handler is not None and not env.is_local(name):
            return handler(form, env, tail)
        if name.startswith("tool/") and len(name) > 5 and not env.is_local(name):
            return _tool_call(form, env, name[5:])
    fn = analyze(head, env, False)
    args = tuple([analyze(a, env, False) for a in rest])
    line, column = pos(form)
    return A.Call(fn, args, line=line, column=column)


def _tool_call(form: models.Expression, env: Env, name: str) -> A.Node:
    if len(form) > 2:
        raise error(
            "arity_error",
            f"tool/{name} takes one argument map, got {len(form) - 1} arguments",
            form,
            f"pass the arguments as one map: (tool/{name} {{:key value}})",
        )
    arg = analyze(form[1], env, False) if len(form) == 2 else None
    return node(A.ToolCall, form, name, arg)


def _collection(form: models.Sequence, env: Env, lit: type[Any], cls: type[Any]) -> A.Node:
    items = tuple(analyze(f, env, False) for f in form)
    if all(type(i) is A.Const for i in items):
        return node(A.Const, form, cls(i.value for i in items))  # type: ignore[attr-defined]
    return node(lit, form, items)


def _map(form: models.Dict, env: Env) -> A.Node:
    if len(form) % 2:
        raise error("invalid_form", "a map literal needs an even number of forms", form,
                    "write maps as {:key value ...}")
    items = [analyze(f, env, False) for f in form]
    pairs = tuple(zip(items[::2], items[1::2]))
    if all(type(k) is A.Const and type(v) is A.Const for k, v in pairs):
        return node(A.Const, form, Map((k.value, v.value) for k, v in pairs))  # type: ignore[attr-defined]
    return node(A.MapLit, form, pairs)


def _number(form: Any, env: Env, tail: bool) -> A.Node:
    """An ``Integer``/``Float``/``String`` read from the source: its Python value."""
    line, column = pos(form)
    return A.Const(_PLAIN[type(form)](form), line=line, column=column)


def _symbol(form: Any, env: Env, tail: bool) -> A.Node:
    return resolve_symbol(form, env)


_PLAIN: dict[type, type] = {models.Integer: int, models.Float: float, models.String: str}
_BY_TYPE: dict[type, Callable[[Any, Env, bool], A.Node]] = {
    models.Expression: _expression, models.Symbol: _symbol, models.Integer: _number,
    models.Float: _number, models.String: _number,
}
