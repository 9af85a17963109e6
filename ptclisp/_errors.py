"""The ptclisp error tree — the root of every error the project raises.

    PtclispError                      (code: "error")        root of all packages' errors
    ├── ReadError                     parse_error            the text is not valid syntax
    ├── AnalysisError                 syntax_error, unbound_symbol, arity_error, invalid_form
    ├── EvalError                     type_error, arity_error, index_out_of_bounds,
    │   │                             division_by_zero, not_callable, invalid_args, ...
    │   └── ToolError                 tool_error, tool_not_found
    ├── LimitExceeded                 step_limit, timeout, memory_limit, depth_limit, output_limit,
    │                                 cancelled (the host's CancelToken)
    ├── HostInputError                invalid_host_input — the host passed a bad argument
    │                                 (also a TypeError and ValueError); raised, not returned
    └── InternalError                 internal_error — a bug in ptclisp, never the program's fault

Other packages root their own trees here too (``subagent``, ``sandbox``, ``runtime``).

Language errors are what an LLM sees: each carries a stable ``code``, a ``message``, the source
``line``/``column`` when known, and a one-line ``hint`` the LLM can act on. ``LimitExceeded`` is
terminal: it ends the whole run.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AnalysisError",
    "EvalError",
    "HostInputError",
    "InternalError",
    "LimitExceeded",
    "PtclispError",
    "ReadError",
    "ToolError",
    "error_from_dict",
]


_CLASS_BY_CODE: dict[str, type[PtclispError]] = {}
"""Error code → the class that declares it (filled as subclasses are defined, in any package)."""


class PtclispError(Exception):
    """Root of every ptclisp error. ``code`` is machine-readable and stable."""

    code: str = "error"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every package's error class is rebuilt by code after crossing a process boundary.
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            _CLASS_BY_CODE.setdefault(cls.code, cls)

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        hint: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.hint = hint
        self.line = line
        self.column = column

    def at(self, line: int | None, column: int | None) -> PtclispError:
        """Attach a source position unless one is already known; returns self."""
        if self.line is None and line is not None:
            self.line, self.column = line, column
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "line": self.line,
            "column": self.column,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PtclispError:
        """Rebuild an error from ``to_dict()`` output; the class follows the code."""
        return error_from_dict(data)

    # Read-only mapping access to ``to_dict()`` (``err["code"]``, ``err.get("hint")``): errors
    # were plain dicts in ``subagent.Step`` before they became ``PtclispError`` objects.
    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    def __str__(self) -> str:
        where = f" (line {self.line}, column {self.column})" if self.line is not None else ""
        hint = f"\nhint: {self.hint}" if self.hint else ""
        return f"{self.code}: {self.message}{where}{hint}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class ReadError(PtclispError):
    """The source text is not valid ptclisp syntax."""

    code = "parse_error"


class AnalysisError(PtclispError):
    """A form is malformed: bad special form, unknown symbol, wrong static arity."""

    code = "syntax_error"


class EvalError(PtclispError):
    """The program failed while running (wrong type, bad index, ...)."""

    code = "type_error"


class ToolError(EvalError):
    """A host tool is missing, rejected its arguments, or raised."""

    code = "tool_error"


class LimitExceeded(PtclispError):
    """A resource limit was reached. Terminal: the run ends."""

    code = "step_limit"


class HostInputError(PtclispError, TypeError, ValueError):
    """The host (Python code calling ptclisp) passed an argument of the wrong kind.

    Raised at once (never folded into a ``Result``): it is the caller's bug, not the program's.
    The message names the argument and what was expected.
    """

    code = "invalid_host_input"


class InternalError(PtclispError):
    """A bug in ptclisp itself. This should never happen."""

    code = "internal_error"


_LIMIT_CODES = {"step_limit", "timeout", "memory_limit", "depth_limit", "output_limit",
                "cancelled"}
_TOOL_CODES = {"tool_error", "tool_not_found"}
_CLASS_BY_CODE.update({"unbound_symbol": AnalysisError, "invalid_form": AnalysisError})


def error_from_dict(data: dict[str, Any]) -> PtclispError:
    """Rebuild an error from ``PtclispError.to_dict()`` output (the class follows the code)."""
    code = str(data.get("code") or "error")
    if code in _LIMIT_CODES:
        cls: type[PtclispError] = LimitExceeded
    elif code in _TOOL_CODES:
        cls = ToolError
    else:
        cls = _CLASS_BY_CODE.get(code, EvalError)
    return cls(
        str(data.get("message", "")),
        code=code,
        hint=data.get("hint"),
        line=data.get("line"),
        column=data.get("column"),
    )
