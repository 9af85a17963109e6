"""The builtin registry: every core function registers itself here with its documentation.

``BUILTINS`` maps each callable name (and its aliases) to a plain Python callable taking
positional arguments. ``DOCS`` maps each primary name to a ``BuiltinDoc``; the docs generate
the language reference an LLM reads, so they must be short and accurate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["BUILTINS", "DOCS", "BuiltinDoc", "builtin"]

F = TypeVar("F", bound=Callable[..., Any])

BUILTINS: dict[str, Callable[..., Any]] = {}
DOCS: dict[str, BuiltinDoc] = {}

# Namespaces LLMs commonly alias: `(str/join ...)`, `(string/join ...)`, `(set/union ...)`.
_NAMESPACE_ALIASES = {
    "clojure.string/": ("str/", "string/", "s/"),
    "clojure.set/": ("set/",),
}


@dataclasses.dataclass(frozen=True)
class BuiltinDoc:
    """Documentation of one builtin, as shown in the language reference."""

    name: str
    arglists: str
    """Clojure-style arglists text, e.g. ``"([coll] [n coll])"``."""
    doc: str
    """One line."""
    category: str
    aliases: tuple[str, ...] = ()


def _expand_aliases(name: str, aliases: tuple[str, ...]) -> tuple[str, ...]:
    names = [name, *aliases]
    for prefix, short_prefixes in _NAMESPACE_ALIASES.items():
        for n in (name, *aliases):
            if n.startswith(prefix):
                names.extend(p + n[len(prefix) :] for p in short_prefixes)
    return tuple(dict.fromkeys(names))


def builtin(
    name: str, *aliases: str, arglists: str, doc: str, category: str
) -> Callable[[F], F]:
    """Register the decorated callable as ``name`` (and ``aliases``) with its documentation."""

    def register(fn: F) -> F:
        names = _expand_aliases(name, aliases)
        for n in names:
            if n in BUILTINS:
                raise RuntimeError(f"builtin {n!r} registered twice")
            BUILTINS[n] = fn
        DOCS[name] = BuiltinDoc(name, arglists, doc, category, names[1:])
        fn.ptclisp_name = name  # type: ignore[attr-defined]  # printed as #function[name]
        return fn

    return register
