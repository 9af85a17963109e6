"""ptclisp: run small Clojure-like programs written by LLMs, sandboxed, against host tools.

    >>> import ptclisp
    >>> ptclisp.run("(->> data/xs (filter odd?) (reduce +))", data={"xs": [1, 2, 3]}).value
    4

``run`` never raises for a program's fault: the ``Result`` says ``ok``, ``failed`` (the program
called ``fail``) or ``error`` (with a ``PtclispError`` carrying a code, position and hint).
"""

from ._errors import (
    AnalysisError,
    EvalError,
    InternalError,
    LimitExceeded,
    PtclispError,
    ReadError,
    ToolError,
)
from ._journal import PendingError
from ._limits import Limits
from ._pending import PendingStep, deserialize, serialize
from ._preview import AwaitUse, Definition, Preview, ToolUse, preview
from ._printer import pr_str
from ._reader import read_string
from ._result import Result, ToolCall
from ._resume import resume, start
from ._run import run
from ._store import PendingStore, SQLiteStore, resume_stored
from ._tools import Tool, ToolRegistry, tool
from ._values import Char, Keyword, List, Map, Set, Symbol, Vector

__all__ = [
    "AnalysisError",
    "AwaitUse",
    "Char",
    "Definition",
    "EvalError",
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
    "Symbol",
    "Tool",
    "ToolCall",
    "ToolUse",
    "ToolError",
    "ToolRegistry",
    "Vector",
    "deserialize",
    "pr_str",
    "preview",
    "read_string",
    "resume",
    "resume_stored",
    "run",
    "serialize",
    "start",
    "tool",
]
