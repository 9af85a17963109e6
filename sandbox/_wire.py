"""The wire formats of the outer tiers (host and guest; staged into the wasm guest too).

- process tier: msgpack. An integer outside 64 bits crosses as ext type 1 (its hex text).
- wasm tier: JSON text. Inside the guest there is no C msgpack, and the pure-Python one decodes
  ~8x slower than the guest's C ``json``; WIT ``string`` is also copied in one block, where
  ``list<u8>`` goes through wasmtime-py element by element (measured: 0.8 s for 250 KB).

Either way a ptclisp value left inside a record (a tool-call result that was a set, say) is
written in its host form (``to_python``). ``*_exact`` tell whether plain data survives a format
unchanged; data that does not (sets, tuples, non-string keys...) crosses tagged by ``_codec``.
"""

from __future__ import annotations

import json
from typing import Any

import msgpack

from ptclisp import to_python

__all__ = [
    "dumps",
    "dumps_result",
    "json_exact",
    "loads",
    "msgpack_exact",
    "pack_result",
    "packb",
    "unpackb",
]

_BIG_INT = 1
_LONE = "surrogatepass"  # strings may hold lone surrogates ("a\ud800b"): carried as they are
_INT_RANGE = (-(2**63), 2**64)


def _host_form(obj: Any) -> Any:
    return to_python(obj)


def _big_ints_tagged(obj: Any) -> Any:
    t = type(obj)
    if t is int:
        low, high = _INT_RANGE
        # in hex: decimal text of an int over 4,300 digits is refused (sys.int_max_str_digits)
        return obj if low <= obj < high else msgpack.ExtType(_BIG_INT, format(obj, "x").encode())
    if t is dict:
        return {_big_ints_tagged(k): _big_ints_tagged(v) for k, v in obj.items()}
    if t is list or t is tuple:
        return [_big_ints_tagged(x) for x in obj]
    if t in (str, bytes, float, bool) or obj is None:
        return obj
    return _big_ints_tagged(to_python(obj))


def _ext(code: int, data: bytes) -> Any:
    if code == _BIG_INT:
        return int(data, 16)
    return msgpack.ExtType(code, data)


def packb(obj: Any) -> bytes:
    try:
        return msgpack.packb(obj, use_bin_type=True, unicode_errors=_LONE, default=_host_form)
    except OverflowError:  # rare: only then walk the message
        return msgpack.packb(_big_ints_tagged(obj), use_bin_type=True, unicode_errors=_LONE,
                             default=_host_form)


def unpackb(data: bytes) -> Any:
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False, unicode_errors=_LONE,
                               ext_hook=_ext)
    except TypeError:  # a map key that is an array (a tuple where it was packed): rare, so
        # only then decode map by map, such keys as tuples
        return msgpack.unpackb(data, raw=False, strict_map_key=False, unicode_errors=_LONE,
                               ext_hook=_ext, object_pairs_hook=_tuple_keyed)


def _tuple_keyed(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    return {(_frozen(k) if type(k) is list else k): v for k, v in pairs}


def _frozen(item: Any) -> Any:
    return tuple(_frozen(x) for x in item) if type(item) is list else item


def pack_result(message: dict[str, Any], result_key: str | None = None) -> bytes:
    """Pack a message carrying a ``Result.to_dict()``; if it cannot be packed, an error instead."""
    try:
        return packb(message)
    except (TypeError, ValueError, OverflowError) as exc:
        error = {"code": "internal_error", "message": f"the result cannot be sent: {exc}",
                 "hint": "return plain data (maps, vectors, strings, numbers)"}  # fmt: skip
        failed = {"status": "error", "error": error}
        if result_key is None:
            return packb(failed)
        return packb({**message, result_key: failed})


def msgpack_exact(value: Any) -> bool:
    """True when ``unpackb(packb(value)) == value``: exact types only (a tuple would come back a
    list — unhashable as a key; a subclass as its base), as ``strict_types`` packs them."""
    try:
        msgpack.packb(value, use_bin_type=True, unicode_errors=_LONE, strict_types=True)
        return True
    except (TypeError, ValueError, OverflowError):
        return False


def json_exact(value: Any) -> bool:
    """True when ``loads(dumps(value)) == value`` (no tuple, set, non-string key, NaN, bytes, int
    over 4,300 digits, subclass of dict or list). Checked without decoding a copy: a walk of the
    containers (their keys' and elements' types, in C) and one ``json.dumps`` for the atoms,
    freed at once — a tool's answer near the memory limit is held once more, not three times."""
    try:
        if not _json_shaped(value):
            return False
        json.dumps(value, allow_nan=False)
        return True
    except (TypeError, ValueError, OverflowError, RecursionError):
        return False


def _json_shaped(value: Any) -> bool:
    """Only exact dicts with string keys, exact lists and JSON atoms (their values unchecked)."""
    stack = [value]
    while stack:
        item = stack.pop()
        t = type(item)
        if t is dict:
            if not _STR_ONLY.issuperset(map(type, item)):
                return False
            items: Any = item.values()
        elif t is list:
            items = item
        else:
            return t in _JSON_ATOMS
        kinds = set(map(type, items))
        if not kinds <= _JSON_KINDS:
            return False
        if dict in kinds or list in kinds:
            stack.extend(x for x in items if type(x) is dict or type(x) is list)
    return True


_STR_ONLY = frozenset({str})
_JSON_ATOMS = frozenset({str, int, float, bool, type(None)})
_JSON_KINDS = _JSON_ATOMS | {dict, list}


def _host_tree(obj: Any) -> Any:
    t = type(obj)
    if t is dict:
        return {k: _host_tree(v) for k, v in obj.items()}
    if t is list:
        return [_host_tree(x) for x in obj]
    if t in (str, int, float, bool) or obj is None:
        return obj
    return to_python(obj)  # a ptclisp value (a map with keyword keys, a set...) → host data


def dumps(obj: Any) -> str:
    try:
        return json.dumps(obj, default=_host_form, separators=(",", ":"))
    except TypeError:  # e.g. a keyword-keyed map inside a record: JSON keys must be strings
        return json.dumps(_host_tree(obj), default=_host_form, separators=(",", ":"))


def loads(text: str) -> Any:
    return json.loads(text, parse_int=_parse_int)


def _parse_int(text: str) -> int:
    """JSON integer text → int, also past CPython's 4,300-digit cap on decimal text (which a
    guest's tool-call record of a big result may hold): through ``Decimal``, which has none."""
    if len(text) < 4_000:
        return int(text)
    import decimal

    with decimal.localcontext() as context:
        context.prec = len(text) + 1
        return int(decimal.Decimal(text))


def dumps_result(result: dict[str, Any]) -> str:
    """JSON of a ``Result.to_dict()``; if it cannot be written, an error result instead."""
    try:
        return dumps(result)
    except (TypeError, ValueError, OverflowError) as exc:
        error = {"code": "internal_error", "message": f"the result cannot be sent: {exc}",
                 "hint": "return plain data (maps, vectors, strings, numbers)"}  # fmt: skip
        return dumps({"status": "error", "error": error})
