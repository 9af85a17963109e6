"""Token text → atom forms for the reader: numbers, symbols, keywords, strings, characters.

Each function takes the text of one token (as Clojure's LispReader delimits it) and returns a hy
model, or raises ``BadToken`` with a message, an LLM-actionable hint, and the offset of the fault
inside the token; the reader turns that into a ``ReadError`` with line and column.

Models are made with ``str.__new__(Symbol, ...)`` and friends: the same objects hy's constructors
build, without their per-call validation (the token has been validated here already).
"""

from __future__ import annotations

import re

from hy.models import Float, Integer, Keyword, Object, String, Symbol

__all__ = [
    "BadToken",
    "CharForm",
    "RegexForm",
    "character",
    "keyword",
    "number",
    "string",
    "symbol",
    "symbolic",
    "to_int",
]


class CharForm(Object):
    """A character literal, ``\\a``; ``.value`` is the one-character string."""

    __match_args__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return type(other) is CharForm and other.value == self.value

    def __hash__(self) -> int:
        return hash(("char", self.value))

    def __repr__(self) -> str:
        return f"CharForm({self.value!r})"


class RegexForm(Object):
    """A regex literal, ``#"..."``; ``.source`` is the pattern text exactly as written."""

    __match_args__ = ("source",)

    def __init__(self, source: str) -> None:
        self.source = source

    def __eq__(self, other: object) -> bool:
        return type(other) is RegexForm and other.source == self.source

    def __hash__(self) -> int:
        return hash(("regex", self.source))

    def __repr__(self) -> str:
        return f"RegexForm({self.source!r})"


class BadToken(Exception):
    """A token that is not valid syntax; ``offset`` is where in the token the fault is."""

    def __init__(self, message: str, hint: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message, self.hint, self.offset = message, hint, offset


# ---------------------------------------------------------------- numbers

_INT = re.compile(
    r"([-+]?)(?:(0)|([1-9][0-9]*)|0[xX]([0-9A-Fa-f]+)|0([0-7]+)"
    r"|([1-9][0-9]?)[rR]([0-9A-Za-z]+)|(0[0-9]+))(N)?"
)
_FLOAT = re.compile(r"[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?(M)?")
_RATIO = re.compile(r"([-+]?[0-9]+)/([0-9]+)")
_NUMBER_HINT = (
    "numbers look like 42, -5, 1.5, 1e3, 0x1F; put a space between a number and a symbol"
)


def number(token: str) -> Object:
    """``42 -5 +5 0x1F 017 2r101 1N`` → Integer; ``1.5 1e3 1.5M`` → Float; ``1/2`` → Float
    (ptclisp has no ratios: an exact ratio like ``4/2`` is the Integer 2)."""
    if token.isdigit() and token.isascii() and (token[0] != "0" or len(token) == 1):
        return int.__new__(Integer, int(token) if len(token) <= 4000 else to_int(token, 10))
    m = _INT.fullmatch(token)
    if m:
        return int.__new__(Integer, _integer(m, token))
    m = _FLOAT.fullmatch(token)
    if m:
        return float.__new__(Float, float(token[:-1] if m.group(3) else token))
    m = _RATIO.fullmatch(token)
    if m:
        numerator, denominator = to_int(m.group(1), 10), to_int(m.group(2), 10)
        if denominator == 0:
            raise BadToken(f"divide by zero in ratio {token}", "the denominator must not be 0")
        if numerator % denominator == 0:
            return int.__new__(Integer, numerator // denominator)
        return float.__new__(Float, numerator / denominator)
    raise BadToken(f"invalid number {token}", _NUMBER_HINT)


def _integer(m: re.Match[str], token: str) -> int:
    sign, zero, dec, hexa, octal, radix, radix_digits, bad_octal, _ = m.groups()
    if bad_octal:
        raise BadToken(
            f"invalid number {token}",
            "a leading 0 makes an octal number (digits 0-7); write the number without the 0",
        )
    if zero:
        value = 0
    elif dec:
        value = to_int(dec, 10)
    elif hexa:
        value = int(hexa, 16)
    elif octal:
        value = int(octal, 8)
    else:
        value = _radix(radix_digits, int(radix), token)
    return -value if sign == "-" else value


def _radix(digits: str, base: int, token: str) -> int:
    try:
        if base > 36:
            raise ValueError
        return to_int(digits, base)
    except ValueError:
        raise BadToken(
            f"invalid number {token}", "radix numbers look like 2r1010 or 16rFF (base 2-36)"
        ) from None


def to_int(digits: str, base: int) -> int:
    """``int(digits, base)`` without Python's 4300-digit guard (Clojure reads any size)."""
    sign = -1 if digits[:1] == "-" else 1
    digits = digits.lstrip("+-")
    if len(digits) <= 4000:
        return sign * int(digits, base)
    value = 0
    for i in range(0, len(digits), 4000):
        chunk = digits[i : i + 4000]
        value = value * base ** len(chunk) + int(chunk, base)
    return sign * value


_SYMBOLIC = {"Inf": float("inf"), "-Inf": float("-inf"), "NaN": float("nan")}


def symbolic(name: str) -> Object:
    """``##Inf ##-Inf ##NaN`` (``name`` is the text after ``##``)."""
    value = _SYMBOLIC.get(name)
    if value is None:
        raise BadToken(f"unknown symbolic value ##{name}", "use ##Inf, ##-Inf or ##NaN")
    return float.__new__(Float, value)


# ---------------------------------------------------------------- symbols and keywords

_DIGITS = frozenset("0123456789")


def _nul(token: str) -> BadToken:
    return BadToken("a NUL character (\\x00) is not allowed outside a string",
                    "remove the NUL characters from the program text", token.index("\x00"))


def symbol(token: str) -> Object:
    """A symbol, kept whole: ``tool/get-orders``, ``clojure.string/join``, ``a.b``, ``/``."""
    if "\x00" in token:
        raise _nul(token)
    if ("/" in token or ":" in token) and not _valid_symbol(token):
        raise BadToken(
            f"invalid symbol {token}",
            "a symbol is name or ns/name (e.g. tool/get-orders); it may not end with : or /, "
            "contain ::, or have a name starting with a digit",
        )
    return str.__new__(Symbol, token)


def _valid_symbol(token: str) -> bool:
    """Clojure's rules: name or ns/name; no trailing ``:``, no ``::``; ``ns//`` names ``/``."""
    if token == "/":
        return True
    if token.endswith(":") or "::" in token:
        return False
    if "/" not in token:
        return True
    ns, _, name = token.rpartition("/")
    if name == "":
        ns = ns[:-1]  # clojure.core// is the symbol / in a namespace
        if not ns or ns.endswith("/"):
            return False
    elif name[0] in _DIGITS:
        return False
    return bool(ns) and ns[0] not in _DIGITS and ns[0] != "/"


def keyword(token: str) -> Object:
    """``:name`` or ``:ns/name`` → Keyword whose ``.name`` is the text after the colon."""
    if "\x00" in token:
        raise _nul(token)
    name = token[1:]
    if name.startswith(":"):
        bare = name.lstrip(":")
        raise BadToken(
            f"auto-resolved keyword {token} is not supported",
            f"write a plain keyword :{bare} or a qualified one :ns/{bare}",
        )
    if not name or not _valid_keyword(name):
        raise BadToken(
            f"invalid keyword {token}", "a keyword is :name or :ns/name, e.g. :status or :order/id"
        )
    form = Keyword.__new__(Keyword)
    form.name = name
    return form


def _valid_keyword(name: str) -> bool:
    if name.endswith(":") or "::" in name:
        return False
    if "/" in name and name != "/":
        ns, _, local = name.partition("/")
        return bool(ns) and bool(local)
    return True


# ---------------------------------------------------------------- strings and characters

_STRING_ESCAPE = re.compile(
    r"\\(u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[0-7]{1,3}|.)",
    re.S,
)
_SIMPLE_ESCAPES = {"t": "\t", "r": "\r", "n": "\n", "\\": "\\", '"': '"', "b": "\b", "f": "\f"}
_ESCAPE_HINT = (
    'string escapes are \\" \\\\ \\n \\t \\r \\b \\f \\uXXXX; write a literal backslash as \\\\'
)


def string(token: str) -> Object:
    """A string literal token (quotes included) → String, Clojure escapes applied.

    ``\\uD83D\\uDE00`` (Java's UTF-16 spelling) becomes one code point; a lone surrogate escape
    stays a lone surrogate, as in Clojure.
    """
    body = token[1:-1]
    if "\\" in body:
        body = _STRING_ESCAPE.sub(_escape, body)
    form = str.__new__(String, body)
    form.brackets = None
    return form


def _escape(m: re.Match[str]) -> str:
    code = m.group(1)
    simple = _SIMPLE_ESCAPES.get(code)
    if simple is not None:
        return simple
    if code[0] in "uU" and len(code) == 11:  # a surrogate pair
        high, low = int(code[1:5], 16), int(code[7:], 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    if code[0] == "u" and len(code) == 5:
        return chr(int(code[1:], 16))
    if code[0] in "01234567" and int(code, 8) <= 0o377:
        return chr(int(code, 8))
    offset = m.start() + 1  # in the token, whose first character is the opening quote
    raise BadToken(f"unsupported escape \\{code[0]} in string", _ESCAPE_HINT, offset)


_CHAR_NAMES = {
    "newline": "\n",
    "space": " ",
    "tab": "\t",
    "backspace": "\b",
    "formfeed": "\f",
    "return": "\r",
}
_CHAR_HINT = (
    "characters are one letter (\\a) or \\newline \\space \\tab \\return \\uXXXX; for text use "
    'a string ("..."); put a space after a character literal'
)


def character(name: str) -> Object:
    """``\\a \\newline \\space \\tab \\uXXXX \\o101`` (``name`` is the text after the backslash)."""
    return CharForm(_char_value(name))


def _char_value(name: str) -> str:
    if len(name) == 1:
        if "\ud800" <= name <= "\udfff":
            raise BadToken("invalid character: a lone surrogate", _CHAR_HINT)
        return name
    named = _CHAR_NAMES.get(name)
    if named is not None:
        return named
    if name[0] == "u" and len(name) == 5 and all(c in "0123456789abcdefABCDEF" for c in name[1:]):
        value = chr(int(name[1:], 16))
        if "\ud800" <= value <= "\udfff":
            raise BadToken(f"invalid character \\{name} (a surrogate)", _CHAR_HINT)
        return value
    if (name[0] == "o" and 2 <= len(name) <= 4 and set(name[1:]) <= set("01234567")
            and int(name[1:], 8) <= 0o377):
        return chr(int(name[1:], 8))
    raise BadToken(f"unsupported character \\{name}", _CHAR_HINT)
