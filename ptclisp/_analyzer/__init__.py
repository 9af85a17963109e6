"""The analyzer: reader forms → checked core AST (``ptclisp._ast``).

Every special form is validated here, up front, with errors that carry a code
(``invalid_form``, ``arity_error``, ``unbound_symbol``), the form's line/column and a one-line
hint an LLM can act on. Symbols are resolved to places (frame slots, captures, globals,
builtins), macros are expanded, destructuring becomes plain slot assignments.

Top-level ``def``/``defn`` names are collected before analysis, so a program may call a
function defined further down (Clojure would need ``declare``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from hy import models

from . import ast as A
from . import bindings, conditionals, iteration, threading  # noqa: F401 - register forms
from ._dispatch import SPECIAL, analyze
from ._env import Env, FnScope, Root, SlotCounter

__all__ = ["RUN_NAMES", "SPECIAL_FORMS", "analyze_program"]

# Names the run context provides (they need the run: output, tools, control flow, history).
RUN_NAMES = frozenset(
    {
        "println", "print", "prn", "pr", "newline", "return", "fail", "await", "await-all",
        "await-any", "pmap", "pcalls", "*1", "*2", "*3",
    }
)

SPECIAL_FORMS = frozenset(SPECIAL)


def analyze_program(
    forms: Sequence[object],
    *,
    known_globals: Collection[str] = (),
    builtins: Collection[str] | None = None,
    run_names: Collection[str] = RUN_NAMES,
    source: str | None = None,
    clock: Callable[[], None] | None = None,
) -> A.Program:
    """Analyze a whole program (the top-level forms of one source text). ``source``: the text
    the forms were read from; without "def" or "declare" in it no form can define a name.
    ``clock`` is called before each top-level form is analyzed (the run's time limit)."""
    if builtins is None:
        builtins = _BUILTINS or _load_builtins()
    defined = _top_level_defs(forms) if source is None or "def" in source or \
        "declare" in source else set()
    root = Root(defined.union(known_globals) if defined else known_globals, builtins,
                run_names)  # Root copies the names into a set of its own
    slots = SlotCounter(1)
    env = Env(root, FnScope(None, named=False), slots, {}, None)
    if clock is None:
        body = [analyze(f, env, False) for f in forms]
    else:
        body = []
        for f in forms:
            clock()
            body.append(analyze(f, env, False))
    return A.Program(tuple(body), slots.high, frozenset(root.globals))


_BUILTINS: Collection[str] = ()


def _load_builtins() -> Collection[str]:
    """The core library's names, imported once (a function-level import costs ~1 us)."""
    global _BUILTINS
    from .._core import BUILTINS

    _BUILTINS = BUILTINS
    return _BUILTINS


def _top_level_defs(forms: Sequence[object]) -> set[str]:
    """Names defined with def/defn anywhere in the program (defs are global in Clojure)."""
    found: set[str] = set()
    sequence, expression, symbol = models.Sequence, models.Expression, models.Symbol
    stack = [form for form in forms if isinstance(form, sequence)]  # only these hold defs
    while stack:
        form = stack.pop()
        if isinstance(form, expression) and len(form) >= 2:
            head, name, *rest = form  # hy's form[i] is a Python call
            if isinstance(head, symbol):
                if str(head) in _DEFINERS and isinstance(name, symbol):
                    found.add(str(name))
                elif str(head) == "declare":
                    found.update(str(n) for n in (name, *rest) if isinstance(n, symbol))
        stack.extend([x for x in form if isinstance(x, sequence)])
    return found


_DEFINERS = frozenset({"def", "defn", "defn-", "defonce"})
