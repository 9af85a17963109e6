"""Arithmetic, numeric comparison, Clojure ``compare`` and the Math helpers.

Numbers are ``int`` (arbitrary size: overflow promotes, a documented deviation) and ``float``.
Booleans are not numbers. ``(/ 1 2)`` is ``0.5`` (no ratios), ``(/ 4 2)`` is ``2``.
"""

from __future__ import annotations

import math
from typing import Any

from .._errors import EvalError
from .._limits import active_meter, charge
from .._values.types import Char, Keyword, Symbol, Vector, equals
from ._registry import builtin
from ._support import type_error, type_name

_INF = float("inf")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def _not_number(fname: str, x: Any) -> EvalError:
    return EvalError(
        f"{fname}: expected a number, got {type_name(x)}",
        code="type_error",
        hint="check for nil or non-numeric values (e.g. a missing map key) before arithmetic",
    )


def _check(fname: str, x: Any) -> Any:
    t = type(x)
    if t is int or t is float:
        return x
    raise _not_number(fname, x)


@builtin("+", "+'", arglists="([] [x] [x y & more])", doc="Sum of the numbers; (+) is 0.",
         category="arithmetic")
def add(*args: Any) -> Any:
    if not args:
        return 0
    total: Any = _check("+", args[0])  # (+ -0.0) is -0.0, as in Java
    for x in args[1:]:
        t = type(x)
        if t is not int and t is not float:
            raise _not_number("+", x)
        total += x
    return total


@builtin("-", "-'", arglists="([x] [x y & more])", doc="Negation of x, or x minus the rest.",
         category="arithmetic")
def sub(x: Any, *more: Any) -> Any:
    _check("-", x)
    if not more:
        return -x
    for y in more:
        t = type(y)
        if t is not int and t is not float:
            raise _not_number("-", y)
        x -= y
    return x


@builtin("*", "*'", arglists="([] [x] [x y & more])", doc="Product of the numbers; (*) is 1.",
         category="arithmetic")
def mul(*args: Any) -> Any:
    if not args:
        return 1
    product: Any = _check("*", args[0])
    for x in args[1:]:
        t = type(x)
        if t is not int and t is not float:
            raise _not_number("*", x)
        if t is int and type(product) is int and not (-_BIG < x < _BIG and -_BIG < product < _BIG):
            product = big_mul(product, x)
        else:
            product *= x
    return product


_BIG = 2**64
_LIMB_OPS_PER_STEP = 256
"""About how many 30-bit limb products CPython does in the time of one interpreter step."""


def big_mul(x: int, y: int) -> int:
    """``x * y`` for big integers, checked and charged *before* the uninterruptible C call.

    The result's size is known from the operands' bit lengths: refused with ``memory_limit`` if
    it would not fit the remaining memory budget; the multiplication's time (schoolbook for a
    small operand, Karatsuba otherwise) is charged in steps. Only the growth over the larger
    operand counts as memory created (a product replacing its factor, as in a loop, is not
    cumulative garbage)."""
    bits_x, bits_y = x.bit_length(), y.bit_length()
    meter = active_meter()
    if meter is not None:
        result_bytes = (bits_x + bits_y) // 8 + 32
        if result_bytes > meter.limits.max_memory - meter.memory:
            meter.alloc(result_bytes)  # raises memory_limit before anything is computed
        small, large = sorted((bits_x // 30 + 1, bits_y // 30 + 1))
        ops = small * large if small < 70 else int(large * small**0.585) * 2
        meter.tick(ops // _LIMB_OPS_PER_STEP)
        meter.alloc(max(0, result_bytes - max(bits_x, bits_y) // 8 - 32))
    return x * y


def charge_big_div(x: int, y: int, divisions: int = 1) -> None:
    """Charge integer divisions of ``x`` by ``y`` *before* the uninterruptible C calls:
    CPython divides big integers schoolbook, (limbs of the quotient) x (limbs of the divisor)
    limb operations — a 2-million-digit number by a 700,000-digit one is ~19 s. Charged in
    steps, and refused with ``timeout`` at once when it could not end before the deadline.
    Callers skip it for an ``x`` under ``2**64`` (nothing to charge: one C step)."""
    meter = active_meter()
    if meter is None:
        return
    limbs_x, limbs_y = x.bit_length() // 30 + 1, y.bit_length() // 30 + 1
    ops = max(limbs_x - limbs_y + 1, 1) * limbs_y * divisions
    meter.tick(ops // _LIMB_OPS_PER_STEP)
    meter.expect(ops * _SECONDS_PER_LIMB_OP)


_SECONDS_PER_LIMB_OP = 2e-9
"""Measured: ~1.7 ns per limb operation of a big division."""


def _divide(x: Any, y: Any) -> Any:
    if y == 0:
        if type(x) is int and type(y) is int:
            raise EvalError("divide by zero", code="division_by_zero",
                            hint="check the divisor before dividing")
        if x != x or x == 0:
            return math.nan
        negative = (x < 0) != (math.copysign(1.0, y) < 0)
        return -_INF if negative else _INF
    if type(x) is int and type(y) is int:
        if not -_BIG < x < _BIG:
            charge_big_div(x, y, 2)
        if x % y == 0:
            return x // y
        try:
            return x / y
        except OverflowError:
            return float(x // y)
    return x / y


@builtin("/", arglists="([x] [x y & more])",
         doc="Division; integer when exact, else a float ((/ 1 2) is 0.5). (/ x) is 1/x.",
         category="arithmetic")
def div(x: Any, *more: Any) -> Any:
    _check("/", x)
    if not more:
        return _divide(1, x)
    for y in more:
        x = _divide(x, _check("/", y))
    return x


def _int_div_args(fname: str, x: Any, y: Any) -> None:
    _check(fname, x)
    _check(fname, y)
    if y == 0:
        raise EvalError(f"{fname}: divide by zero", code="division_by_zero",
                        hint="check the divisor before dividing")


def _quot(x: Any, y: Any) -> Any:
    if type(x) is int and type(y) is int:
        if not -_BIG < x < _BIG:
            charge_big_div(x, y)
        q = abs(x) // abs(y)
        return q if (x < 0) == (y < 0) else -q
    return float(math.trunc(x / y))


@builtin("quot", arglists="([num div])", doc="Integer division truncated toward zero.",
         category="arithmetic")
def quot(x: Any, y: Any) -> Any:
    _int_div_args("quot", x, y)
    return _quot(x, y)


@builtin("rem", arglists="([num div])", doc="Remainder of quot; has the sign of num.",
         category="arithmetic")
def rem(x: Any, y: Any) -> Any:
    _int_div_args("rem", x, y)
    if type(x) is int and type(y) is int:
        if not -_BIG < x < _BIG:
            charge_big_div(x, y)
        r = abs(x) % abs(y)  # the sign of num: x - y * (quot x y), in one division
        return r if x >= 0 else -r
    return math.fmod(x, y)


@builtin("mod", arglists="([num div])", doc="Modulus (floored); has the sign of div.",
         category="arithmetic")
def mod(x: Any, y: Any) -> Any:
    _int_div_args("mod", x, y)
    if type(x) is int and type(y) is int and not -_BIG < x < _BIG:
        charge_big_div(x, y)
    return x % y


@builtin("inc", "inc'", arglists="([x])", doc="x plus one.", category="arithmetic")
def inc(x: Any) -> Any:
    t = type(x)
    if t is int or t is float:
        return x + 1
    raise _not_number("inc", x)


@builtin("dec", "dec'", arglists="([x])", doc="x minus one.", category="arithmetic")
def dec(x: Any) -> Any:
    t = type(x)
    if t is int or t is float:
        return x - 1
    raise _not_number("dec", x)


def _extreme(fname: str, args: tuple[Any, ...], pick_greater: bool) -> Any:
    best = _check(fname, args[0])
    for x in args[1:]:
        _check(fname, x)
        if x != x or best != best:
            best = math.nan
        elif not ((best > x) if pick_greater else (best < x)):
            best = x  # Clojure keeps the later argument on ties: (min 1.0 1) is 1
    return best


@builtin("max", "Math/max", arglists="([x] [x y & more])", doc="Greatest of the numbers.",
         category="arithmetic")
def max_(x: Any, *more: Any) -> Any:
    return _extreme("max", (x, *more), True)


@builtin("min", "Math/min", arglists="([x] [x y & more])", doc="Least of the numbers.",
         category="arithmetic")
def min_(x: Any, *more: Any) -> Any:
    return _extreme("min", (x, *more), False)


@builtin("abs", "Math/abs", arglists="([x])", doc="Absolute value.", category="arithmetic")
def abs_(x: Any) -> Any:
    if x == _LONG_MIN and type(x) is int:
        return x  # Java's Math/abs overflows here (Clojure's abs calls it)
    return abs(_check("abs", x))


# ---------------------------------------------------------------- comparison


@builtin("=", arglists="([x] [x y & more])",
         doc="Deep value equality: (= [1 2] '(1 2)) is true, (= 1 1.0) is false.",
         category="comparison")
def eq(x: Any, *more: Any) -> bool:
    for y in more:
        if not equals(x, y):
            return False
        x = y
    return True


@builtin("not=", arglists="([x] [x y & more])", doc="(not (= x y ...)).", category="comparison")
def not_eq(x: Any, *more: Any) -> bool:
    return not eq(x, *more)


@builtin("==", arglists="([x] [x y & more])", doc="Numeric equality: (== 1 1.0) is true.",
         category="comparison")
def num_eq(x: Any, *more: Any) -> bool:
    _check("==", x)
    for y in more:
        if x != _check("==", y):
            return False
        x = y
    return True


def _ordering(fname: str, test: Any) -> Any:
    def compare_chain(x: Any, *more: Any) -> bool:
        if not more:
            return True
        tx = type(x)
        if tx is not int and tx is not float:
            raise _not_number(fname, x)
        for y in more:
            ty = type(y)
            if ty is not int and ty is not float:
                raise _not_number(fname, y)
            if not test(x, y):
                return False
            x = y
        return True

    return compare_chain


lt = builtin("<", arglists="([x] [x y & more])", doc="True if the numbers increase strictly.",
             category="comparison")(_ordering("<", lambda a, b: a < b))
gt = builtin(">", arglists="([x] [x y & more])", doc="True if the numbers decrease strictly.",
             category="comparison")(_ordering(">", lambda a, b: a > b))
le = builtin("<=", arglists="([x] [x y & more])", doc="True if the numbers never decrease.",
             category="comparison")(_ordering("<=", lambda a, b: a <= b))
ge = builtin(">=", arglists="([x] [x y & more])", doc="True if the numbers never increase.",
             category="comparison")(_ordering(">=", lambda a, b: a >= b))


def _java_string_compare(a: str, b: str) -> int:
    for ca, cb in zip(a, b):
        if ca != cb:
            return ord(ca) - ord(cb)
    return len(a) - len(b)


def _named_compare(a: Any, b: Any) -> int:
    if a.ns != b.ns:
        if a.ns is None:
            return -1
        if b.ns is None:
            return 1
        return _java_string_compare(a.ns, b.ns)
    return _java_string_compare(a.name, b.name)


def _sign(d: Any) -> int:
    return (d > 0) - (d < 0)


def compare_values(a: Any, b: Any) -> int:
    """Clojure ``compare``: nil first; numbers, strings, keywords, symbols, chars, booleans and
    vectors (shorter first, then element by element) in their natural order."""
    if a is b:
        return 0
    if a is None:
        return -1
    if b is None:
        return 1
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return 0 if a == b else (-1 if a < b else 1)
    if ta is tb:
        if ta is str:
            return _java_string_compare(a, b)
        if ta is Keyword or ta is Symbol:
            return _named_compare(a, b)
        if ta is Char:
            return ord(a.ch) - ord(b.ch)
        if ta is bool:
            return 0 if a is b else (1 if a else -1)
        if ta is Vector:
            if len(a) != len(b):
                return -1 if len(a) < len(b) else 1
            charge(len(a))
            for x, y in zip(a, b):
                c = compare_values(x, y)
                if c:
                    return c
            return 0
    type_error(
        f"compare: cannot compare {type_name(a)} with {type_name(b)}",
        hint="sort and compare need values of one kind (numbers, strings, keywords, vectors)",
    )


@builtin("compare", arglists="([x y])",
         doc="Negative, zero or positive as x sorts before, with or after y (nil sorts first).",
         category="comparison")
def compare(a: Any, b: Any) -> int:
    return compare_values(a, b)


# ---------------------------------------------------------------- numeric predicates


def _number_pred(fname: str, test: Any, doc: str) -> Any:
    def pred(x: Any) -> bool:
        return test(_check(fname, x))

    return builtin(fname, arglists="([x])", doc=doc, category="predicates")(pred)


zero_p = _number_pred("zero?", lambda x: x == 0, "True if x is zero.")
pos_p = _number_pred("pos?", lambda x: x > 0, "True if x is greater than zero.")
neg_p = _number_pred("neg?", lambda x: x < 0, "True if x is less than zero.")


def _integer(fname: str, x: Any) -> int:
    if type(x) is int:
        return x
    type_error(f"{fname}: expected an integer, got {type_name(x)}")


@builtin("even?", arglists="([n])", doc="True if the integer n is even.", category="predicates")
def even_p(n: Any) -> bool:
    return _integer("even?", n) % 2 == 0


@builtin("odd?", arglists="([n])", doc="True if the integer n is odd.", category="predicates")
def odd_p(n: Any) -> bool:
    return _integer("odd?", n) % 2 == 1


# ---------------------------------------------------------------- coercion


@builtin("int", "long", arglists="([x])",
         doc="x as an integer (floats truncate toward zero; a character gives its code).",
         category="arithmetic")
def to_int(x: Any) -> int:
    t = type(x)
    if t is int:
        return x
    if t is float:
        if x != x:
            return 0
        if x in (_INF, -_INF):
            raise EvalError(f"int: value out of range: {x}", code="invalid_args")
        return int(x)
    if t is Char:
        return ord(x.ch)
    raise _not_number("int", x)


@builtin("double", "float", arglists="([x])", doc="x as a float.", category="arithmetic")
def to_double(x: Any) -> float:
    t = type(x)
    if t is int or t is float:
        try:
            return float(x)
        except OverflowError:
            return _INF if x > 0 else -_INF
    raise _not_number("double", x)


# ---------------------------------------------------------------- Math helpers


@builtin("Math/floor", "floor", "clojure.math/floor", arglists="([x])",
         doc="Largest integral value not greater than x, as a float (Java Math/floor).",
         category="arithmetic")
def floor(x: Any) -> float:
    _check("floor", x)
    return float(math.floor(x)) if math.isfinite(x) else float(x)


@builtin("Math/ceil", "ceil", "clojure.math/ceil", arglists="([x])",
         doc="Smallest integral value not less than x, as a float (Java Math/ceil).",
         category="arithmetic")
def ceil(x: Any) -> float:
    _check("ceil", x)
    return float(math.ceil(x)) if math.isfinite(x) else float(x)


@builtin("Math/round", "round", "clojure.math/round", arglists="([x])",
         doc="x rounded to the nearest integer, halves up (Java Math/round).",
         category="arithmetic")
def round_(x: Any) -> int:
    _check("round", x)
    if type(x) is int:
        return x
    if x != x:
        return 0
    if not math.isfinite(x):
        return _LONG_MAX if x > 0 else _LONG_MIN  # Java saturates at the long range
    down = math.floor(x)  # x - down is exact: no rounding error at 0.49999999999999994
    return max(_LONG_MIN, min(_LONG_MAX, down + 1 if x - down >= 0.5 else down))


@builtin("Math/sqrt", "sqrt", "clojure.math/sqrt", arglists="([x])",
         doc="Square root as a float (##NaN for negatives).", category="arithmetic")
def sqrt(x: Any) -> float:
    _check("sqrt", x)
    return math.sqrt(x) if x >= 0 else math.nan


@builtin("Math/pow", "pow", "clojure.math/pow", arglists="([x y])",
         doc="x raised to the power y, as a float (Java Math/pow: (Math/pow 0 -1) is ##Inf).",
         category="arithmetic")
def pow_(x: Any, y: Any) -> float:
    """``java.lang.Math.pow``: pow(x, 0) is 1.0 even for NaN; pow(±1, ±Inf) and pow(1, NaN) are
    NaN; pow(±0, negative) is ±Inf; overflow keeps the sign of an odd integral power."""
    x, y = to_double(_check("pow", x)), to_double(_check("pow", y))
    if y == 0:
        return 1.0
    if y != y or x != x or (abs(x) == 1.0 and math.isinf(y)):
        return math.nan
    odd = math.isfinite(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0
    try:
        return math.pow(x, y)
    except (ValueError, ZeroDivisionError):
        if x == 0:  # ±0 to a negative power
            return -math.inf if odd and math.copysign(1.0, x) < 0 else math.inf
        return math.nan  # a negative base to a non-integral power
    except OverflowError:
        return -math.inf if odd and x < 0 else math.inf


@builtin("trunc", arglists="([x])", doc="x truncated toward zero.", category="arithmetic")
def trunc(x: Any) -> Any:
    _check("trunc", x)
    return x if type(x) is int or not math.isfinite(x) else float(math.trunc(x))


@builtin("Math/log", "clojure.math/log", arglists="([x])", doc="Natural logarithm.",
         category="arithmetic")
def log(x: Any) -> float:
    _check("log", x)
    if x < 0:
        return math.nan
    return -_INF if x == 0 else math.log(x)


@builtin("Math/log10", "clojure.math/log10", arglists="([x])", doc="Base-10 logarithm.",
         category="arithmetic")
def log10(x: Any) -> float:
    _check("log10", x)
    if x < 0:
        return math.nan
    return -_INF if x == 0 else math.log10(x)


@builtin("Math/exp", "clojure.math/exp", arglists="([x])", doc="e raised to x.",
         category="arithmetic")
def exp(x: Any) -> float:
    try:
        return math.exp(_check("exp", x))
    except OverflowError:
        return _INF


# ---------------------------------------------------------------- bit operations


def _bit_op(fname: str, fold: Any, doc: str) -> Any:
    def op(x: Any, y: Any, *more: Any) -> int:
        acc = fold(_integer(fname, x), _integer(fname, y))
        for z in more:
            acc = fold(acc, _integer(fname, z))
        return acc

    return builtin(fname, arglists="([x y & more])", doc=doc, category="arithmetic")(op)


bit_and = _bit_op("bit-and", lambda a, b: a & b, "Bitwise and.")
bit_or = _bit_op("bit-or", lambda a, b: a | b, "Bitwise or.")
bit_xor = _bit_op("bit-xor", lambda a, b: a ^ b, "Bitwise exclusive or.")


@builtin("bit-not", arglists="([x])", doc="Bitwise complement.", category="arithmetic")
def bit_not(x: Any) -> int:
    return ~_integer("bit-not", x)


@builtin("bit-shift-left", arglists="([x n])", doc="Shift x left by n bits.", category="arithmetic")
def bit_shift_left(x: Any, n: Any) -> int:
    n = _integer("bit-shift-left", n)
    if not 0 <= n <= 64:
        raise EvalError("bit-shift-left: shift must be 0..64", code="invalid_args")
    x = _integer("bit-shift-left", x)
    if not -_BIG < x < _BIG:  # a big integer is copied: charge its time and growth first
        meter = active_meter()
        if meter is not None:
            meter.tick(x.bit_length() // (30 * _LIMB_OPS_PER_STEP))
            meter.alloc(n // 8 + 1)
    return x << n


@builtin("bit-shift-right", arglists="([x n])", doc="Arithmetic shift of x right by n bits.",
         category="arithmetic")
def bit_shift_right(x: Any, n: Any) -> int:
    n = _integer("bit-shift-right", n)
    if n < 0:
        raise EvalError("bit-shift-right: shift must be >= 0", code="invalid_args")
    return _integer("bit-shift-right", x) >> n

