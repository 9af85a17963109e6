"""The ptclisp core library: Clojure functions as plain Python callables.

``BUILTINS`` maps every name (``"map"``, ``"clojure.string/join"`` and aliases such as
``"str/join"``) to its callable; ``DOCS`` maps each primary name to its ``BuiltinDoc``
(arglists, one-line doc, category), from which the LLM's language reference is generated.

Importing the domain modules registers their functions.
"""

from __future__ import annotations

from . import (  # noqa: F401  (imported for their registrations)
    _aggregates,
    _building,
    _colls,
    _functions,
    _generators,
    _java_methods,
    _java_static,
    _mapping,
    _more,
    _numbers,
    _predicates,
    _regexes,
    _reshape,
    _seqs,
    _sets,
    _sorting,
    _strings,
    _transducers,
    _walk,
)
from ._registry import BUILTINS, DOCS, BuiltinDoc, builtin

__all__ = ["BUILTINS", "DOCS", "BuiltinDoc", "builtin"]
