"""Analysis-time scopes: which name is which place, and where slots go.

A function's frame is a Python list: slot 0 holds the tuple of values captured when the closure
was made, then the parameters, then every local the body binds (each ``let`` binding gets its own
slot, so nothing is ever looked up by name at run time). A name bound in an enclosing function
becomes a capture: it is evaluated once, when the inner ``fn`` is made, and read as
``frame[0][i]`` — values are immutable, so capturing by value is capturing.
"""

from __future__ import annotations

from collections.abc import Collection

from hy import models

from .._errors import AnalysisError
from . import ast as A

__all__ = ["Env", "FnScope", "Root", "SlotCounter", "error", "pos"]


class Root:
    """What is known for the whole program: globals, builtins, run-level names."""

    __slots__ = ("_gensym", "builtins", "globals", "run_names")

    def __init__(
        self, globals_: Collection[str], builtins: Collection[str], run_names: Collection[str]
    ) -> None:
        self.globals: set[str] = set(globals_)
        self.builtins = builtins
        self.run_names = run_names
        self._gensym = 0

    def gensym(self, prefix: str) -> str:
        """A local name no program can write (the reader never produces a leading space)."""
        self._gensym += 1
        return f" {prefix}{self._gensym}"


class SlotCounter:
    """Allocates frame slots for one function arity (or the top level)."""

    __slots__ = ("high", "next")

    def __init__(self, first: int) -> None:
        self.next = first
        self.high = first

    def alloc(self) -> int:
        slot = self.next
        self.next += 1
        self.high = max(self.high, self.next)
        return slot


class FnScope:
    """One ``fn`` being analyzed: the values it captures from its defining scope."""

    __slots__ = ("captures", "index", "named", "outer")

    def __init__(self, outer: Env | None, named: bool) -> None:
        self.outer = outer
        self.captures: list[A.Node] = []
        self.index: dict[str, int] = {}
        self.named = named

    def capture(self, name: str) -> A.Captured | None:
        if name in self.index:
            return A.Captured(self.index[name], name)
        if self.outer is None:
            return None
        outer_node = self.outer.lookup(name)
        if outer_node is None:
            return None
        idx = len(self.captures) + (1 if self.named else 0)
        self.captures.append(outer_node)
        self.index[name] = idx
        return A.Captured(idx, name)


class Env:
    """Lexical environment at one point of the program (immutable; ``bind`` makes a new one)."""

    __slots__ = ("fn", "names", "recur", "root", "slots")

    def __init__(
        self,
        root: Root,
        fn: FnScope,
        slots: SlotCounter,
        names: dict[str, A.Node],
        recur: tuple[int, ...] | None,
    ) -> None:
        self.root = root
        self.fn = fn
        self.slots = slots
        self.names = names
        self.recur = recur

    def lookup(self, name: str) -> A.Node | None:
        """The local place ``name`` refers to, capturing it from outer fns as needed."""
        node = self.names.get(name)
        if node is not None:
            return node
        return self.fn.capture(name)

    def bind(self, name: str, slot: int) -> Env:
        names = dict(self.names)
        names[name] = A.Local(slot, name)
        return Env(self.root, self.fn, self.slots, names, self.recur)

    def with_recur(self, slots: tuple[int, ...] | None) -> Env:
        return Env(self.root, self.fn, self.slots, self.names, slots)

    def alloc(self) -> int:
        return self.slots.alloc()

    def is_local(self, name: str) -> bool:
        return self.lookup(name) is not None


def pos(form: object) -> tuple[int, int]:
    """``(line, column)`` of a form (0, 0 when unknown)."""
    try:  # what the reader sets (the hy properties read these, with a default)
        return form._start_line or 0, form._start_column or 0  # type: ignore[attr-defined]
    except AttributeError:
        return getattr(form, "start_line", 0) or 0, getattr(form, "start_column", 0) or 0


def error(code: str, message: str, form: object, hint: str) -> AnalysisError:
    line, column = pos(form)
    return AnalysisError(message, code=code, hint=hint, line=line, column=column)


def at(new: models.Object, old: object) -> models.Object:
    """Give a synthesized form the position of the form it replaces."""
    line, column = pos(old)
    new.start_line, new.start_column = line, column
    return new
