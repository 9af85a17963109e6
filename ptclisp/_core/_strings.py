"""Strings: str, subs, format, name/keyword/symbol, parsing, and clojure.string/*.

Strings are Python ``str``; a string is a sequence of ``Char``s for seq functions. Every string
built here is charged (``alloc_str``) — before it is built when its size is not bounded by the
inputs (format widths, replace).
"""

from __future__ import annotations

import decimal
import re
from typing import Any

from .._errors import EvalError
from .._limits import SLOT_BYTES, current_meter
from .._values.types import Char, Keyword, Regex, Symbol, Vector, keyword_of_str
from ._registry import builtin
from ._support import char, invalid_args, items, to_int_index, type_error, type_name
from ._text import JAVA_WHITESPACE, as_str, charge_str, joined, printer, str_of


@builtin("str", arglists="([] [x] [x & ys])",
         doc="Concatenation of the arguments as text; nil is \"\", strings and chars are used raw.",
         category="strings")
def str_(*args: Any) -> str:
    if len(args) == 1 and type(args[0]) is str:
        return args[0]
    return joined("", [x if type(x) is str else str_of(x) for x in args])


def _printed(fn_name: str, args: tuple[Any, ...], end: str = "") -> str:
    fn = printer(fn_name)
    return joined(" ", [*map(fn, args)]) + end


@builtin("pr-str", arglists="([& xs])",
         doc="The readable printed form of the arguments, space-separated.",
         category="strings")
def pr_str(*args: Any) -> str:
    return _printed("pr_str", args)


@builtin("prn-str", arglists="([& xs])", doc="Like pr-str, followed by a newline.",
         category="strings")
def prn_str(*args: Any) -> str:
    return _printed("pr_str", args, "\n")


@builtin("print-str", arglists="([& xs])", doc="The human-readable printed form of the arguments.",
         category="strings")
def print_str(*args: Any) -> str:
    return _printed("print_str", args)


@builtin("println-str", arglists="([& xs])", doc="Like print-str, followed by a newline.",
         category="strings")
def println_str(*args: Any) -> str:
    return _printed("print_str", args, "\n")


def _index(fname: str, i: Any) -> int:
    return to_int_index(i, fname)


@builtin("subs", arglists="([s start] [s start end])",
         doc="The substring of s from start (inclusive) to end (exclusive, default the end).",
         category="strings")
def subs(s: Any, start: Any, end: Any = None) -> str:
    s = as_str("subs", s)
    start = _index("subs", start)
    end = len(s) if end is None else _index("subs", end)
    if not 0 <= start <= end <= len(s):
        raise EvalError(f"subs: range [{start}, {end}) out of bounds for a string of {len(s)}",
                        code="index_out_of_bounds",
                        hint="check (count s) before taking a substring")
    return charge_str(s[start:end])


@builtin("name", arglists="([x])",
         doc="The name of a keyword or symbol (without namespace), or the string itself.",
         category="strings")
def name(x: Any) -> str:
    t = type(x)
    if t is str:
        return x
    if t is Keyword or t is Symbol:
        return x.name
    type_error(f"name: expected a keyword, symbol or string, got {type_name(x)}")


@builtin("namespace", arglists="([x])", doc="The namespace of a keyword or symbol, or nil.",
         category="strings")
def namespace(x: Any) -> Any:
    if type(x) is Keyword or type(x) is Symbol:
        return x.ns
    type_error(f"namespace: expected a keyword or symbol, got {type_name(x)}")


@builtin("keyword", arglists="([name] [ns name])",
         doc="The keyword with the given name (\"a\" → :a, \"ns/a\" → :ns/a); nil for non-names.",
         category="strings")
def keyword(*args: Any) -> Any:
    if len(args) == 2:
        ns, nm = args
        return Keyword(as_str("keyword", nm), None if ns is None else as_str("keyword", ns))
    if len(args) != 1:
        raise TypeError(f"wrong number of arguments ({len(args)}) passed to keyword")
    x = args[0]
    t = type(x)
    if t is Keyword:
        return x
    if t is str:
        return keyword_of_str(x)  # Keyword.parse, cached: the same keyword
    if t is Symbol:
        return Keyword(x.name, x.ns)
    return None


@builtin("symbol", arglists="([name] [ns name])", doc="The symbol with the given name.",
         category="strings")
def symbol(*args: Any) -> Symbol:
    if len(args) == 2:
        ns, nm = args
        return Symbol(as_str("symbol", nm), None if ns is None else as_str("symbol", ns))
    x = args[0] if len(args) == 1 else None
    if type(x) is Symbol:
        return x
    if type(x) is Keyword:
        return Symbol(x.name, x.ns)
    text = as_str("symbol", x)
    ns, sep, nm = text.partition("/")
    return Symbol(nm, ns) if sep and ns and nm else Symbol(text)


@builtin("char", arglists="([x])", doc="The character with code x (or x itself if a character).",
         category="strings")
def char_(x: Any) -> Char:
    if type(x) is Char:
        return x
    if type(x) is int and 0 <= x <= 0x10FFFF:
        return char(chr(x))
    type_error(f"char: expected a character code, got {type_name(x)}")


_LONG = re.compile(r"[+-]?[0-9]+")
_DOUBLE = re.compile(
    r"[\x00-\x20]*([+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?))[fFdD]?[\x00-\x20]*"
)


@builtin("parse-long", arglists="([s])",
         doc="The integer written in string s, or nil if it is not one.",
         category="strings")
def parse_long(s: Any) -> Any:
    if type(s) is not str:
        type_error(f"parse-long: expected a string, got {type_name(s)}")
    if _LONG.fullmatch(s) is None:
        return None
    n = int(s)
    return n if -(2**63) <= n < 2**63 else None


@builtin("parse-double", arglists="([s])", doc="The number written in string s as a float, or nil.",
         category="strings")
def parse_double(s: Any) -> Any:
    if type(s) is not str:
        type_error(f"parse-double: expected a string, got {type_name(s)}")
    m = _DOUBLE.fullmatch(s)
    return float(m.group(1)) if m else None


@builtin("parse-boolean", arglists="([s])", doc="true for \"true\", false for \"false\", else nil.",
         category="strings")
def parse_boolean(s: Any) -> Any:
    if type(s) is not str:
        type_error(f"parse-boolean: expected a string, got {type_name(s)}")
    return {"true": True, "false": False}.get(s)


# ---------------------------------------------------------------- format

_SPEC = re.compile(r"%(?:(\d+)\$)?([-#+ 0,(]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")
_MAX_WIDTH = 1 << 20


def _format_number(value: Any, conv: str, flags: str, width: str, precision: str) -> str:
    t = type(value)
    if conv == "d":
        if t is not int:
            type_error(f"format %d needs an integer, got {type_name(value)}",
                       hint="use %.0f for floats, or (long x)")
        return format(value, _py_spec(flags, width, "", "d"))
    if conv in "xXo":
        if t is not int:
            type_error(f"format %{conv} needs an integer, got {type_name(value)}")
        if value < 0 and value >= -(2**63):
            value += 2**64
        return format(value, _py_spec(flags, width, "", "o" if conv == "o" else conv))
    if t is not int and t is not float:
        type_error(f"format %{conv} needs a number, got {type_name(value)}")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        text = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
        if value > 0 and "+" in flags:
            text = "+" + text
        return text.ljust(int(width or 0)) if "-" in flags else text.rjust(int(width or 0))
    if conv == "f":
        return format(_half_up(value, int(precision or "6")), _py_spec(flags, width, "", "f"))
    return format(value, _py_spec(flags, width, precision or "6", conv))


_DECIMALS = decimal.Context(prec=1500)


def _half_up(value: float, places: int) -> decimal.Decimal:
    """Java rounds the shortest decimal form of a double half-up: (format "%.1f" 0.25) is 0.3."""
    exact = decimal.Decimal(repr(value))
    return exact.quantize(decimal.Decimal(1).scaleb(-places), decimal.ROUND_HALF_UP, _DECIMALS)


def _py_spec(flags: str, width: str, precision: str, conv: str) -> str:
    align = "<" if "-" in flags else ""
    sign = "+" if "+" in flags else (" " if " " in flags else "")
    zero = "0" if "0" in flags and not align else ""
    group = "," if "," in flags else ""
    prec = "." + precision if precision else ""
    return f"{align}{sign}{zero}{width}{group}{prec}{conv}"


def _format_one(conv: str, flags: str, width: str, precision: str, value: Any) -> str:
    if conv in "sS":
        text = "null" if value is None else str_of(value)
        if precision:
            text = text[: int(precision)]
        if conv == "S":
            text = text.upper()
    elif conv in "bB":
        text = "false" if value is None or value is False else "true"
    elif conv == "c":
        text = value.ch if type(value) is Char else chr(to_int_index(value, "format"))
    else:
        kind = conv.lower() if conv in "EF" else conv
        text = _format_number(value, kind, flags, width, precision)
        if conv in "EX":
            text = text.upper()
        return text
    w = int(width or 0)
    return text.ljust(w) if "-" in flags else text.rjust(w)


@builtin("format", arglists="([fmt & args])",
         doc="Java-style formatting: %s %d %f %.2f %e %x %o %b %c %% %n "
             "with widths and -,0,+ flags.",
         category="strings")
def format_(fmt: Any, *args: Any) -> str:
    fmt = as_str("format", fmt)
    if "%" in _SPEC.sub("", fmt):
        invalid_args("format: malformed % conversion", hint="write %% for a literal percent sign")
    out: list[str] = []
    pos = 0
    next_arg = 0
    m = current_meter()
    for spec in _SPEC.finditer(fmt):
        out.append(fmt[pos:spec.start()])
        pos = spec.end()
        index, flags, width, precision, conv = spec.groups()
        if conv == "%":
            out.append("%")
            continue
        if conv == "n":
            out.append("\n")
            continue
        if conv not in "sSdfFeExXobBc":
            invalid_args(f"format: unsupported conversion %{conv}",
                         hint="supported: %s %d %f %.Nf %e %x %o %b %c %% %n")
        if (width and int(width) > _MAX_WIDTH) or (precision and int(precision) > 1000):
            invalid_args("format: width or precision too large")
        m.alloc_str(int(width or 0) + int(precision or 0))
        i = int(index) - 1 if index else next_arg
        if not index:
            next_arg += 1
        if not 0 <= i < len(args):
            invalid_args(f"format: missing argument for %{conv}",
                         hint="pass one argument per % conversion")
        out.append(_format_one(conv, flags, width or "", precision or "", args[i]))
    out.append(fmt[pos:])
    return joined("", out)


# ---------------------------------------------------------------- clojure.string


_NONE = object()


def _string_fn(fname: str, arglists: str, doc: str, *aliases: str) -> Any:
    return builtin(f"clojure.string/{fname}", *aliases, arglists=arglists, doc=doc,
                   category="strings")


@_string_fn("join", "([coll] [separator coll])",
            "The items of coll as text, separated by separator.", "join")
def join(a: Any, b: Any = _NONE, *rest: Any) -> str:
    if rest:
        raise TypeError("wrong number of arguments passed to clojure.string/join")
    sep, coll = ("", a) if b is _NONE else (str_of(a), b)
    return joined(sep, [x if type(x) is str else str_of(x) for x in items(coll, "join")])


def _as_regex(fname: str, sep: Any) -> Regex:
    from .._values.regex import compile_regex

    if type(sep) is Regex:
        return sep
    if type(sep) is str or type(sep) is Char:
        return compile_regex("\\Q" + as_str(fname, sep) + "\\E")
    type_error(f"{fname}: expected a regex or a string separator, got {type_name(sep)}")


def java_split(rx: Regex, s: str, limit: int = 0) -> list[str]:
    """Java's String.split: a leading zero-width match gives no empty string; with limit 0,
    trailing empty strings are removed."""
    from .._values.regex import finditer, shape, split_linear

    if limit == 0 and shape(rx)[1] > 0 and rx.pattern.groups == 0:
        # matches never empty, no groups: the engine's split gives Java's parts (minus the
        # trailing empty ones), in C
        split = split_linear(rx, s)
        if split is not None:
            if len(split) == 1:
                return [s]
            while split and split[-1] == "":
                split.pop()
            return split
    parts: list[str] = []
    index = 0
    for m in finditer(rx, s):
        if limit > 0 and len(parts) >= limit - 1:
            break
        if m.end() == 0:
            continue
        parts.append(s[index:m.start()])
        index = m.end()
    if index == 0 and not parts:
        return [s]
    parts.append(s[index:])
    if limit == 0:
        while parts and parts[-1] == "":
            parts.pop()
    return parts


@_string_fn("split", "([s re] [s re limit])",
            "Vector of the parts of s between matches of the regex (or string) re.", "split")
def split(s: Any, sep: Any, limit: Any = 0) -> Vector:
    s = as_str("split", s)
    m = current_meter()
    if type(sep) is str or type(sep) is Char:  # the parts are counted before they are built
        m.alloc(_split_bytes(s.count(as_str("split", sep)) + 1, len(s)))
        parts = java_split(_as_regex("split", sep), s, to_int_index(limit, "split"))
    else:
        parts = java_split(_as_regex("split", sep), s, to_int_index(limit, "split"))
        m.alloc(_split_bytes(len(parts), len(s)))
    return Vector(parts)


def _split_bytes(parts: int, chars: int) -> int:
    """A part is a new string (~56 bytes + its text) in a slot, and a transient regex match."""
    return parts * (SLOT_BYTES + 56 + 72) + chars


@_string_fn("split-lines", "([s])", "Vector of the lines of s (split on \\n or \\r\\n).",
            "split-lines")
def split_lines(s: Any) -> Vector:
    from .._values.regex import compile_regex

    return split(s, compile_regex("\\r?\\n"))


@_string_fn("upper-case", "([s])", "s in upper case.", "upper-case", "upcase")
def upper_case(s: Any) -> str:
    return charge_str(as_str("upper-case", s).upper())


@_string_fn("lower-case", "([s])", "s in lower case.", "lower-case", "downcase")
def lower_case(s: Any) -> str:
    return charge_str(as_str("lower-case", s).lower())


@_string_fn("capitalize", "([s])",
            "s with its first character upper-cased and the rest lower-cased.", "capitalize")
def capitalize(s: Any) -> str:
    s = as_str("capitalize", s)
    return charge_str(s[:1].upper() + s[1:].lower())


@_string_fn("trim", "([s])", "s without leading and trailing whitespace.", "trim")
def trim(s: Any) -> str:
    return as_str("trim", s).strip(JAVA_WHITESPACE)


@_string_fn("triml", "([s])", "s without leading whitespace.", "triml")
def triml(s: Any) -> str:
    return as_str("triml", s).lstrip(JAVA_WHITESPACE)


@_string_fn("trimr", "([s])", "s without trailing whitespace.", "trimr")
def trimr(s: Any) -> str:
    return as_str("trimr", s).rstrip(JAVA_WHITESPACE)


@_string_fn("trim-newline", "([s])", "s without trailing \\n and \\r characters.", "trim-newline")
def trim_newline(s: Any) -> str:
    return as_str("trim-newline", s).rstrip("\r\n")


@_string_fn("blank?", "([s])", "True if s is nil, empty or only whitespace.", "blank?")
def blank_p(s: Any) -> bool:
    return s is None or not as_str("blank?", s).strip(JAVA_WHITESPACE)


@_string_fn("includes?", "([s substr])", "True if s contains substr.", "includes?")
def includes_p(s: Any, sub: Any) -> bool:
    return as_str("includes?", sub) in as_str("includes?", s)


@_string_fn("starts-with?", "([s prefix])", "True if s starts with prefix.", "starts-with?")
def starts_with_p(s: Any, prefix: Any) -> bool:
    return as_str("starts-with?", s).startswith(as_str("starts-with?", prefix))


@_string_fn("ends-with?", "([s suffix])", "True if s ends with suffix.", "ends-with?")
def ends_with_p(s: Any, suffix: Any) -> bool:
    return as_str("ends-with?", s).endswith(as_str("ends-with?", suffix))


@_string_fn("index-of", "([s value] [s value from-index])",
            "Index of the first occurrence of value in s (from from-index), or nil.", "index-of")
def index_of(s: Any, value: Any, start: Any = 0) -> Any:
    s, value = as_str("index-of", s), as_str("index-of", value)
    i = s.find(value, max(0, to_int_index(start, "index-of")))
    return None if i < 0 else i


@_string_fn("last-index-of", "([s value] [s value from-index])",
            "Index of the last occurrence of value in s (at or before from-index), or nil.",
            "last-index-of")
def last_index_of(s: Any, value: Any, start: Any = None) -> Any:
    s, value = as_str("last-index-of", s), as_str("last-index-of", value)
    end = len(s) if start is None else to_int_index(start, "last-index-of") + len(value)
    if end < len(value):
        return None
    i = s.rfind(value, 0, end)
    return None if i < 0 else i


@_string_fn("reverse", "([s])", "s with its characters in reverse order.")
def reverse(s: Any) -> str:
    return charge_str(as_str("reverse", s)[::-1])


@_string_fn("escape", "([s cmap])",
            "s with each character c replaced by (cmap c) when that is not nil.")
def escape(s: Any, cmap: Any) -> str:
    out = []
    for c in as_str("escape", s):
        r = cmap(char(c))
        out.append(c if r is None else str_of(r))
    return joined("", out)


@_string_fn("re-quote-replacement", "([s])",
            "s with $ and \\ escaped, for use as a literal regex replacement.")
def re_quote_replacement(s: Any) -> str:
    return as_str("re-quote-replacement", s).replace("\\", "\\\\").replace("$", "\\$")

