"""The whitelist of pure Java instance methods: ``(.substring s 6)``, ``(.indexOf s "x")`` ...

String methods follow ``java.lang.String`` (``.indexOf`` gives -1 when absent, ``.trim`` strips
characters up to U+0020, ``.replace`` is literal, ``.split`` takes a regex). A few collection
reads LLMs write (``.get .size .isEmpty .contains .containsKey .indexOf``) follow
``java.util.List``/``Map``/``Set``. A nil receiver is Java's NullPointerException: an error.
Indexes count Unicode code points (as ``subs``), not UTF-16 units.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._errors import EvalError
from .._limits import current_meter
from .._values.types import Char, LazySeq, List, Map, Regex, Set, Vector, equals
from ._registry import builtin
from ._support import char, type_error, type_name
from ._text import charge_str, str_of

__all__: list[str] = []

CATEGORY = "java interop"
_CLOJURE_WAY = {
    ".substring": "(subs s start end)", ".indexOf": "(clojure.string/index-of s x)",
    ".toUpperCase": "(clojure.string/upper-case s)", ".trim": "(clojure.string/trim s)",
    ".split": "(clojure.string/split s #\"re\")", ".length": "(count s)",
}


def _method(name: str, arglists: str, doc: str) -> Callable[[Any], Any]:
    return builtin(name, arglists=arglists, doc=doc, category=CATEGORY)


def _receiver_nil(name: str) -> EvalError:
    way = _CLOJURE_WAY.get(name)
    hint = "check for nil before calling the method" + (f", or use {way}" if way else "")
    return EvalError(f"({name} nil ...): the receiver is nil (Java NullPointerException)",
                     code="type_error", hint=hint)


def _this_string(name: str, s: Any) -> str:
    if type(s) is str:
        return s
    if s is None:
        raise _receiver_nil(name)
    way = f", or use {_CLOJURE_WAY[name]}" if name in _CLOJURE_WAY else ""
    type_error(f"{name}: no such method on {type_name(s)} (only on strings)",
               hint=f"convert with (str x) first{way}")


def _text_arg(name: str, x: Any, chars: bool = False) -> str:
    """A CharSequence argument; a char only where Java has a char overload (``chars``)."""
    if type(x) is str:
        return x
    if type(x) is Char and chars:
        return x.ch
    if type(x) is Char:
        type_error(f"{name}: no overload takes a character here (Java wants a string)",
                   hint="pass a string: \"a\" instead of \\a")
    if x is None:
        raise EvalError(f"{name}: argument is nil (Java NullPointerException)", code="type_error",
                        hint="check for nil before calling the method")
    type_error(f"{name}: expected a string argument, got {type_name(x)}")


def _int_arg(name: str, x: Any) -> int:
    if type(x) is int:
        return x
    type_error(f"{name}: expected an integer index, got {type_name(x)}")


def _out_of_bounds(name: str, detail: str) -> EvalError:
    return EvalError(f"{name}: {detail} (Java StringIndexOutOfBoundsException)",
                     code="index_out_of_bounds", hint="check (count s) first")


# ---------------------------------------------------------------- strings


@_method(".substring", "([s begin] [s begin end])", "s from begin to end (Java; like subs).")
def substring(s: Any, begin: Any, end: Any = None) -> str:
    s = _this_string(".substring", s)
    b = _int_arg(".substring", begin)
    e = len(s) if end is None else _int_arg(".substring", end)
    if not 0 <= b <= e <= len(s):
        raise _out_of_bounds(".substring", f"begin {b}, end {e}, length {len(s)}")
    return charge_str(s[b:e])


def _from_index(name: str, start: Any, default: int) -> int:
    return default if start is None else _int_arg(name, start)


@_method(".indexOf", "([s x] [s x from])",
         "Index of the first x (a string or code point) in s at or after from, or -1; "
         "on a vector, of the item.")
def index_of(s: Any, x: Any, start: Any = None) -> int:
    if _is_list(s):
        return next((i for i, y in enumerate(_items(s)) if equals(x, y)), -1)
    s = _this_string(".indexOf", s)
    needle = _needle(".indexOf", x)
    from_index = max(0, _from_index(".indexOf", start, 0))
    return -1 if needle is None else s.find(needle, from_index)


def _needle(name: str, x: Any) -> str | None:
    """indexOf's argument: a string, or an integer code point (``(int \\a)``); None for a code
    point that cannot occur."""
    if type(x) is int:
        return chr(x) if 0 <= x <= 0x10FFFF else None
    return _text_arg(name, x)


@_method(".lastIndexOf", "([s x] [s x from])",
         "Index of the last x (string or char) in s at or before from, or -1.")
def last_index_of(s: Any, x: Any, start: Any = None) -> int:
    if _is_list(s):
        found = [i for i, y in enumerate(_items(s)) if equals(x, y)]
        return found[-1] if found else -1
    s = _this_string(".lastIndexOf", s)
    needle = _needle(".lastIndexOf", x)
    limit = _from_index(".lastIndexOf", start, len(s))
    if limit < 0 or needle is None:
        return -1
    return s.rfind(needle, 0, min(len(s), limit) + len(needle))


def _string_fn(name: str, doc: str, fn: Callable[[str], Any], charged: bool = True) -> None:
    def method(s: Any) -> Any:
        out = fn(_this_string(name, s))
        return charge_str(out) if charged and type(out) is str else out

    _method(name, "([s])", doc)(method)


def _java_trim(s: str) -> str:
    start, end = 0, len(s)
    while start < end and s[start] <= " ":
        start += 1
    while end > start and s[end - 1] <= " ":
        end -= 1
    return s[start:end]


_string_fn(".toUpperCase", "s in upper case.", str.upper)
_string_fn(".toLowerCase", "s in lower case.", str.lower)
_string_fn(".trim", "s without leading and trailing characters <= space (Java trim).", _java_trim)
_string_fn(".strip", "s without leading and trailing whitespace.", str.strip)
_string_fn(".isBlank", "True if s is empty or only whitespace.", lambda s: not s.strip(), False)
_string_fn(".length", "Number of characters of s.", len, False)
def _chars(s: str) -> Vector:
    current_meter().alloc_items(len(s))
    return Vector(map(char, s))


_string_fn(".toCharArray", "The characters of s (a vector).", _chars, False)


def _two_strings(name: str, doc: str, fn: Callable[[str, str], bool]) -> None:
    def method(s: Any, x: Any) -> bool:
        return fn(_this_string(name, s), _text_arg(name, x))

    _method(name, "([s x])", doc)(method)


@_method(".startsWith", "([s prefix] [s prefix offset])",
         "True if s starts with prefix (at offset).")
def starts_with(s: Any, prefix: Any, offset: Any = 0) -> bool:
    s = _this_string(".startsWith", s)
    at = _int_arg(".startsWith", offset)
    return 0 <= at <= len(s) and s.startswith(_text_arg(".startsWith", prefix), at)


_two_strings(".endsWith", "True if s ends with suffix.", str.endswith)
_two_strings(".equalsIgnoreCase", "True if s and x are equal ignoring case.",
             lambda a, b: a.lower() == b.lower() or a.upper() == b.upper())
_two_strings(".matches", "True if the regex (string) matches the whole of s.",
             lambda s, rx: _fullmatch(rx, s))


def _fullmatch(rx: str, s: str) -> bool:
    from .._values.regex import compile_regex, fullmatch

    return fullmatch(compile_regex(rx), s) is not None


@_method(".contains", "([s x])", "True if string s contains x; on a vector, list or set, the item.")
def contains(s: Any, x: Any) -> bool:
    if type(s) is Set:
        return x in s
    if _is_list(s):
        return any(equals(x, y) for y in _items(s))
    return _text_arg(".contains", x) in _this_string(".contains", s)


@_method(".charAt", "([s index])", "The character at index.")
def char_at(s: Any, index: Any) -> Char:
    s = _this_string(".charAt", s)
    i = _int_arg(".charAt", index)
    if not 0 <= i < len(s):
        raise _out_of_bounds(".charAt", f"index {i}, length {len(s)}")
    return char(s[i])


@_method(".replace", "([s target replacement])",
         "s with every target (string or char, literal) replaced by replacement.")
def replace(s: Any, target: Any, replacement: Any) -> str:
    s = _this_string(".replace", s)
    old = _text_arg(".replace", target, chars=True)
    new = _text_arg(".replace", replacement, chars=True)
    if type(target) is not type(replacement) and Char in (type(target), type(replacement)):
        type_error(".replace: target and replacement must both be characters or both strings")
    hits = s.count(old) if old else len(s) + 1
    current_meter().alloc_str(len(s) + hits * len(new))
    return s.replace(old, new)


def _regex_replace(name: str, count: int) -> Callable[..., str]:
    def method(s: Any, regex: Any, replacement: Any) -> str:
        from .._values.regex import compile_regex
        from ._regexes import _replace

        rx = _text_arg(name, regex)
        return _replace(name, _this_string(name, s), compile_regex(rx),
                        _text_arg(name, replacement), count)

    return method


_method(".replaceAll", "([s regex replacement])",
        "s with every match of the regex (string) replaced ($1 is group 1).")(
    _regex_replace(".replaceAll", 0))
_method(".replaceFirst", "([s regex replacement])",
        "s with the first match of the regex (string) replaced.")(
    _regex_replace(".replaceFirst", 1))


@_method(".split", "([s regex] [s regex limit])",
         "Vector of the parts of s between matches of the regex (Java String.split).")
def split(s: Any, regex: Any, limit: Any = 0) -> Vector:
    from .._values.regex import compile_regex
    from ._strings import java_split

    s = _this_string(".split", s)
    rx = regex if type(regex) is Regex else compile_regex(_text_arg(".split", regex))
    parts = java_split(rx, s, _int_arg(".split", limit))
    current_meter().alloc_items(len(parts))
    return Vector(parts)


@_method(".concat", "([s x])", "s followed by string x.")
def concat(s: Any, x: Any) -> str:
    s = _this_string(".concat", s)
    if type(x) is not str:
        _text_arg(".concat", x)
        type_error(f".concat: expected a string, got {type_name(x)}")
    return charge_str(s + x)


@_method(".repeat", "([s n])", "s repeated n times.")
def repeat(s: Any, n: Any) -> str:
    s = _this_string(".repeat", s)
    count = _int_arg(".repeat", n)
    if count < 0:
        raise EvalError(f".repeat: count is negative: {count}", code="invalid_args")
    current_meter().alloc_str(len(s) * count)
    return s * count


@_method(".compareTo", "([s x])", "Java's lexicographic comparison of strings (UTF-16 code units).")
def compare_to(s: Any, x: Any) -> int:
    from ._numbers import compare_values

    a = _this_string(".compareTo", s)
    if type(x) is not str:
        type_error(f".compareTo: expected a string, got {type_name(x)}")
    return compare_values(a, x)


# ---------------------------------------------------------------- any value


@_method(".equals", "([x y])", "Java equals: like = (1 and 1.0 differ).")
def equals_(x: Any, y: Any) -> bool:
    if x is None:
        raise _receiver_nil(".equals")
    return equals(x, y)


@_method(".toString", "([x])", "x as text (as str).")
def to_string(x: Any) -> str:
    if x is None:
        raise _receiver_nil(".toString")
    return charge_str(str_of(x))


# ---------------------------------------------------------------- collections


def _is_list(x: Any) -> bool:
    return type(x) in (Vector, List, LazySeq)


def _items(x: Any) -> tuple[Any, ...]:
    return x.realized() if type(x) is LazySeq else x


def _coll(name: str, x: Any) -> Any:
    if x is None:
        raise _receiver_nil(name)
    if _is_list(x) or type(x) in (Map, Set):
        return x
    type_error(f"{name}: no such method on {type_name(x)}",
               hint="use the core functions: count, get, contains?, empty?")


@_method(".isEmpty", "([x])", "True if the string or collection x is empty.")
def is_empty(x: Any) -> bool:
    if type(x) is str:
        return not x
    coll = _coll(".isEmpty", x)
    return not (_items(coll) if _is_list(coll) else coll)


@_method(".size", "([coll])", "Number of items of a collection.")
def size(coll: Any) -> int:
    coll = _coll(".size", coll)
    return len(_items(coll)) if _is_list(coll) else len(coll)


@_method(".get", "([coll key])",
         "Item at index of a vector/list (an error out of range), value at key of a map.")
def get(coll: Any, key: Any) -> Any:
    coll = _coll(".get", coll)
    if type(coll) is Map:
        return coll.get(key)
    if type(coll) is Set:
        type_error(".get: no such method on a set", hint="use (get s x) or (contains? s x)")
    xs = _items(coll)
    i = _int_arg(".get", key)
    if not 0 <= i < len(xs):
        raise EvalError(f".get: index {i} out of bounds for length {len(xs)}",
                        code="index_out_of_bounds", hint="check (count coll) or use (get v i)")
    return xs[i]


@_method(".containsKey", "([m key])", "True if map m has key.")
def contains_key(m: Any, key: Any) -> bool:
    if type(_coll(".containsKey", m)) is not Map:
        type_error(f".containsKey: no such method on {type_name(m)}", hint="use (contains? m k)")
    return key in m


def _entry(name: str, e: Any) -> Vector:
    if type(e) is Vector and len(e) == 2:
        return e
    if e is None:
        raise _receiver_nil(name)
    type_error(f"{name}: expected a map entry, got {type_name(e)}", hint="use (key e) / (val e)")


@_method(".getKey", "([entry])", "The key of a map entry.")
def get_key(e: Any) -> Any:
    return _entry(".getKey", e)[0]


@_method(".getValue", "([entry])", "The value of a map entry.")
def get_value(e: Any) -> Any:
    return _entry(".getValue", e)[1]
