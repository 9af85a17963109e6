"""Text helpers shared by the string and regex builtins: printer access and Java whitespace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._limits import current_meter
from .._values.types import Char
from ._support import type_error, type_name

__all__ = ["JAVA_WHITESPACE", "as_str", "printer", "str_of"]

# Java's Character.isWhitespace: Unicode space separators except the non-breaking ones.
JAVA_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2008\u2009\u200a\u2028\u2029\u205f\u3000"
)

_printer_fns: dict[str, Callable[[Any], str]] = {}


def printer(name: str) -> Callable[[Any], str]:
    """A function of ``ptclisp._printer`` (imported on first use: the printer imports the core)."""
    fn = _printer_fns.get(name)
    if fn is None:
        from .._values import printer as _printer

        fn = getattr(_printer, name, None) or _printer.str_value
        _printer_fns[name] = fn
    return fn


def str_of(x: Any) -> str:
    """Clojure ``str`` of one value: nil → "", strings and chars raw, else printed."""
    t = type(x)
    if t is str:
        return x
    if x is None:
        return ""
    if t is Char:
        return x.ch
    return printer("str_value")(x)


def as_str(fname: str, x: Any) -> str:
    """Argument ``x`` of string function ``fname``; chars are accepted as one-char strings."""
    t = type(x)
    if t is str:
        return x
    if t is Char:
        return x.ch
    type_error(f"{fname}: expected a string, got {type_name(x)}",
               hint="convert with (str x) first, and check for nil")


def charge_str(s: str) -> str:
    current_meter().alloc_str(len(s))
    return s


def joined(sep: str, parts: list[str]) -> str:
    """``sep.join(parts)``, charged *before* it is built (a long separator times many parts)."""
    size = sum(map(len, parts)) + len(sep) * max(len(parts) - 1, 0)
    current_meter().alloc_str(size)
    return sep.join(parts)
