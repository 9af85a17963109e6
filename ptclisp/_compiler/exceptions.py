"""Python exceptions escaping a call → ptclisp errors with the call's position and a hint."""

from __future__ import annotations

import inspect
import re
from typing import Any

from .._errors import EvalError, InternalError, LimitExceeded, PtclispError
from .rt import type_name

__all__ = ["convert_exception"]


_UNKNOWN: Any = object()


def convert_exception(
    exc: Exception,
    name: str,
    line: int,
    column: int,
    fn: Any = _UNKNOWN,
    args: tuple[Any, ...] | None = None,
) -> PtclispError:
    """A Python exception escaping a call → the ptclisp error with the call's position."""
    message = str(exc)
    if isinstance(exc, RecursionError):
        return LimitExceeded("recursion too deep", code="depth_limit",
                             hint="recursion is too deep: use loop/recur or reduce instead",
                             line=line, column=column)
    if isinstance(exc, MemoryError):
        return LimitExceeded("out of memory", code="memory_limit",
                             hint="build smaller values: aggregate instead of materialising",
                             line=line, column=column)
    if isinstance(exc, ZeroDivisionError):
        return EvalError("divide by zero", code="division_by_zero",
                         hint="check the divisor before dividing", line=line, column=column)
    if isinstance(exc, IndexError):
        return EvalError(f"index out of bounds in {name}", code="index_out_of_bounds",
                         hint="check the index against (count coll), or use get/nth with a default",
                         line=line, column=column)
    if isinstance(exc, TypeError):
        return _type_error(message, name, line, column, fn, args)
    if isinstance(exc, (ValueError, OverflowError, KeyError, AttributeError)):
        return EvalError(f"{name}: {message}", code="invalid_args",
                         hint=f"check the arguments passed to {name}", line=line, column=column)
    return InternalError(f"{type(exc).__name__} in {name}: {message}",
                         hint="this is a ptclisp bug; try another way to compute the value",
                         line=line, column=column)


def _type_error(message: str, name: str, line: int, column: int, fn: Any,
                args: tuple[Any, ...] | None) -> PtclispError:
    if "not callable" in message:
        known = fn is not _UNKNOWN
        what = type_name(fn) if known else "value"
        return EvalError(f"{_show(fn) if known else 'the value'} ({what}) is not a function",
                         code="not_callable",
                         hint="the first element of a list is called: quote data lists with '(...) "
                         "or use a vector [...]", line=line, column=column)
    if fn is not _UNKNOWN and args is not None and _wrong_arity(fn, args):
        takes = _fixed_arity(fn)
        if takes is not None:  # a program's fn with one fixed arity (see _compile_fn)
            return EvalError(f"wrong number of arguments ({len(args)}) passed to {name}, "
                             f"which takes {takes}", code="arity_error",
                             hint=f"call {name} with {takes} argument(s)", line=line,
                             column=column)
        return EvalError(f"wrong number of arguments ({len(args)}) passed to {name}",
                         code="arity_error", hint=_arity_hint(name), line=line, column=column)
    arity = _python_arity_message(message)
    if arity is not None:  # a program's fn called with a wrong count by a builtin
        fn_name, got, takes = arity
        return EvalError(f"wrong number of arguments ({got}) passed to {fn_name}, which takes "
                         f"{takes}", code="arity_error",
                         hint=f"call {fn_name} with {takes} argument(s)",
                         line=line, column=column)
    if "positional argument" in message or "required argument" in message:
        return EvalError(f"wrong number of arguments: {message}", code="arity_error",
                         hint=f"check how many arguments each function in {name} receives",
                         line=line, column=column)
    return EvalError(f"{name}: {message}", code="type_error",
                     hint=f"check the types of the arguments passed to {name}",
                     line=line, column=column)


def _wrong_arity(fn: Any, args: tuple[Any, ...]) -> bool:
    try:
        inspect.signature(fn).bind(*args)
    except TypeError:
        return True
    except ValueError:  # no signature (a C builtin): cannot tell
        return False
    return False


_TAKES = re.compile(r"^(\S+)\(\) takes (\d+) positional arguments? but (\d+) (?:was|were) given$")
_MISSING = re.compile(r"^(\S+)\(\) missing (\d+) required positional arguments?: (.*)$")
_PARAM = re.compile(r"'v(\d+)'|'x'")


def _python_arity_message(message: str) -> tuple[str, int, int] | None:
    """(fn name, arguments given, parameters) from Python's message for a wrong call count of
    a program's fn: compiled fns name their parameters v1..vn (one-parameter closures: x)."""
    if (m := _TAKES.match(message)) is not None:
        return m[1], int(m[3]), int(m[2])
    if (m := _MISSING.match(message)) is not None:
        params = [int(p[1] or 1) for p in _PARAM.finditer(m[3])]
        if len(params) != int(m[2]):
            return None
        return m[1], max(params) - len(params), max(params)
    return None


def _fixed_arity(fn: Any) -> int | None:
    """The parameter count of a program's fn taking plain positional parameters, else None."""
    code = getattr(fn, "__code__", None)
    if code is None or not hasattr(fn, "ptclisp_name") or code.co_flags & 0x0C or fn.__defaults__:
        return None  # 0x0C: *args or **kwargs
    return code.co_argcount


def _arity_hint(name: str) -> str:
    try:
        from .._core import DOCS
    except ImportError:  # pragma: no cover - core always present in a full install
        return f"check how many arguments {name} takes"
    doc = DOCS.get(name)
    if doc is None:
        return f"check how many arguments {name} takes"
    return f"{name} takes {doc.arglists}"



def _show(value: Any) -> str:
    from .._values.printer import pr_str

    text = pr_str(value)
    return text if len(text) <= 60 else text[:57] + "..."
