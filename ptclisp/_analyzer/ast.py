"""The core AST: what the analyzer produces and the compiler consumes.

Every node is a slotted dataclass carrying the ``line``/``column`` of the form it came
from. Nodes are never changed once made (hashed and compared by value, as frozen ones would
be); they are not declared frozen only because a frozen dataclass's ``__init__`` sets each
field through ``object.__setattr__``, 2.5 times the cost of making the node (issue 15).
The analyzer has already checked every special form, resolved every symbol and desugared
the macros (``when``, ``cond``, ``->``, ``if-let``, destructuring, ...) into these few nodes, so
the compiler never sees raw forms and never needs to validate anything.

Variables are resolved to places at analysis time:

    Local(slot)      the current function's frame: ``frame[slot]`` (slot 0 holds the captures)
    Captured(index)  a value captured by value when the closure was made: ``frame[0][index]``
    Global(name)     a ``def``/``defn`` in the run's namespace
    Builtin(name)    a core-library function
    RunFn(name)      a run-level function (``println``, ``return``, ``await``, ``*1``, ...)
    DataRef(name)    ``data/name``, host input
    ToolRef(name)    ``tool/name`` used as a value
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "And",
    "Arity",
    "Bind",
    "Builtin",
    "Call",
    "Captured",
    "Case",
    "Condp",
    "Const",
    "DataRef",
    "Def",
    "Do",
    "Fn",
    "For",
    "ForBinding",
    "ForLet",
    "ForWhen",
    "ForWhile",
    "Global",
    "If",
    "Let",
    "Local",
    "Loop",
    "MapLit",
    "Node",
    "Or",
    "Program",
    "Recur",
    "RunFn",
    "SetLit",
    "ToolCall",
    "ToolRef",
    "VectorLit",
]


@dataclass(slots=True, unsafe_hash=True, kw_only=True)
class Node:
    """Base of every node: the source position of the form it was analyzed from."""

    line: int = 0
    column: int = 0


# ---------------------------------------------------------------- values and places


@dataclass(slots=True, unsafe_hash=True)
class Const(Node):
    value: Any


@dataclass(slots=True, unsafe_hash=True)
class Local(Node):
    slot: int
    name: str


@dataclass(slots=True, unsafe_hash=True)
class Captured(Node):
    index: int
    name: str


@dataclass(slots=True, unsafe_hash=True)
class Global(Node):
    name: str


@dataclass(slots=True, unsafe_hash=True)
class Builtin(Node):
    name: str


@dataclass(slots=True, unsafe_hash=True)
class RunFn(Node):
    name: str


@dataclass(slots=True, unsafe_hash=True)
class DataRef(Node):
    name: str


@dataclass(slots=True, unsafe_hash=True)
class ToolRef(Node):
    name: str


@dataclass(slots=True, unsafe_hash=True)
class VectorLit(Node):
    items: tuple[Node, ...]


@dataclass(slots=True, unsafe_hash=True)
class MapLit(Node):
    pairs: tuple[tuple[Node, Node], ...]


@dataclass(slots=True, unsafe_hash=True)
class SetLit(Node):
    items: tuple[Node, ...]


# ---------------------------------------------------------------- control


@dataclass(slots=True, unsafe_hash=True)
class If(Node):
    test: Node
    then: Node
    orelse: Node


@dataclass(slots=True, unsafe_hash=True)
class Do(Node):
    body: tuple[Node, ...]


@dataclass(slots=True, unsafe_hash=True)
class And(Node):
    items: tuple[Node, ...]


@dataclass(slots=True, unsafe_hash=True)
class Or(Node):
    items: tuple[Node, ...]


@dataclass(slots=True, unsafe_hash=True)
class Case(Node):
    """``case``: ``table`` maps each constant to an index into ``branches``."""

    expr: Node
    table: tuple[tuple[Any, int], ...]
    branches: tuple[Node, ...]
    default: Node | None


@dataclass(slots=True, unsafe_hash=True)
class Condp(Node):
    """``condp``: ``(pred test expr)`` per clause; ``arrow`` clauses (``:>>``) call the result."""

    pred: Node
    expr: Node
    clauses: tuple[tuple[Node, Node, bool], ...]
    default: Node | None


# ---------------------------------------------------------------- bindings


@dataclass(slots=True, unsafe_hash=True)
class Bind(Node):
    """``frame[slot] = expr`` — one step of a ``let`` or of a destructuring."""

    slot: int
    expr: Node


@dataclass(slots=True, unsafe_hash=True)
class Let(Node):
    binds: tuple[Bind, ...]
    body: Node


@dataclass(slots=True, unsafe_hash=True)
class Loop(Node):
    """``loop``: ``entry`` binds the initial values into ``slots`` (destructuring as it goes).

    ``recur`` in the body stores new values into ``slots``; ``prologue`` then re-destructures
    them before the body runs again.
    """

    slots: tuple[int, ...]
    entry: tuple[Bind, ...]
    prologue: tuple[Bind, ...]
    body: Node


@dataclass(slots=True, unsafe_hash=True)
class Recur(Node):
    slots: tuple[int, ...]
    args: tuple[Node, ...]


@dataclass(slots=True, unsafe_hash=True)
class Arity(Node):
    """One arity of a function: params in slots 1..n (slot 0 = captures), then ``rest``."""

    nparams: int
    variadic: bool
    prologue: tuple[Bind, ...]
    body: Node
    nslots: int


@dataclass(slots=True, unsafe_hash=True)
class Fn(Node):
    """A closure: ``captures`` are evaluated where the fn is made (by value).

    A named fn (``(fn name [..] ..)``, ``defn``) finds itself at capture index 0.
    """

    name: str | None
    captures: tuple[Node, ...]
    arities: tuple[Arity, ...]
    named: bool


@dataclass(slots=True, unsafe_hash=True)
class Def(Node):
    name: str
    expr: Node


@dataclass(slots=True, unsafe_hash=True)
class Call(Node):
    fn: Node
    args: tuple[Node, ...]


@dataclass(slots=True, unsafe_hash=True)
class ToolCall(Node):
    name: str
    arg: Node | None


# ---------------------------------------------------------------- comprehensions


@dataclass(slots=True, unsafe_hash=True)
class ForBinding(Node):
    slot: int
    coll: Node
    prologue: tuple[Bind, ...]


@dataclass(slots=True, unsafe_hash=True)
class ForLet(Node):
    binds: tuple[Bind, ...]


@dataclass(slots=True, unsafe_hash=True)
class ForWhen(Node):
    test: Node


@dataclass(slots=True, unsafe_hash=True)
class ForWhile(Node):
    test: Node


@dataclass(slots=True, unsafe_hash=True)
class For(Node):
    """``for`` (``collect=True``, a sequence of body values) or ``doseq`` (``collect=False``)."""

    clauses: tuple[ForBinding | ForLet | ForWhen | ForWhile, ...]
    body: Node
    collect: bool


@dataclass(slots=True, unsafe_hash=True)
class Program(Node):
    """A whole program: top-level forms sharing one frame of ``nslots`` slots."""

    forms: tuple[Node, ...]
    nslots: int
    defs: frozenset[str]
