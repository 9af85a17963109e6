"""ptclisp: run small Clojure-like programs written by LLMs, sandboxed, against host tools.

    >>> import ptclisp
    >>> ptclisp.run("(->> data/xs (filter odd?) (reduce +))", data={"xs": [1, 2, 3]}).value
    4

``run`` never raises for a program's fault: the ``Result`` says ``ok``, ``failed`` (the program
called ``fail``) or ``error`` (with a ``PtclispError`` carrying a code, position and hint).
"""

from ._async.journal import PendingError
from ._async.pending import PendingStep, deserialize, serialize
from ._async.resume import resume, start
from ._async.store import PendingStore, SQLiteStore, resume_stored
from ._errors import (
    AnalysisError,
    EvalError,
    HostInputError,
    InternalError,
    LimitExceeded,
    PtclispError,
    ReadError,
    ToolError,
    error_from_dict,
)
from ._limits import CancelToken, Limits
from ._preview import AwaitUse, Definition, Preview, ToolUse, preview
from ._program import CompiledProgram, compile
from ._reader.reader import read_string
from ._result import Result, ToolCall
from ._run import run
from ._tools.registry import Tool, ToolRegistry, tool
from ._tools.signature import Signature, SignatureMismatch, parse_signature
from ._values.printer import pr_str
from ._values.types import Char, Keyword, List, Map, Set, Symbol, Vector, from_python, to_python

__all__ = [
    "AnalysisError",
    "AwaitUse",
    "CancelToken",
    "Char",
    "CompiledProgram",
    "Definition",
    "EvalError",
    "HostInputError",
    "InternalError",
    "Keyword",
    "LimitExceeded",
    "Limits",
    "List",
    "Map",
    "PendingError",
    "PendingStep",
    "PendingStore",
    "Preview",
    "PtclispError",
    "ReadError",
    "Result",
    "SQLiteStore",
    "Set",
    "Signature",
    "SignatureMismatch",
    "Symbol",
    "Tool",
    "ToolCall",
    "ToolError",
    "ToolRegistry",
    "ToolUse",
    "Vector",
    "compile",
    "deserialize",
    "error_from_dict",
    "from_python",
    "parse_signature",
    "pr_str",
    "preview",
    "read_string",
    "resume",
    "resume_stored",
    "run",
    "serialize",
    "start",
    "to_python",
    "tool",
]
