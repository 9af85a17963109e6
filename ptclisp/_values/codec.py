"""Exact, plain-data encoding of ptclisp values (for msgpack and JSON alike).

``encode(v)`` gives nested ``dict``/``list``/``str``/``int``/``float``/``bool``/``None`` that any
serializer carries; ``decode(encode(v)) == v`` with types kept (a vector stays a vector, ``1``
stays an integer, keyword keys stay keywords). Vectors are plain lists; everything else that is
not a JSON atom is a one-key dict whose key starts with ``~``:

    {"~k": "ns/name"} keyword    {"~s": "name"} symbol    {"~c": "a"} char
    {"~l": [...]}     list/seq   {"~set": [...]} set      {"~m": [k1, v1, ...]} map
    {"~big": "-1f…"}  integer outside 64 bits, in hex     {"~re": "src"} regex
    {"~fn": "#function[f]"} a function (not callable after decoding; prints the same)
    {"~op": [id, tool]} an async op handle
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .types import Char, Keyword, LazySeq, List, Map, OpHandle, Set, Symbol, Vector

__all__ = ["OpaqueFunction", "decode", "encode"]

_INT64 = 2**63
# Hex, not decimal: Python refuses decimal conversions of integers over 4300 digits.


class OpaqueFunction:
    """Stands in for a function value that crossed a process boundary."""

    __slots__ = ("printed",)

    def __init__(self, printed: str) -> None:
        self.printed = printed

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OpaqueFunction) and other.printed == self.printed

    def __hash__(self) -> int:
        return hash(self.printed)

    def __repr__(self) -> str:
        return self.printed


def encode(value: Any) -> Any:
    t = type(value)
    if t is str or t is bool or t is float or value is None:
        return value
    if t is int:
        return value if -_INT64 <= value < _INT64 else {"~big": format(value, "x")}
    if t is Vector:
        return [encode(x) for x in value]
    if t is Keyword:
        return {"~k": value.qualified}
    if t is Map or isinstance(value, dict):
        flat: list[Any] = []
        for k, v in value.items():
            flat.append(encode(k))
            flat.append(encode(v))
        return {"~m": flat}
    if t is List or t is LazySeq or isinstance(value, tuple):
        return {"~l": [encode(x) for x in value]}
    if t is Set or isinstance(value, frozenset):
        return {"~set": [encode(x) for x in value]}
    if t is Char:
        return {"~c": value.ch}
    if t is Symbol:
        return {"~s": value.qualified}
    if t.__name__ == "Regex":
        return {"~re": value.source}
    if t is OpHandle:
        return {"~op": [value.op_id, value.tool]}
    if callable(value) or t is OpaqueFunction:
        from .printer import pr_str

        return {"~fn": pr_str(value)}
    raise TypeError(f"cannot encode a {t.__name__}")


def decode(data: Any) -> Any:
    t = type(data)
    if t is list:
        return Vector(map(decode, data))
    if t is not dict:
        return data
    if len(data) != 1:
        raise ValueError("malformed encoded value: expected a one-key tag object")
    ((tag, body),) = data.items()
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise ValueError(f"malformed encoded value: unknown tag {tag!r}")
    return decoder(body)


def _decode_map(flat: list[Any]) -> Map:
    it = iter(flat)
    return Map((decode(k), decode(v)) for k, v in zip(it, it))


def _decode_symbol(text: str) -> Symbol:
    ns, sep, name = text.partition("/")
    return Symbol(name, ns) if sep and ns and name else Symbol(text)


def _decode_regex(source: str) -> Any:
    from .regex import compile_regex

    return compile_regex(source)


def _decode_op(body: list[str]) -> Any:
    return OpHandle(body[0], body[1])


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "~k": Keyword.parse,
    "~s": _decode_symbol,
    "~c": Char,
    "~l": lambda items: List(map(decode, items)),
    "~set": lambda items: Set(map(decode, items)),
    "~m": _decode_map,
    "~big": lambda text: int(text, 16),
    "~re": _decode_regex,
    "~fn": OpaqueFunction,
    "~op": _decode_op,
}
