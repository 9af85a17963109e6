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
    {"~rows": [[k1, k2, ...], [v11, v12, ...], ...]} a vector of at least two maps with the
        same keyword keys in the same order (k: the keywords' names) and only JSON-atom values
        (64-bit integers): a table, the usual tool result, decoded without per-key work
    {"~ref": n}       the n-th collection (or string over 256 characters) completed so far,
                      counted in encoding order: shared structure stays shared (a ~rows table
                      counts as one collection, its rows and strings as none)
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain, repeat, starmap
from typing import Any

from .types import (
    Char,
    Keyword,
    LazySeq,
    List,
    Map,
    OpHandle,
    Set,
    Symbol,
    Vector,
    bulk,
    keyword_of_str,
)

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


_LONG = 256
"""Strings longer than this are shared by reference like collections (``~ref``)."""


ENCODE_DEPTH = 500
"""Deepest nesting ``encode`` writes: the outer tiers' wire formats and the wasm guest's stack
hold a few hundred levels, not thousands; deeper is ``output_limit`` in every tier."""


def encode(value: Any) -> Any:
    """``value`` as plain data. A collection (or long string) met again is written as
    ``{"~ref": n}``, the n-th one completed so far: shared structure stays shared, so a value
    of 40 vectors with 2**40 leaves by sharing encodes in 40 entries, not 2**40. Raises
    ``LimitExceeded`` (``output_limit``) past ``ENCODE_DEPTH`` levels."""
    try:
        return _encode(value, {}, 0)
    except RecursionError:
        raise _too_deep() from None


def _too_deep() -> Exception:
    from .._errors import LimitExceeded

    return LimitExceeded(f"the value is nested more than {ENCODE_DEPTH} levels deep to encode",
                         code="output_limit", hint="return flatter data: nest a few levels at most")


def _encode(value: Any, memo: dict[int, int], depth: int) -> Any:
    t = type(value)
    if t is str:
        if len(value) > _LONG:
            ref = memo.get(id(value))
            if ref is not None:
                return {"~ref": ref}
            memo[id(value)] = len(memo)
        return value
    if t is bool or t is float or value is None:
        return value
    if t is int:
        return value if -_INT64 <= value < _INT64 else {"~big": format(value, "x")}
    if t is Keyword:
        return {"~k": value.qualified}
    if t is Char:
        return {"~c": value.ch}
    if t is Symbol:
        return {"~s": value.qualified}
    ref = memo.get(id(value))
    if ref is not None:
        return {"~ref": ref}
    if depth >= ENCODE_DEPTH:
        raise _too_deep()
    out = _encode_new(value, t, memo, depth + 1)
    if type(out) is list or (len(out) == 1 and next(iter(out)) in _SHARED_TAGS):
        memo[id(value)] = len(memo)
    return out


def _encode_new(value: Any, t: type, memo: dict[int, int], depth: int) -> Any:
    if t is Vector:
        if len(value) > 1 and type(value[0]) is Map:
            rows = _encode_rows(value)
            if rows is not None:
                return rows
        return [_encode(x, memo, depth) for x in value]
    if t is Map or isinstance(value, dict):
        flat: list[Any] = []
        for k, v in value.items():
            flat.append(_encode(k, memo, depth))
            flat.append(_encode(v, memo, depth))
        return {"~m": flat}
    if t is List or t is LazySeq or isinstance(value, tuple):
        return {"~l": [_encode(x, memo, depth) for x in value]}
    if t is Set or isinstance(value, frozenset):
        return {"~set": [_encode(x, memo, depth) for x in value]}
    if t.__name__ == "Regex":
        return {"~re": value.source}
    if t.__name__ == "OpHandle":
        return {"~op": [value.op_id, value.tool]}
    if callable(value) or t is OpaqueFunction:
        from .printer import pr_str

        return {"~fn": pr_str(value)}
    raise TypeError(f"cannot encode a {t.__name__}")


_SHARED_TAGS = frozenset({"~m", "~l", "~set", "~rows"})
_ROW_ATOMS = frozenset({str, bool, float, int, type(None)})
_MAP_ONLY = frozenset({Map})
_KEYWORD_ONLY = frozenset({Keyword})
_LIST_ONLY = frozenset({list})
_values = dict.values


def _encode_rows(table: Vector) -> dict[str, Any] | None:
    """``{"~rows": ...}`` for a table (see the module doc), or None; the checks run in C."""
    if not _MAP_ONLY.issuperset(map(type, table)):
        return None
    keys = tuple(table[0])
    if not _KEYWORD_ONLY.issuperset(map(type, keys)) or len(set(map(tuple, table))) != 1:
        return None
    with bulk:
        rows = list(map(list, map(_values, table)))
    for column in zip(*rows) if keys else ():
        types = set(map(type, column))
        if not _ROW_ATOMS.issuperset(types):
            return None
        if int in types:
            ints = column if len(types) == 1 else [x for x in column if type(x) is int]
            if min(ints) < -_INT64 or max(ints) >= _INT64:
                return None
    return {"~rows": [[k.qualified for k in keys], *rows]}


def _decode_rows(body: list[Any]) -> Vector:
    if type(body) is not list or len(body) < 3 or type(body[0]) is not list or \
            any(type(name) is not str for name in body[0]):
        raise ValueError("malformed encoded value: a ~rows table needs names and two rows")
    keys = tuple(map(keyword_of_str, body[0]))
    rows = body[1:]
    width = len(keys)
    if not _LIST_ONLY.issuperset(map(type, rows)) or set(map(len, rows)) != {width} or \
            not _ROW_ATOMS.issuperset(map(type, chain.from_iterable(rows))):
        raise ValueError("malformed encoded value: a ~rows row does not match its names")
    if len(set(keys)) != width:
        raise ValueError("malformed encoded value: a ~rows table repeats a name")
    build = _row_builder(keys)
    with bulk:
        if build is None:
            return Vector(map(Map, map(zip, repeat(keys), rows)))
        return Vector(starmap(build, rows))


def _row_builder(keys: tuple[Any, ...]) -> Callable[..., Map] | None:
    """``(v0, v1, ...) → Map`` for rows of these keys: one store per key into a new map (no
    per-pair tuples, no intermediate dict: ~25% less than ``Map(zip(keys, row))`` over 10,000
    rows), compiled once per key tuple. The keys enter the namespace, never the text; None
    past 48 keys (``zip`` then)."""
    build = _ROW_BUILDERS.get(keys)
    if build is None and len(keys) <= 48:
        params = ", ".join(f"v{i}" for i in range(len(keys)))
        stores = "".join(f"    m[K{i}] = v{i}\n" for i in range(len(keys)))
        namespace: dict[str, Any] = {"Map": Map, **{f"K{i}": k for i, k in enumerate(keys)}}
        exec(f"def build({params}):\n    m = Map()\n{stores}    return m\n", namespace)
        build = namespace["build"]  # our own text
        if len(_ROW_BUILDERS) >= 256:
            _ROW_BUILDERS.clear()
        _ROW_BUILDERS[keys] = build
    return build


_ROW_BUILDERS: dict[tuple[Any, ...], Callable[..., Map]] = {}


def decode(data: Any) -> Any:
    """The inverse of ``encode``; ``ValueError`` for malformed data."""
    t = type(data)
    if t in _PLAIN_ATOMS:  # atoms decode to themselves (a long string is shared only with
        return data  # a later ~ref inside the same value, and an atom has none)
    if t is dict and len(data) == 1:
        small = _small(data)
        if small is not None:
            return small
    try:
        return _Decoder().decode(data)
    except RecursionError:
        raise ValueError("malformed encoded value: nested too deeply") from None


_PLAIN_ATOMS = frozenset({int, float, bool, type(None), str})
_SMALL = 64
"""Maps of at most this many entries take ``_small``'s path."""


def _small(data: dict[str, Any]) -> Any:
    """The usual small values without the general decoder: a keyword, an op handle, a map of
    keyword keys to atoms (a tool's record); None for anything else (then ``_Decoder``, which
    gives the same value)."""
    ((tag, body),) = data.items()
    if tag == "~m":
        if type(body) is not list or len(body) > 2 * _SMALL or len(body) % 2:
            return None
        keys = body[0::2]
        values = body[1::2]
        if not _DICT_ONLY.issuperset(map(type, keys)) or \
                not _PLAIN_ATOMS.issuperset(map(type, values)):
            return None
        names = list(map(_keyword_name, keys))
        if not _STR_ONLY.issuperset(map(type, names)):
            return None
        return Map(zip(map(keyword_of_str, names), values))
    if tag == "~k" and type(body) is str:
        return keyword_of_str(body)
    if tag == "~op" and type(body) is list and len(body) == 2 and \
            type(body[0]) is str and type(body[1]) is str:
        return OpHandle(body[0], body[1])
    return None


def _keyword_name(key: dict[str, Any]) -> Any:
    return key.get("~k") if len(key) == 1 else None


_DICT_ONLY = frozenset({dict})
_STR_ONLY = frozenset({str})


class _Decoder:
    __slots__ = ("table",)

    def __init__(self) -> None:
        self.table: list[Any] = []

    def decode(self, data: Any) -> Any:
        t = type(data)
        if t is list:
            return self.shared(Vector(map(self.decode, data)))
        if t is str:
            return self.shared(data) if len(data) > _LONG else data
        if t is not dict:
            return data
        if len(data) != 1:
            raise ValueError("malformed encoded value: expected a one-key tag object")
        ((tag, body),) = data.items()
        if tag == "~rows":
            return self.shared(_decode_rows(body))
        if tag == "~ref":
            if type(body) is not int or not 0 <= body < len(self.table):
                raise ValueError(f"malformed encoded value: bad reference {body!r}")
            return self.table[body]
        if tag in _SHARED_TAGS:
            if type(body) is not list:
                raise ValueError(f"malformed encoded value: {tag} needs a list")
            if tag == "~m":
                if len(body) % 2:
                    raise ValueError("malformed encoded value: ~m needs key/value pairs")
                return self.shared(self.map(body))
            items = map(self.decode, body)
            return self.shared(List(items) if tag == "~l" else Set(items))
        decoder = _DECODERS.get(tag)
        if decoder is None:
            raise ValueError(f"malformed encoded value: unknown tag {tag!r}")
        return decoder(body)

    def map(self, flat: list[Any]) -> Map:
        it = iter(flat)
        out = Map()
        for k, v in zip(it, it):
            if type(k) is dict and len(k) == 1 and type(k.get("~k")) is str:
                key = keyword_of_str(k["~k"])  # the usual key, without the generic dispatch
            else:
                key = self.decode(k)
            tv = type(v)  # strings go through decode: a long one is counted for ~ref
            out[key] = v if tv is int or tv is float or tv is bool or v is None else self.decode(v)
        return out

    def shared(self, value: Any) -> Any:
        self.table.append(value)
        return value


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
    "~big": lambda text: int(text, 16),
    "~re": _decode_regex,
    "~fn": OpaqueFunction,
    "~op": _decode_op,
}
