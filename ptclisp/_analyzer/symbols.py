"""Symbol resolution: local, ``data/``, global, builtin, run-level name — or a clear error.

Anything that smells of host interop (``.method``, ``Class.``, ``java.x/y``, ``py/...``,
dunders) is refused here with a hint, so no program can reach a Python object's attributes.
"""

from __future__ import annotations

import difflib

from hy import models

from .._core._java_static import STATIC_FIELDS, refusal
from .._errors import AnalysisError
from . import ast as A
from ._env import Env, error, pos

__all__ = ["FORBIDDEN", "UNSUPPORTED", "check_not_interop", "resolve_symbol", "suggest"]

CONSTANTS = {"nil": None, "true": True, "false": False}

# Clojure names that exist but are refused on purpose, with what to do instead.
FORBIDDEN = {
    "new": "host interop is not available: build values with literals or core functions",
    "import": "imports are not available: everything the program can use is built in",
    "require": "namespaces are not available: clojure.string/... and clojure.set/... are built in",
    "ns": "namespaces are not available: write the program's forms directly",
    "eval": "eval is not available: write the code directly",
    "load-string": "load-string is not available: write the code directly",
    "load-file": "files are not available: call a tool or read data/... instead",
    "load": "files are not available: call a tool or read data/... instead",
    "slurp": "files are not available: call a tool or read data/... instead",
    "spit": "files are not available: return the value instead",
    "__import__": "there is no Python interop",
    "set!": "mutation is not available: compute a new value instead",
    "monitor-enter": "host interop is not available",
    "monitor-exit": "host interop is not available",
}

UNSUPPORTED = {
    "atom": "no mutable state: thread values through let, loop/recur or reduce",
    "swap!": "no mutable state: thread values through let, loop/recur or reduce",
    "reset!": "no mutable state: thread values through let, loop/recur or reduce",
    "deref": "no mutable state: thread values through let, loop/recur or reduce",
    "defmacro": "programs cannot define macros: write a function with defn",
    "try": "there is no try/catch: errors end the run; check inputs first or use (fail v)",
    "catch": "there is no try/catch: errors end the run; check inputs first or use (fail v)",
    "throw": "use (fail v) to end the run with a failure value",
    "ex-info": "use (fail v) to end the run with a failure value",
    "future": "use pmap or pcalls to run tool calls concurrently",
    "letfn": "define local functions with (let [f (fn [x] ...)] ...)",
}

_INTEROP_HINT = ("only a whitelist of pure Java is available (Math/..., Double/..., Long/..., "
                 "string methods such as .substring .indexOf .trim .split); otherwise use the "
                 "core functions, e.g. (subs s 6), clojure.string/index-of, "
                 "clojure.string/upper-case")


def resolve_symbol(form: models.Symbol, env: Env) -> A.Node:
    """The node a symbol evaluates to."""
    name = str(form)
    line, column = pos(form)
    if name in CONSTANTS:
        return A.Const(CONSTANTS[name], line=line, column=column)
    local = env.lookup(name)
    if local is not None:
        return type(local)(*_fields(local), line=line, column=column)
    root = env.root
    if name.startswith("data/") and len(name) > 5:
        return A.DataRef(name[5:], line=line, column=column)
    if name.startswith("tool/") and len(name) > 5:
        return A.ToolRef(name[5:], line=line, column=column)
    if name in root.globals:
        return A.Global(name, line=line, column=column)
    if name in STATIC_FIELDS:
        return A.Const(STATIC_FIELDS[name], line=line, column=column)
    if name in root.builtins:
        return A.Builtin(name, line=line, column=column)
    if name in root.run_names:
        return A.RunFn(name, line=line, column=column)
    short = name[len(_JAVA_LANG):] if name.startswith(_JAVA_LANG) else ""
    if short in STATIC_FIELDS:  # java.lang.Math/PI is Math/PI
        return A.Const(STATIC_FIELDS[short], line=line, column=column)
    if "/" in short and short in root.builtins:
        return A.Builtin(short, line=line, column=column)
    raise unbound(form, env)


_JAVA_LANG = "java.lang."


def _fields(local: A.Node) -> tuple[object, ...]:
    if isinstance(local, A.Local):
        return (local.slot, local.name)
    assert isinstance(local, A.Captured)
    return (local.index, local.name)


def check_not_interop(form: models.Symbol) -> None:
    """Refuse interop-shaped symbols (``.x``, ``X.``, ``a.b/c``, ``py/x``, dunders)."""
    name = str(form)
    if name in FORBIDDEN:
        raise error("invalid_form", f"{name} is not available in ptclisp", form, FORBIDDEN[name])
    if name == "." or name == "..":
        raise error("invalid_form", f"({name} ...) host interop is not available", form,
                    _INTEROP_HINT)
    if name.startswith(".") or name.endswith("."):
        raise error("invalid_form", f"{name}: host method/constructor calls are not available",
                    form, _INTEROP_HINT)
    if "__" in name:
        raise error("invalid_form", f"{name}: Python attribute access is not available", form,
                    _INTEROP_HINT)
    ns = name.partition("/")[0] if "/" in name[1:] else ""
    if ns in ("py", "python", "java", "js") or "." in ns or ("." in name and not ns):
        raise error("unbound_symbol", f"unable to resolve symbol {name}", form, _INTEROP_HINT)


def unbound(form: models.Symbol, env: Env) -> AnalysisError:
    name = str(form)
    refused = refusal(name)
    if refused is not None:
        return error("unbound_symbol", refused[0], form, refused[1])
    ns = name.partition("/")[0] if "/" in name[1:] else ""
    if ns not in _namespaces(env.root.builtins):
        check_not_interop(form)
    if name in UNSUPPORTED:
        return error("unbound_symbol", f"{name} is not supported in ptclisp", form,
                     UNSUPPORTED[name])
    if name.startswith(("data/", "tool/")):
        return error("unbound_symbol", f"{name} needs a name after the slash", form,
                     "write data/NAME for host input and (tool/NAME {...}) for a tool call")
    return error("unbound_symbol", f"unable to resolve symbol {name}", form, suggest(name, env))


_NS_CACHE: dict[int, frozenset[str]] = {}


def _namespaces(builtins: object) -> frozenset[str]:
    """Namespaces of the builtins (``clojure.string``, ``str``, ``Math`` ...)."""
    found = _NS_CACHE.get(id(builtins))
    if found is None:
        found = frozenset(n.partition("/")[0] for n in builtins if "/" in n[1:])  # type: ignore[attr-defined]
        _NS_CACHE[id(builtins)] = found
    return found


def suggest(name: str, env: Env) -> str:
    """A one-line "did you mean" hint from the names the program could have meant."""
    from ._dispatch import SPECIAL

    candidates = set(env.root.builtins) | set(env.root.globals) | set(SPECIAL)
    candidates |= set(env.root.run_names) | {n for n in env.names if not n.startswith(" ")}
    short = name.rpartition("/")[2]
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    if not close and short != name:
        close = difflib.get_close_matches(short, candidates, n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(close) + "?"
    return "define it with def/defn or let before use, or check the spelling of the core function"
