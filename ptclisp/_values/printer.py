"""The printer: ptclisp values → text, the inverse of the reader.

    pr_str(v)     Clojure ``pr-str``: readable — strings quoted and escaped, chars as ``\\a``
    print_str(v)  Clojure ``print``: strings and chars raw, at any depth (``[a b]``)
    str_value(v)  Clojure ``str`` of one value: nil → "", strings/chars raw, ``1.0E10``, else pr

Floats follow Java's ``Double.toString`` (``1.0``, ``0.001``, ``1.0E-4``, ``1.2345678E7``) with
``##Inf``/``##-Inf``/``##NaN``. Sets print their elements sorted (numbers by value, otherwise by
printed text) so output is deterministic across processes; Clojure's own order is hash order.

The walk is iterative (an explicit stack), so a 10,000-deep vector prints without touching
Python's recursion limit. When a run is active, printing charges its meter — a step per value and
the bytes of text produced — so printing a huge or endless lazy sequence ends in a limit error
instead of hanging the host.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .._errors import LimitExceeded
from .._limits import Limits, Meter, current_meter, use_meter
from .codec import OpaqueFunction
from .types import Char, Keyword, LazySeq, List, Regex, Symbol, Vector

__all__ = ["float_str", "pr_str", "print_str", "str_value"]


def pr_str(value: Any) -> str:
    """Clojure ``pr-str``: the readable text of ``value`` (``read_string`` gives it back)."""
    return _render(value, readably=True)


def print_str(value: Any) -> str:
    """What Clojure's ``print`` writes: like ``pr_str`` but strings and characters raw."""
    return _render(value, readably=False)


def str_value(value: Any) -> str:
    """Clojure ``(str value)`` for one value: nil → "", strings and chars raw, else printed."""
    t = type(value)
    if t is str:
        return value
    if value is None:
        return ""
    if t is Char:
        return value.ch
    if t is float:
        return float_str(value, readably=False)
    if t is Regex:
        return value.source
    return _render(value, readably=True)


def float_str(x: float, readably: bool = True) -> str:
    """Java ``Double.toString``; non-finite values as ``##Inf`` (readably) or ``Infinity``."""
    if 1e-3 <= x < 1e7 or -1e7 < x <= -1e-3:
        return repr(x)  # Python's shortest repr is plain decimal in this range, like Java's
    if x != x:
        return "##NaN" if readably else "NaN"
    if x in (math.inf, -math.inf):
        sign = "-" if x < 0 else ""
        return f"##{sign}Inf" if readably else f"{sign}Infinity"
    magnitude = abs(x)
    if magnitude == 0.0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    mantissa, _, exponent = repr(magnitude).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    significant = digits.lstrip("0")
    point = len(whole) + (int(exponent) if exponent else 0)
    exp10 = point - (len(digits) - len(significant)) - 1
    significant = significant.rstrip("0") or "0"
    if len(significant) == 1:  # Java prints two digits, the closer pair: 4.9E-324, not 5.0E-324
        pair, _, _ = f"{magnitude:.1e}".partition("e")
        significant = pair.replace(".", "").rstrip("0") or "0"
    sign = "-" if x < 0 else ""
    return f"{sign}{significant[0]}.{significant[1:] or '0'}E{exp10}"


# ---------------------------------------------------------------- atoms

_STRING_ESCAPES = str.maketrans(
    {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\f": "\\f", "\b": "\\b"}
)
_CHAR_NAMES = {
    "\n": "newline",
    " ": "space",
    "\t": "tab",
    "\b": "backspace",
    "\f": "formfeed",
    "\r": "return",
}


def _char_str(ch: str) -> str:
    named = _CHAR_NAMES.get(ch)
    if named is not None:
        return "\\" + named
    if (not ch.isprintable() or ch.isspace()) and ord(ch) <= 0xFFFF:
        return f"\\u{ord(ch):04X}"  # readable and visible: \u00A0 rather than an invisible char
    return "\\" + ch


_INT_DIGITS_SAFE = 10**4000
_STEPS_PER_UNIT = 25
"""Steps per (thousand digits)² of a huge integer's decimal conversion: a unit takes ~9 us,
so a conversion costs ~0.36 us a step, in line with the interpreter's own steps."""
_SECONDS_PER_UNIT = 9e-6


def _int_str(n: int) -> str:
    if -_INT_DIGITS_SAFE < n < _INT_DIGITS_SAFE:
        return str(n)
    digits = int(n.bit_length() * 0.30103) + 1
    meter = _current_meter()
    if meter is not None:  # conversion is quadratic in the digit count: charge for it up front
        units = (digits // 1000) ** 2  # ~9 us each (measured): 1M digits take ~9 s
        meter.tick(units * _STEPS_PER_UNIT)
        meter.alloc(digits)
        meter.expect(units * _SECONDS_PER_UNIT)
    return ("-" if n < 0 else "") + _big_digits(abs(n), digits)


def _big_digits(n: int, digits: int) -> str:
    """Decimal digits of a huge ``n >= 0`` with at most ``digits`` digits (Python refuses
    ``str()`` past 4300 digits); divide and conquer on a power of ten."""
    if digits <= 4000:
        return str(n)
    half = digits // 2
    high, low = divmod(n, 10**half)
    low_text = _big_digits(low, half)
    if not high:
        return low_text
    return _big_digits(high, digits - half + 1) + low_text.zfill(half)


def _regex_str(source: str) -> str:
    """``#"src"``; an unescaped ``"`` in the source is written ``\\"`` (same pattern) so the text
    stays readable — Clojure prints it bare, which its own reader then cannot read."""
    if '"' not in source:
        return '#"' + source + '"'
    out, escaped = [], False
    for ch in source:
        if ch == '"' and not escaped:
            out.append("\\")
        out.append(ch)
        escaped = ch == "\\" and not escaped
    return '#"' + "".join(out) + '"'


def _function_str(f: Any) -> str:
    name = getattr(f, "__name__", None)
    if not isinstance(name, str) or not name or name == "<lambda>":
        name = "fn"
    return f"#function[{name}]"


# ---------------------------------------------------------------- the iterative walk
#
# The work stack holds two kinds of items: text already rendered (type ``str`` — atoms are
# rendered as soon as their collection is opened, so a string *value* never sits on the stack)
# and collections still to open. Collections of atoms only are rendered in one join.


def _current_meter() -> Meter | None:
    try:
        return current_meter()
    except RuntimeError:
        return None  # no run active: print without charging


_ELEMENT_END, _SET_END = object(), object()  # markers for sets holding collections


RENDER_LIMITS = Limits(max_steps=1_000_000, timeout_s=10.0, max_memory=64 * 2**20)
"""The budget of printing outside a run (a host printing a ``Result``'s value): a value with
shared structure can be tiny in memory and astronomically long as text."""


def _render(value: Any, readably: bool) -> str:
    atoms = _READABLE_ATOMS if readably else _RAW_ATOMS
    atom = atoms.get(type(value))
    if atom is not None and (type(value) is not int or abs(value) < _INT_DIGITS_SAFE):
        return atom(value)
    meter = _current_meter()
    if meter is None:  # no run active: print under a budget of its own
        meter = Meter(RENDER_LIMITS)
        try:
            with use_meter(meter):
                return _render_metered(value, atoms, meter)
        except LimitExceeded as exc:
            raise LimitExceeded(
                f"the value is too large to print ({exc.message})",
                code="output_limit",
                hint="print a summary (counts, a sample with take) instead of the whole value",
            ) from None
    return _render_metered(value, atoms, meter)


def _render_metered(value: Any, atoms: dict[type, Any], meter: Meter) -> str:
    try:
        return _render_shallow(value, atoms, meter, 0)
    except _TooDeep:
        return _render_deep(value, atoms, meter)


# ---------------------------------------------------------------- shallow values: recursion
#
# Most values are a few levels deep; plain recursion prints them ~2x faster than the explicit
# stack. Past _FAST_DEPTH levels it gives up and the iterative walk starts over (the meter may
# then be charged twice for the part already printed: limits only trip earlier, never later).

_FAST_DEPTH = 48


class _TooDeep(Exception):
    pass


def _render_shallow(value: Any, atoms: dict[type, Any], meter: Meter | None, depth: int) -> str:
    t = type(value)
    atom = atoms.get(t)
    if atom is not None:
        return atom(value)
    if depth > _FAST_DEPTH:
        raise _TooDeep
    if t is Vector or t is list:
        return "[" + " ".join(_shallow_parts(value, atoms, meter, depth)) + "]"
    if t is List or t is tuple:
        return "(" + " ".join(_shallow_parts(value, atoms, meter, depth)) + ")"
    if t is LazySeq:
        items = _realize(value, meter)
        return "(" + " ".join(_shallow_parts(items, atoms, meter, depth)) + ")"
    if isinstance(value, dict):
        keys = _shallow_parts(list(value), atoms, meter, depth)
        values = _shallow_parts(list(value.values()), atoms, meter, depth)
        return "{" + ", ".join([k + " " + v for k, v in zip(keys, values)]) + "}"
    if isinstance(value, (frozenset, set)):
        if _all_numbers(value):
            return "#{" + " ".join(_shallow_parts(sorted(value), atoms, meter, depth)) + "}"
        return "#{" + " ".join(sorted(_shallow_parts(value, atoms, meter, depth))) + "}"
    return _other_str(value)


def _shallow_parts(
    items: Any, atoms: dict[type, Any], meter: Meter | None, depth: int
) -> list[str]:
    get = atoms.get
    parts = []
    size = 0
    for x in items:
        render = get(type(x))
        if render is not None:
            text = render(x)
            size += len(text) + 1
        else:
            text = _render_shallow(x, atoms, meter, depth + 1)
        parts.append(text)
    if meter is not None:  # Meter.tick and Meter.alloc, inlined: this runs per collection
        meter.fuel -= len(parts)
        if meter.fuel < 0:
            meter.refuel()
        meter.memory += size
        if meter.memory > meter.limits.max_memory:
            meter.alloc(0)  # raises memory_limit
    return parts


# ---------------------------------------------------------------- deep values: explicit stack


def _render_deep(value: Any, atoms: dict[type, Any], meter: Meter | None) -> str:
    out: list[str] = []
    outer_outs: list[list[str]] = []  # a set of collections prints each element on its own
    set_elements: list[list[str]] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        t = type(item)
        text: str | None
        if t is str:
            out.append(item)
            continue
        if t is Vector or t is list:
            text = _open_sequence(stack, item, atoms, meter, "[", "]")
        elif t is List or t is tuple:
            text = _open_sequence(stack, item, atoms, meter, "(", ")")
        elif t is LazySeq:
            text = _open_sequence(stack, _realize(item, meter), atoms, meter, "(", ")")
        elif isinstance(item, dict):
            text = _open_map(stack, item, atoms, meter)
        elif isinstance(item, (frozenset, set)):
            text = _open_set(stack, item, atoms, meter)
            if text is None:  # elements are collections: render each into its own buffer
                outer_outs.append(out)
                out = []
                set_elements.append([])
                continue
        elif item is _ELEMENT_END:
            set_elements[-1].append("".join(out))
            out = []
            continue
        elif item is _SET_END:
            elements = set_elements.pop()
            elements.sort()
            out = outer_outs.pop()
            text = "#{" + " ".join(elements) + "}"
        else:
            text = atoms.get(t, _other_str)(item)
        out.append(text)
    return "".join(out)


def _render_children(items: Any, atoms: dict[type, Any], meter: Meter | None) -> list[Any]:
    """Atoms rendered to text; collections left as they are, to be opened later."""
    if meter is not None:
        meter.tick(len(items))
    get = atoms.get
    parts = []
    for x in items:
        render = get(type(x))
        parts.append(render(x) if render is not None else x)
    if meter is not None:
        meter.alloc(sum(len(p) + 1 for p in parts if type(p) is str))
    return parts


def _all_text(parts: list[Any]) -> bool:
    for p in parts:  # noqa: SIM110 - hot path: a loop beats all() over a generator
        if type(p) is not str:
            return False
    return True


def _open_sequence(
    stack: list[Any], items: Any, atoms: dict[type, Any], meter: Meter | None, opener: str,
    closer: str,
) -> str:
    parts = _render_children(items, atoms, meter)
    if _all_text(parts):
        return opener + " ".join(parts) + closer
    pending: list[Any] = []
    text = opener  # runs of text are merged: fewer items on the stack
    for i, part in enumerate(parts):
        if i:
            text += " "
        if type(part) is str:
            text += part
        else:
            pending += (text, part)
            text = ""
    pending.append(text + closer)
    pending.reverse()
    stack.extend(pending)
    return ""


def _open_map(
    stack: list[Any], mapping: dict[Any, Any], atoms: dict[type, Any], meter: Meter | None
) -> str:
    keys = _render_children(list(mapping), atoms, meter)
    values = _render_children(list(mapping.values()), atoms, meter)
    if _all_text(keys) and _all_text(values):
        return "{" + ", ".join([k + " " + v for k, v in zip(keys, values)]) + "}"
    pending: list[Any] = []
    text = "{"
    for i, (key, value) in enumerate(zip(keys, values)):
        if i:
            text += ", "
        if type(key) is str:
            text += key
        else:
            pending += (text, key)
            text = ""
        text += " "
        if type(value) is str:
            text += value
        else:
            pending += (text, value)
            text = ""
    pending.append(text + "}")
    pending.reverse()
    stack.extend(pending)
    return ""


def _open_set(
    stack: list[Any], items: Any, atoms: dict[type, Any], meter: Meter | None
) -> str | None:
    """Sets print sorted: numbers by value, anything else by printed text."""
    if _all_numbers(items):
        return "#{" + " ".join(_render_children(sorted(items), atoms, meter)) + "}"
    parts = _render_children(items, atoms, meter)
    if _all_text(parts):
        return "#{" + " ".join(sorted(parts)) + "}"
    stack.append(_SET_END)
    for part in parts:
        stack.append(_ELEMENT_END)
        stack.append(part)
    return None


def _realize(seq: LazySeq, meter: Meter | None) -> list[Any]:
    """Realise a lazy seq element by element, charging as it goes (it may be endless)."""
    if meter is None:
        return list(seq)
    items = []
    for item in seq:
        meter.tick()
        items.append(item)
    meter.alloc_items(len(items))
    return items


def _all_numbers(items: Any) -> bool:
    return all((type(x) is int or (type(x) is float and x == x)) for x in items)


def _other_str(item: Any) -> str:
    if type(item) is OpaqueFunction:
        return item.printed
    if callable(item):
        return _function_str(item)
    custom = getattr(item, "__pr_str__", None)  # op handles print as #op["id"] (ptclisp._host)
    if custom is not None:
        return custom()
    return f"#object[{type(item).__name__}]"


def _quote(s: str) -> str:
    return '"' + s.translate(_STRING_ESCAPES) + '"'


def _keyword_str(k: Keyword) -> str:
    return ":" + k.ns + "/" + k.name if k.ns else ":" + k.name


_READABLE_ATOMS: dict[type, Callable[[Any], str]] = {
    str: _quote,
    int: _int_str,
    Keyword: _keyword_str,
    float: float_str,
    type(None): lambda v: "nil",
    bool: lambda v: "true" if v else "false",
    Symbol: lambda v: v.qualified,
    Char: lambda v: _char_str(v.ch),
    Regex: lambda v: _regex_str(v.source),
    OpaqueFunction: lambda v: v.printed,
}
_RAW_ATOMS: dict[type, Callable[[Any], str]] = {
    **_READABLE_ATOMS,
    str: lambda v: v,
    Char: lambda v: v.ch,
}
