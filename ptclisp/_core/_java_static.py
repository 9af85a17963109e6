"""The whitelist of pure Java statics LLMs write: ``Math/*``, ``Double/*``, ``Long/*`` ...

Each follows ``java.lang`` semantics (``(Math/pow 0 -1)`` is ##Inf, ``(Integer/parseInt
"3000000000")`` is an error). Static fields (``Double/NaN``, ``Long/MAX_VALUE``) are constants
the analyzer inlines (``STATIC_FIELDS``). Anything that reads a clock, randomness, the
environment or files is refused with a hint (``refusal``): replay must stay deterministic.
Floats are doubles: ``Float/*`` parse and test like ``Double/*`` (no 32-bit rounding).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from .._errors import EvalError
from .._values.types import Char
from ._numbers import compare_values
from ._registry import builtin
from ._support import char, type_error, type_name
from ._text import JAVA_WHITESPACE, charge_str, printer, str_of

__all__ = ["STATIC_FIELDS", "java_double_compare", "refusal"]

CATEGORY = "java interop"
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1

STATIC_FIELDS: dict[str, Any] = {
    "Math/PI": math.pi, "Math/E": math.e,
    "Double/POSITIVE_INFINITY": math.inf, "Double/NEGATIVE_INFINITY": -math.inf,
    "Double/NaN": math.nan, "Double/MAX_VALUE": 1.7976931348623157e308,
    "Double/MIN_VALUE": 5e-324, "Double/MIN_NORMAL": 2.2250738585072014e-308,
    "Float/POSITIVE_INFINITY": math.inf, "Float/NEGATIVE_INFINITY": -math.inf,
    "Float/NaN": math.nan,
    "Long/MAX_VALUE": _LONG_MAX, "Long/MIN_VALUE": _LONG_MIN,
    "Integer/MAX_VALUE": _INT_MAX, "Integer/MIN_VALUE": _INT_MIN,
    "Boolean/TRUE": True, "Boolean/FALSE": False,
}
"""Static fields, inlined as constants by the analyzer."""

_CLOCK_HINT = ("replay must be deterministic: the program cannot read the clock; pass the time "
               "in as data (e.g. data/now) or get it from a tool")
_RANDOM_HINT = ("replay must be deterministic: there is no randomness; pass random values in as "
                "data or get them from a tool")
_ENV_HINT = "the program cannot read the environment, files or the network: use data/... or a tool"

_REFUSED_CLASSES = {
    "System": _CLOCK_HINT, "Instant": _CLOCK_HINT, "LocalDate": _CLOCK_HINT,
    "LocalDateTime": _CLOCK_HINT, "LocalTime": _CLOCK_HINT, "ZonedDateTime": _CLOCK_HINT,
    "OffsetDateTime": _CLOCK_HINT, "Clock": _CLOCK_HINT, "Date": _CLOCK_HINT,
    "Calendar": _CLOCK_HINT, "Duration": _CLOCK_HINT, "ZoneId": _CLOCK_HINT,
    "DateTimeFormatter": _CLOCK_HINT, "UUID": _RANDOM_HINT, "Random": _RANDOM_HINT,
    "ThreadLocalRandom": _RANDOM_HINT, "Thread": _ENV_HINT, "Runtime": _ENV_HINT,
    "File": _ENV_HINT, "Files": _ENV_HINT, "Paths": _ENV_HINT, "Path": _ENV_HINT,
}
_REFUSED_NAMES = {
    "Math/random": _RANDOM_HINT, "rand": _RANDOM_HINT, "rand-int": _RANDOM_HINT,
    "rand-nth": _RANDOM_HINT, "shuffle": _RANDOM_HINT, "random-sample": _RANDOM_HINT,
    "random-uuid": _RANDOM_HINT, "inst-ms": _CLOCK_HINT,
}
_WHITELIST_HINT = ("only pure java.lang statics are available (Math, Double, Float, Long, Integer, "
                   "Boolean, Character, String/valueOf, String/join) and string methods such as "
                   ".substring .indexOf .trim; otherwise use the core functions, e.g. "
                   "(subs s 6), clojure.string/index-of, clojure.string/upper-case")


def refusal(name: str) -> tuple[str, str] | None:
    """(message, hint) for a refused Java-shaped or nondeterministic name, else None."""
    bare = name.removeprefix("java.lang.")
    if bare in _REFUSED_NAMES:
        return f"{name} is not available in ptclisp", _REFUSED_NAMES[bare]
    ns, slash, member = name.partition("/")
    if not slash or not member:
        ns = name.rstrip(".")
    cls = ns.rpartition(".")[2]
    if cls in _REFUSED_CLASSES or ns.startswith(("java.time", "java.util.Date", "java.io",
                                                 "java.nio", "java.lang.System")):
        return f"{name} is not available in ptclisp", _refusal_hint(ns, cls, member)
    if slash and member and cls[:1].isupper():
        return f"{name} is not in ptclisp's Java whitelist", _WHITELIST_HINT
    return None


def _refusal_hint(ns: str, cls: str, member: str) -> str:
    if cls == "System":
        return _CLOCK_HINT if member in ("currentTimeMillis", "nanoTime") else _ENV_HINT
    if cls in _REFUSED_CLASSES:
        return _REFUSED_CLASSES[cls]
    return _CLOCK_HINT if "time" in ns or "Date" in ns else _ENV_HINT


# ---------------------------------------------------------------- argument helpers


def _number(fname: str, x: Any) -> Any:
    if type(x) is int or type(x) is float:
        return x
    type_error(f"{fname}: expected a number, got {type_name(x)}",
               hint="check for nil or non-numeric values before calling it")


def _double(fname: str, x: Any) -> float:
    x = _number(fname, x)
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _long(fname: str, x: Any, lo: int = _LONG_MIN, hi: int = _LONG_MAX) -> int:
    if type(x) is not int:
        type_error(f"{fname}: expected an integer, got {type_name(x)}")
    if not lo <= x <= hi:
        raise EvalError(f"{fname}: value out of range: {x}", code="invalid_args",
                        hint="the Java method takes a 64-bit long (32-bit for Integer/*)")
    return x


def _int32(fname: str, x: Any) -> int:
    return _long(fname, x, _INT_MIN, _INT_MAX)


def _string(fname: str, s: Any) -> str:
    if type(s) is str:
        return s
    if s is None:
        raise EvalError(f"{fname}: argument is nil", code="type_error",
                        hint="Java throws NullPointerException here: check for nil first")
    type_error(f"{fname}: expected a string, got {type_name(s)}")


def _number_format(fname: str, s: Any) -> EvalError:
    return EvalError(f'{fname}: for input string: "{s}"', code="invalid_args",
                     hint="use parse-long / parse-double to get nil instead of an error")


def _java(name: str, arglists: str, doc: str, *aliases: str) -> Callable[[Any], Any]:
    return builtin(name, *aliases, arglists=arglists, doc=doc, category=CATEGORY)


def _unary_math(name: str, fn: Callable[[float], float], doc: str) -> None:
    def op(x: Any) -> float:
        try:
            return fn(_double(name, x))
        except (ValueError, OverflowError):
            return math.nan

    _java(name, "([x])", doc)(op)


# ---------------------------------------------------------------- Math


def _java_asin_acos(fn: Callable[[float], float]) -> Callable[[float], float]:
    return lambda x: fn(x) if -1.0 <= x <= 1.0 else math.nan


def _java_trig(fn: Callable[[float], float]) -> Callable[[float], float]:
    return lambda x: fn(x) if math.isfinite(x) else math.nan


def _cbrt(x: float) -> float:
    if not math.isfinite(x) or x == 0.0:
        return x
    root = round(abs(x) ** (1.0 / 3.0))
    exact = float(root) if root**3 == abs(x) else abs(x) ** (1.0 / 3.0)
    return math.copysign(exact, x)


def _overflowing(fn: Callable[[float], float]) -> Callable[[float], float]:
    def safe(x: float) -> float:
        try:
            return fn(x)
        except OverflowError:
            return math.copysign(math.inf, x) if fn is not math.cosh else math.inf

    return safe


for _name, _fn, _doc in (
    ("Math/sin", _java_trig(math.sin), "Sine of x radians."),
    ("Math/cos", _java_trig(math.cos), "Cosine of x radians."),
    ("Math/tan", _java_trig(math.tan), "Tangent of x radians."),
    ("Math/asin", _java_asin_acos(math.asin), "Arc sine in radians (##NaN outside [-1, 1])."),
    ("Math/acos", _java_asin_acos(math.acos), "Arc cosine in radians (##NaN outside [-1, 1])."),
    ("Math/atan", math.atan, "Arc tangent in radians."),
    ("Math/sinh", _overflowing(math.sinh), "Hyperbolic sine."),
    ("Math/cosh", _overflowing(math.cosh), "Hyperbolic cosine."),
    ("Math/tanh", math.tanh, "Hyperbolic tangent."),
    ("Math/cbrt", _cbrt, "Cube root."),
    ("Math/log1p", lambda x: math.log1p(x) if x > -1 else (-math.inf if x == -1 else math.nan),
     "Natural logarithm of 1 + x."),
    ("Math/expm1", _overflowing(math.expm1), "e raised to x, minus 1."),
    ("Math/toRadians", lambda x: x / 180.0 * math.pi, "Degrees x in radians."),
    ("Math/toDegrees", lambda x: x * 180.0 / math.pi, "Radians x in degrees."),
    ("Math/rint", lambda x: float(round(x)) if math.isfinite(x) else x,
     "The integral float closest to x, halves to even."),
    ("Math/signum", lambda x: x if x == 0 or x != x else math.copysign(1.0, x),
     "-1.0, 0.0 or 1.0 as the sign of x (as a float)."),
    ("Math/ulp", lambda x: abs(math.ulp(x)), "Size of the unit in the last place of x."),
):
    _unary_math(_name, _fn, _doc)


@_java("Math/atan2", "([y x])", "Angle in radians of the point (x, y).")
def atan2(y: Any, x: Any) -> float:
    return math.atan2(_double("Math/atan2", y), _double("Math/atan2", x))


@_java("Math/hypot", "([x y])", "sqrt(x² + y²) without overflow.")
def hypot(x: Any, y: Any) -> float:
    return math.hypot(_double("Math/hypot", x), _double("Math/hypot", y))


def _int_div(name: str, x: Any, y: Any) -> tuple[int, int]:
    x, y = _long(name, x), _long(name, y)
    if y == 0:
        raise EvalError(f"{name}: divide by zero", code="division_by_zero",
                        hint="check the divisor before dividing")
    return x, y


@_java("Math/floorDiv", "([x y])", "Integer division rounded toward negative infinity.")
def floor_div(x: Any, y: Any) -> int:
    x, y = _int_div("Math/floorDiv", x, y)
    return _wrap64(x // y)


@_java("Math/floorMod", "([x y])", "Floored modulus of integers (has the sign of y).")
def floor_mod(x: Any, y: Any) -> int:
    x, y = _int_div("Math/floorMod", x, y)
    return x % y


def _wrap64(n: int) -> int:
    return (n + 2**63) % 2**64 - 2**63


def _exact(name: str, fn: Callable[..., int], arity: int) -> None:
    def op(*args: Any) -> int:
        if len(args) != arity:
            raise EvalError(f"{name}: expected {arity} argument(s), got {len(args)}",
                            code="arity_error")
        result = fn(*(_long(name, a) for a in args))
        if not _LONG_MIN <= result <= _LONG_MAX:
            raise EvalError(f"{name}: long overflow", code="invalid_args",
                            hint="the result does not fit in 64 bits (plain + - * promote)")
        return result

    params = "([x y])" if arity == 2 else "([x])"
    _java(name, params, f"{name[5:]} of longs; an error on 64-bit overflow.")(op)


_exact("Math/addExact", lambda a, b: a + b, 2)
_exact("Math/subtractExact", lambda a, b: a - b, 2)
_exact("Math/multiplyExact", lambda a, b: a * b, 2)
_exact("Math/incrementExact", lambda a: a + 1, 1)
_exact("Math/decrementExact", lambda a: a - 1, 1)
_exact("Math/negateExact", lambda a: -a, 1)
_exact("Math/toIntExact", lambda a: a if _INT_MIN <= a <= _INT_MAX else _LONG_MAX + 1, 1)


# ---------------------------------------------------------------- Double and Float


def _parse_double(name: str, s: Any) -> float:
    from ._strings import _DOUBLE

    m = _DOUBLE.fullmatch(_string(name, s))
    if m is None:
        raise _number_format(name, s)
    return float(m.group(1))


@_java("Double/parseDouble", "([s])",
       "The float written in s (Java); an error if it is not one (parse-double gives nil).",
       "Float/parseFloat")
def parse_double(s: Any) -> float:
    return _parse_double("Double/parseDouble", s)


@_java("Double/valueOf", "([x])",
       "A string parsed as by Double/parseDouble, or a number as a float.", "Float/valueOf")
def double_value_of(x: Any) -> float:
    if type(x) is str:
        return _parse_double("Double/valueOf", x)
    return _double("Double/valueOf", x)


@_java("Double/isNaN", "([x])", "True if x is NaN.", "Float/isNaN")
def is_nan(x: Any) -> bool:
    x = _double("Double/isNaN", x)
    return x != x


@_java("Double/isInfinite", "([x])", "True if x is ##Inf or ##-Inf.", "Float/isInfinite")
def is_infinite(x: Any) -> bool:
    return math.isinf(_double("Double/isInfinite", x))


@_java("Double/isFinite", "([x])", "True if x is neither infinite nor NaN.", "Float/isFinite")
def is_finite(x: Any) -> bool:
    return math.isfinite(_double("Double/isFinite", x))


def java_double_compare(a: float, b: float) -> int:
    """``Double.compare``: -0.0 < 0.0 and NaN above everything (equal to itself)."""
    key_a = (a != a, a, math.copysign(1.0, a))
    key_b = (b != b, b, math.copysign(1.0, b))
    if a != a and b != b:
        return 0
    return (key_a > key_b) - (key_a < key_b) if a == a and b == b else (1 if a != a else -1)


@_java("Double/compare", "([x y])", "-1, 0 or 1 (Java Double.compare: -0.0 < 0.0, NaN greatest).",
       "Float/compare")
def double_compare(x: Any, y: Any) -> int:
    return java_double_compare(_double("Double/compare", x), _double("Double/compare", y))


@_java("Double/toString", "([x])", "x as a float, as text (\"1.0E10\", \"NaN\").",
       "Float/toString")
def double_to_string(x: Any) -> str:
    return printer("float_str")(_double("Double/toString", x), False)  # type: ignore[call-arg]


@_java("Double/sum", "([x y])", "x + y as floats.", "Float/sum")
def double_sum(x: Any, y: Any) -> float:
    return _double("Double/sum", x) + _double("Double/sum", y)


@_java("Double/max", "([x y])", "The greater float (NaN if either is).", "Float/max")
def double_max(x: Any, y: Any) -> float:
    a, b = _double("Double/max", x), _double("Double/max", y)
    return math.nan if a != a or b != b else (a if java_double_compare(a, b) >= 0 else b)


@_java("Double/min", "([x y])", "The lesser float (NaN if either is).", "Float/min")
def double_min(x: Any, y: Any) -> float:
    a, b = _double("Double/min", x), _double("Double/min", y)
    return math.nan if a != a or b != b else (a if java_double_compare(a, b) <= 0 else b)


# ---------------------------------------------------------------- Long and Integer

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_SIGNED = re.compile(r"[+-]?[0-9a-zA-Z]+")


def _parse_integer(name: str, s: Any, radix: Any, lo: int, hi: int) -> int:
    text = _string(name, s)
    base = _long(name, radix, 2, 36)
    if len(text) > 200 or _SIGNED.fullmatch(text) is None:
        raise _number_format(name, text)
    digits = text.lstrip("+-")
    if any(_DIGITS.find(c.lower()) not in range(base) for c in digits):
        raise _number_format(name, text)
    n = int(text, base)
    if not lo <= n <= hi:
        raise _number_format(name, text)
    return n


@_java("Long/parseLong", "([s] [s radix])",
       "The integer written in s (Java); an error if it is not one or not 64-bit "
       "(parse-long gives nil).")
def parse_long(s: Any, radix: Any = 10) -> int:
    return _parse_integer("Long/parseLong", s, radix, _LONG_MIN, _LONG_MAX)


@_java("Integer/parseInt", "([s] [s radix])",
       "The integer written in s (Java); an error if it is not one or not 32-bit.")
def parse_int(s: Any, radix: Any = 10) -> int:
    return _parse_integer("Integer/parseInt", s, radix, _INT_MIN, _INT_MAX)


@_java("Long/valueOf", "([x] [s radix])", "A string parsed as by Long/parseLong, or the integer x.")
def long_value_of(x: Any, radix: Any = 10) -> int:
    if type(x) is str:
        return parse_long(x, radix)
    return _long("Long/valueOf", x)


@_java("Integer/valueOf", "([x] [s radix])", "A string parsed as by Integer/parseInt, or x.")
def int_value_of(x: Any, radix: Any = 10) -> int:
    if type(x) is str:
        return parse_int(x, radix)
    return _int32("Integer/valueOf", x)


def _in_radix(n: int, base: int) -> str:
    if n == 0:
        return "0"
    out = []
    m = abs(n)
    while m:
        m, d = divmod(m, base)
        out.append(_DIGITS[d])
    return ("-" if n < 0 else "") + "".join(reversed(out))


def _unsigned(n: int, bits: int, shift: int) -> str:
    n &= (1 << bits) - 1
    return _in_radix(n, 1 << shift)


def _int_family(cls: str, check: Callable[[str, Any], int], bits: int) -> None:
    def to_string(x: Any, radix: Any = 10) -> str:
        base = _long(f"{cls}/toString", radix)
        return _in_radix(check(f"{cls}/toString", x), base if 2 <= base <= 36 else 10)

    _java(f"{cls}/toString", "([x] [x radix])", "x as text (in base radix).")(to_string)
    for suffix, shift in (("toBinaryString", 1), ("toHexString", 4), ("toOctalString", 3)):
        name = f"{cls}/{suffix}"
        doc = f"x as unsigned base-{1 << shift} text ({bits}-bit two's complement)."
        _java(name, "([x])", doc)(
            (lambda nm, sh: lambda x: _unsigned(check(nm, x), bits, sh))(name, shift))
    _java(f"{cls}/compare", "([x y])", "-1, 0 or 1 as x is less than, equal to or greater than y.")(
        lambda x, y: compare_values(check(f"{cls}/compare", x), check(f"{cls}/compare", y)))
    _java(f"{cls}/signum", "([x])", "-1, 0 or 1: the sign of x.")(
        lambda x: (lambda n: (n > 0) - (n < 0))(check(f"{cls}/signum", x)))
    _java(f"{cls}/bitCount", "([x])", f"Number of one bits in x ({bits}-bit two's complement).")(
        lambda x: bin(check(f"{cls}/bitCount", x) & ((1 << bits) - 1)).count("1"))
    _java(f"{cls}/max", "([x y])", "The greater of x and y.")(
        lambda x, y: max(check(f"{cls}/max", x), check(f"{cls}/max", y)))
    _java(f"{cls}/min", "([x y])", "The lesser of x and y.")(
        lambda x, y: min(check(f"{cls}/min", x), check(f"{cls}/min", y)))
    _java(f"{cls}/sum", "([x y])", f"x + y, wrapping around at {bits} bits as Java does.")(
        lambda x, y: _wrap(check(f"{cls}/sum", x) + check(f"{cls}/sum", y), bits))


def _wrap(n: int, bits: int) -> int:
    half = 1 << (bits - 1)
    return (n + half) % (1 << bits) - half


_int_family("Long", _long, 64)
_int_family("Integer", _int32, 32)


# ---------------------------------------------------------------- Boolean, Character, String


@_java("Boolean/parseBoolean", "([s])", "true if s is \"true\" in any case, else false (nil too).")
def parse_boolean(s: Any) -> bool:
    return type(s) is str and s.lower() == "true"


@_java("Boolean/valueOf", "([x])", "A boolean as itself, a string as by Boolean/parseBoolean.")
def boolean_value_of(x: Any) -> bool:
    if type(x) is bool:
        return x
    return parse_boolean(x)


@_java("Boolean/toString", "([b])", "\"true\" or \"false\".")
def boolean_to_string(b: Any) -> str:
    if type(b) is not bool:
        type_error(f"Boolean/toString: expected a boolean, got {type_name(b)}")
    return "true" if b else "false"


def _code_point(name: str, c: Any) -> str:
    if type(c) is Char:
        return c.ch
    if type(c) is int and 0 <= c <= 0x10FFFF:
        return chr(c)
    type_error(f"{name}: expected a character, got {type_name(c)}",
               hint="pass a character such as \\a, e.g. (first s)")


def _char_test(name: str, test: Callable[[str], bool], doc: str) -> None:
    _java(f"Character/{name}", "([c])", doc)(
        lambda c: bool(test(_code_point(f"Character/{name}", c))))


for _name, _test, _doc in (
    ("isDigit", str.isdecimal, "True if c is a decimal digit."),
    ("isLetter", str.isalpha, "True if c is a letter."),
    ("isLetterOrDigit", lambda c: c.isalpha() or c.isdecimal(), "True if c is a letter or digit."),
    ("isAlphabetic", str.isalpha, "True if c is alphabetic."),
    ("isWhitespace", lambda c: c in JAVA_WHITESPACE, "True if c is Java whitespace."),
    ("isSpaceChar", lambda c: c in " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
     "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000", "True if c is a Unicode space."),
    ("isUpperCase", str.isupper, "True if c is an upper-case letter."),
    ("isLowerCase", str.islower, "True if c is a lower-case letter."),
):
    _char_test(_name, _test, _doc)


def _case_char(name: str, convert: Callable[[str], str]) -> Callable[[Any], Any]:
    def op(c: Any) -> Any:
        ch = _code_point(name, c)
        out = convert(ch)
        out = out if len(out) == 1 else ch  # Java maps one char to one char (ß stays ß)
        return char(out) if type(c) is Char else ord(out)

    return op


_java("Character/toUpperCase", "([c])", "c in upper case (a code point stays a code point).")(
    _case_char("Character/toUpperCase", str.upper))
_java("Character/toLowerCase", "([c])", "c in lower case (a code point stays a code point).")(
    _case_char("Character/toLowerCase", str.lower))


@_java("Character/digit", "([c radix])", "The value of digit c in base radix, or -1.")
def char_digit(c: Any, radix: Any) -> int:
    ch = _code_point("Character/digit", c)
    base = _long("Character/digit", radix)
    if not 2 <= base <= 36:
        return -1
    value = int(ch) if ch.isdecimal() else _DIGITS.find(ch.lower()) if ch.isascii() else -1
    return value if 0 <= value < base else -1


@_java("Character/getNumericValue", "([c])", "0-9 for digits, 10-35 for letters a-z, else -1.")
def char_numeric_value(c: Any) -> int:
    ch = _code_point("Character/getNumericValue", c)
    if ch.isdecimal():
        return int(ch)
    return _DIGITS.find(ch.lower()) if ch.isascii() and ch.isalpha() else -1


@_java("Character/valueOf", "([c])", "The character c.")
def char_value_of(c: Any) -> Char:
    return char(_code_point("Character/valueOf", c))


@_java("Character/toString", "([c])", "c as a one-character string.")
def char_to_string(c: Any) -> str:
    return _code_point("Character/toString", c)


@_java("String/valueOf", "([x])", "x as text, as Java's toString (an error for nil).")
def string_value_of(x: Any) -> str:
    if x is None:  # Java picks valueOf(char[]): NullPointerException
        raise EvalError("String/valueOf: argument is nil", code="type_error",
                        hint="use (str x), which gives \"\" for nil")
    if type(x) is float:
        return double_to_string(x)
    return charge_str(str_of(x))


@_java("String/join", "([separator strings])",
       "The strings joined with separator (Java: strings only).")
def string_join(sep: Any, strings: Any) -> str:
    from ._support import items

    sep = _string("String/join", sep) if type(sep) is not Char else sep.ch
    parts = items(strings, "String/join")
    for p in parts:
        if type(p) is not str:
            type_error(f"String/join: expected strings, got {type_name(p)}",
                       hint="use (clojure.string/join sep coll) to join any values")
    total = sum(map(len, parts)) + len(sep) * max(0, len(parts) - 1)
    from .._limits import current_meter

    current_meter().alloc_str(total)
    return sep.join(parts)




# ---------------------------------------------------------------- constructors of values

@_java("Integer.", "([x])", "(Integer. \"5\") is (Integer/valueOf \"5\") (Java's deprecated "
       "constructor).")
def integer_new(x: Any) -> int:
    return int_value_of(x)


@_java("Long.", "([x])", "(Long. \"5\") is (Long/valueOf \"5\").")
def long_new(x: Any) -> int:
    return long_value_of(x)


@_java("Double.", "([x])", "(Double. \"1.5\") is (Double/valueOf \"1.5\").")
def double_new(x: Any) -> float:
    return double_value_of(x)


@_java("Boolean.", "([x])", "(Boolean. \"true\") is (Boolean/valueOf \"true\").")
def boolean_new(x: Any) -> bool:
    return boolean_value_of(x)


@_java("String.", "([] [s])", "(String.) is \"\", (String. s) is the string s.")
def string_new(*args: Any) -> str:
    if not args:
        return ""
    if len(args) == 1:
        return _string("String.", args[0])
    raise EvalError(f"String.: expected 0 or 1 arguments, got {len(args)}", code="arity_error")
