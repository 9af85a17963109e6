"""Reader forms (hy models) → ptclisp values, for ``read_string`` and ``quote``.

    (a b) → List   [a b] → Vector   {k v} → Map   #{a} → Set   nil/true/false → None/True/False
    sym → Symbol (``ns/name`` split at the first ``/``, as Clojure does)   :k → Keyword
    \\c → Char   #"re" → Regex   numbers and strings → int, float, str
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hy.models import Dict, Expression, Float, Integer, Keyword, List, Set, String, Symbol

from .._errors import InternalError
from .._values import types as _values
from .._values.regex import compile_regex
from .atoms import CharForm, RegexForm

__all__ = ["form_to_value"]


def form_to_value(form: Any) -> Any:
    """A form as a ptclisp value: ``(a b)`` → List, ``[a]`` → Vector, ``{}`` → Map, ...

    Recursive: forms from the reader are at most ``_reader.MAX_NESTING`` deep.
    """
    converter = _CONVERTERS.get(type(form))
    if converter is None:
        raise InternalError(f"not a reader form: {type(form).__name__}")
    return converter(form)


_CONSTANTS = {"nil": None, "true": True, "false": False}


def _symbol_value(form: Symbol) -> Any:
    text = str(form)
    if text in _CONSTANTS:
        return _CONSTANTS[text]
    ns, sep, name = text.partition("/")
    if sep and ns and name:
        return _values.Symbol(name, ns)
    return _values.Symbol(text)


def _map_value(form: Dict) -> Any:
    items = [form_to_value(x) for x in form]
    return _values.Map(zip(items[::2], items[1::2]))


def _regex_value(form: RegexForm) -> Any:
    return compile_regex(form.source)


_CONVERTERS: dict[type, Callable[[Any], Any]] = {
    Integer: int,
    Float: float,
    String: str,
    Symbol: _symbol_value,
    Keyword: lambda form: _values.Keyword.parse(form.name),
    CharForm: lambda form: _values.Char(form.value),
    RegexForm: _regex_value,
    Expression: lambda form: _values.List(map(form_to_value, form)),
    List: lambda form: _values.Vector(map(form_to_value, form)),
    Dict: _map_value,
    Set: lambda form: _values.Set(map(form_to_value, form)),
}
