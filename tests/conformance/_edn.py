"""A small EDN reader for comparing printed Clojure/ptclisp values with Clojure's `=` rules.

``parse`` reads one printed value (what ``pr-str`` produces) into Python data with distinct types
for the distinctions Clojure equality keeps: ``Keyword``, ``Symbol``, ``Char`` (not ``str``),
``List``/``Vector`` (tuples), ``EdnMap``/``EdnSet`` (tuples of entries, order as printed),
``Regex``, ``Tagged``. ``canonical`` turns a parsed value into a hashable form where equal means
Clojure-``=``: lists equal vectors with the same elements, maps and sets ignore order, ``1`` differs
from ``1.0`` and from ``true``, ``1`` equals ``1N``. Two deliberate departures, for testing: NaN
equals NaN, and regexes compare by their source (Clojure compares them by identity).
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

__all__ = [
    "Char",
    "EdnError",
    "EdnMap",
    "EdnSet",
    "Keyword",
    "List",
    "Regex",
    "Symbol",
    "Tagged",
    "Vector",
    "canonical",
    "edn_equal",
    "parse",
]


class EdnError(ValueError):
    """Text that is not one readable EDN value."""


class Keyword(str):
    def __repr__(self) -> str:
        return f"Keyword({str.__repr__(self)})"


class Symbol(str):
    def __repr__(self) -> str:
        return f"Symbol({str.__repr__(self)})"


class Char(str):
    def __repr__(self) -> str:
        return f"Char({str.__repr__(self)})"


class Regex(str):
    def __repr__(self) -> str:
        return f"Regex({str.__repr__(self)})"


class List(tuple):
    def __repr__(self) -> str:
        return f"List({tuple.__repr__(self)})"


class Vector(tuple):
    def __repr__(self) -> str:
        return f"Vector({tuple.__repr__(self)})"


class EdnMap(tuple):
    """Map entries as ``(key, value)`` pairs, in printed order."""

    def __repr__(self) -> str:
        return f"EdnMap({tuple.__repr__(self)})"


class EdnSet(tuple):
    """Set elements in printed order."""

    def __repr__(self) -> str:
        return f"EdnSet({tuple.__repr__(self)})"


class Tagged(tuple):
    """``#tag value`` as ``(tag, value)``."""

    def __repr__(self) -> str:
        return f"Tagged({tuple.__repr__(self)})"


_DELIMITERS = set("()[]{}\";,")  # and whitespace
_CHAR_NAMES = {
    "newline": "\n",
    "space": " ",
    "tab": "\t",
    "return": "\r",
    "backspace": "\b",
    "formfeed": "\f",
}
_STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "b": "\b", "f": "\f"}
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_SYMBOLIC = {"Inf": float("inf"), "-Inf": float("-inf"), "NaN": float("nan")}

_INT = re.compile(r"([-+]?)(?:(0[xX][0-9a-fA-F]+)|(0[0-7]+)|([1-9][0-9]?)r([0-9a-zA-Z]+)|(\d+))N?")
_RATIO = re.compile(r"[-+]?\d+/\d+")
_FLOAT = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?M?")


def parse(text: str) -> Any:
    """Read exactly one EDN value from ``text`` (surrounding whitespace allowed)."""
    reader = _Reader(text)
    value = reader.read_value()
    reader.skip_blank()
    if reader.pos != len(text):
        raise EdnError(f"unexpected text after value at {reader.pos}: {text[reader.pos:][:20]!r}")
    return value


def edn_equal(left: str, right: str) -> bool:
    """Whether two printed values are Clojure-``=`` (with the module's testing departures)."""
    return canonical(parse(left)) == canonical(parse(right))


def canonical(value: Any) -> Any:
    """Hashable form of a parsed value where ``==`` follows Clojure ``=``."""
    if value is None:
        return ("nil",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, Fraction):
        return ("ratio", value)
    if isinstance(value, float):
        return ("float", "nan") if value != value else ("float", value)
    if isinstance(value, Decimal):
        return ("decimal", value.normalize())
    for kind, tag in _ATOM_TAGS:
        if isinstance(value, kind):
            return (tag, str(value))
    if isinstance(value, (List, Vector)):
        return ("seq", tuple(canonical(item) for item in value))
    if isinstance(value, EdnMap):
        return ("map", frozenset((canonical(k), canonical(v)) for k, v in value))
    if isinstance(value, EdnSet):
        return ("set", frozenset(canonical(item) for item in value))
    if isinstance(value, Tagged):
        return ("tagged", value[0], canonical(value[1]))
    raise TypeError(f"not a parsed EDN value: {value!r}")


_ATOM_TAGS = ((Keyword, "kw"), (Symbol, "sym"), (Char, "char"), (Regex, "regex"), (str, "str"))


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> EdnError:
        return EdnError(f"{message} at offset {self.pos} in {self.text[:60]!r}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_blank(self) -> None:
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch.isspace() or ch == ",":
                self.pos += 1
            elif ch == ";":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            elif self.text.startswith("#_", self.pos):
                self.pos += 2
                self.read_value()
            else:
                return

    def read_value(self) -> Any:
        self.skip_blank()
        ch = self.peek()
        if not ch:
            raise self.fail("unexpected end of input")
        if ch in _CLOSERS:
            self.pos += 1
            items = self.read_until(_CLOSERS[ch])
            return {"(": List, "[": Vector, "{": self.make_map}[ch](items)
        if ch in ")]}":
            raise self.fail(f"unmatched {ch!r}")
        if ch == '"':
            return self.read_string()
        if ch == "\\":
            return self.read_char()
        if ch == "#":
            return self.read_dispatch()
        return self.read_atom(self.read_token())

    def read_until(self, closer: str) -> list[Any]:
        items = []
        while True:
            self.skip_blank()
            if self.peek() == closer:
                self.pos += 1
                return items
            if not self.peek():
                raise self.fail(f"missing {closer!r}")
            items.append(self.read_value())

    def make_map(self, items: list[Any]) -> EdnMap:
        if len(items) % 2:
            raise self.fail("map literal with an odd number of forms")
        return EdnMap(zip(items[0::2], items[1::2]))

    def read_token(self) -> str:
        start = self.pos
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch in _DELIMITERS or ch.isspace():
                break
            self.pos += 1
        return self.text[start : self.pos]

    def read_string(self) -> str:
        self.pos += 1
        out = []
        while True:
            ch = self.peek()
            if not ch:
                raise self.fail("unterminated string")
            self.pos += 1
            if ch == '"':
                return "".join(out)
            out.append(self.read_escape() if ch == "\\" else ch)

    def read_escape(self) -> str:
        code = self.peek()
        self.pos += 1
        if code in _STRING_ESCAPES:
            return _STRING_ESCAPES[code]
        if code == "u":
            digits = self.text[self.pos : self.pos + 4]
            self.pos += 4
            return chr(int(digits, 16))
        if code.isdigit():
            match = re.match(r"[0-7]{1,3}", self.text[self.pos - 1 :])
            self.pos += len(match.group()) - 1
            return chr(int(match.group(), 8))
        raise self.fail(f"unknown string escape \\{code}")

    def read_char(self) -> Char:
        self.pos += 1
        if not self.peek():
            raise self.fail("backslash at end of input")
        first = self.text[self.pos]
        self.pos += 1
        token = first + self.read_token()
        if len(token) == 1:
            return Char(token)
        if token in _CHAR_NAMES:
            return Char(_CHAR_NAMES[token])
        if token[0] == "u" and len(token) == 5:
            return Char(chr(int(token[1:], 16)))
        if token[0] == "o" and 2 <= len(token) <= 4:
            return Char(chr(int(token[1:], 8)))
        raise self.fail(f"unknown character literal \\{token}")

    def read_dispatch(self) -> Any:
        self.pos += 1
        ch = self.peek()
        if ch == "{":
            self.pos += 1
            return EdnSet(self.read_until("}"))
        if ch == '"':
            return Regex(self.read_regex())
        if ch == "#":
            self.pos += 1
            token = self.read_token()
            if token not in _SYMBOLIC:
                raise self.fail(f"unknown symbolic value ##{token}")
            return _SYMBOLIC[token]
        if ch == ":":
            return self.read_namespaced_map()
        tag = self.read_token()
        if not tag:
            raise self.fail(f"unknown dispatch #{ch}")
        return Tagged((Symbol(tag), self.read_value()))

    def read_regex(self) -> str:
        start = self.pos + 1
        self.pos = start
        while True:
            ch = self.peek()
            if not ch:
                raise self.fail("unterminated regex")
            if ch == '"':
                self.pos += 1
                return self.text[start : self.pos - 1]
            self.pos += 2 if ch == "\\" else 1

    def read_namespaced_map(self) -> EdnMap:
        self.pos += 1
        namespace = self.read_token()
        self.skip_blank()
        if self.peek() != "{":
            raise self.fail("namespaced map without a map")
        self.pos += 1
        entries = self.make_map(self.read_until("}"))
        return EdnMap((self.qualify(namespace, k), v) for k, v in entries)

    @staticmethod
    def qualify(namespace: str, key: Any) -> Any:
        if isinstance(key, Keyword) and "/" not in key:
            return Keyword(f"{namespace}/{key}")
        if isinstance(key, Keyword) and key.startswith("_/"):
            return Keyword(key[2:])
        return key

    def read_atom(self, token: str) -> Any:
        if not token:
            raise self.fail(f"unexpected character {self.peek()!r}")
        if token in ("nil", "true", "false"):
            return {"nil": None, "true": True, "false": False}[token]
        if token[0] == ":":
            if len(token) == 1:
                raise self.fail("empty keyword")
            return Keyword(token[1:])
        if token[0].isdigit() or (token[0] in "+-" and token[1:2].isdigit()):
            return self.read_number(token)
        return Symbol(token)

    def read_number(self, token: str) -> Any:
        match = _INT.fullmatch(token)
        if match:
            sign, hexa, octal, radix, radix_digits, decimal = match.groups()
            if hexa:
                number = int(hexa[2:], 16)
            elif octal:
                number = int(octal, 8)
            elif radix:
                number = int(radix_digits, int(radix))
            else:
                number = int(decimal)
            return -number if sign == "-" else number
        if _RATIO.fullmatch(token):
            return Fraction(token)
        if _FLOAT.fullmatch(token):
            return Decimal(token[:-1]) if token.endswith("M") else float(token)
        raise self.fail(f"invalid number {token!r}")
