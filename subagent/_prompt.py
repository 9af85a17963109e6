"""The system prompt: how to answer, the language reference, the tools, the data, the goal.

The language reference is generated from the core library's own registry (``ptclisp._core``):
every builtin's name, arglists and one-line doc, grouped by category, so the prompt never
advertises a function the interpreter lacks. ``{{name}}`` / ``{{a.b}}`` placeholders in the
agent's prompt are filled from the context.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ptclisp import Signature
from ptclisp.host import redact

from ._errors import SubAgentError

__all__ = ["expand_placeholders", "language_reference", "system_prompt"]

_PLACEHOLDER = re.compile(r"\{\{\s*([\w\-]+(?:\.[\w\-]+)*)\s*\}\}")

_RULES = """\
You solve the task by writing programs in ptclisp, a small Clojure dialect, which the host runs \
for you in a sandbox. Each reply must contain exactly one program in a ```clojure fenced block. \
The host runs it and shows you its result (or its error, with a hint); then you write the next \
program.

- End the task with (return value) once you have the answer, or (fail {:reason "..."}) if it \
cannot be done. The value of a program that does neither is shown to you, and the next turn \
begins.
- Call tools as (tool/name {:arg value ...}); they return data (maps with keyword keys, \
vectors, strings, numbers). Do the data work (filtering, joining, counting) in the program, \
not in your head: only the program's final value is shown to you.
- Read the inputs as data/name.
- (def name value) and (defn name [args] body) persist across turns; *1, *2, *3 are the results \
of the previous turns.
- No I/O except tools, no namespaces, no atoms or mutation; Java interop only as listed under \
Java below (no clock or randomness: the time comes in as data).
- Map entries whose key starts with _ are shown to you as <hidden: ...>: the program can use and \
return them, but you will not see their content."""

_SPECIAL_FORMS = """\
def defn fn let if if-not when when-not cond case condp if-let when-let if-some when-some do \
loop/recur for doseq and or -> ->> some-> some->> cond-> cond->> as-> quote, destructuring in \
let/fn/loop/for (vectors with & and :as; maps with :keys :strs :or :as), #(... % %1 %&) short \
functions, (return v), (fail v), (await handle), (await-all [h ...]), (await-any [h ...]), \
pmap and pcalls for concurrent tool calls."""


_JAVA_CATEGORY = "java interop"
_JAVA_WHITELIST = """\
pure java.lang with Java semantics: Math/* (Math/pow, Math/abs, Math/sqrt, Math/PI ...), \
Double/* Float/* Long/* Integer/* (parseLong, parseDouble, MAX_VALUE, NaN, POSITIVE_INFINITY, \
isNaN, toHexString ...), Boolean/parseBoolean, Character/isDigit isLetter toUpperCase ..., \
String/valueOf, String/join, string methods (.substring .indexOf .lastIndexOf .toUpperCase \
.toLowerCase .trim .startsWith .endsWith .contains .length .charAt .replace .split .isEmpty \
.equals .equalsIgnoreCase) and .get .size on collections. Nothing else: prefer the core \
functions (subs, clojure.string/index-of ...); no System/*, java.time, Random, files."""


def language_reference(detail: str = "full") -> str:
    """The builtins by category: ``"full"`` (with arglists and docs) or ``"compact"`` (names)."""
    docs = _builtin_docs()
    by_category: dict[str, list[Any]] = {}
    for doc in docs.values():
        by_category.setdefault(doc.category, []).append(doc)
    lines = ["Special forms: " + _SPECIAL_FORMS, "", "Java: " + _JAVA_WHITELIST, ""]
    by_category.pop(_JAVA_CATEGORY, None)  # summarised above: one line instead of ~100 entries
    for category in sorted(by_category):
        entries = sorted(by_category[category], key=lambda d: d.name)
        if detail == "compact":
            lines.append(f"{category}: " + " ".join(d.name for d in entries))
            continue
        lines.append(f"{category}:")
        lines.extend(f"  {_calls(d.name, d.arglists)} {d.doc}" for d in entries)
    return "\n".join(lines).rstrip()


def _builtin_docs() -> Mapping[str, Any]:
    from ptclisp.host import builtin_docs

    return builtin_docs()


def _calls(name: str, arglists: str) -> str:
    """``"([coll] [n coll])"`` → ``"(take coll) (take n coll)"``: one call shape per arity."""
    forms = re.findall(r"\[([^\]]*)\]", arglists)
    if not forms:
        return f"({name})"
    return " ".join(f"({name} {f.strip()})" if f.strip() else f"({name})" for f in forms)


def system_prompt(
    *,
    tools_text: str,
    data: Mapping[str, Any],
    signature: Signature | None,
    max_turns: int,
    reference: str,
    extra: str = "",
) -> str:
    """The whole system prompt of one agent run."""
    parts = [_RULES, "## Language\n" + reference]
    parts.append("## Tools\n" + (tools_text or "(no tools)"))
    if data:
        parts.append("## Data\n" + describe_data(data))
    goal = []
    if signature is not None:
        goal.append(f"Your (return value) must match this type: {signature.returns.render()}")
        goal.append("(:int integer, :float number, :keyword keyword, [T] vector of T, "
                    "{field T} map with those keys, T? may be nil or absent)")
    if max_turns == 1:
        goal.append("You have exactly one turn: your program must end with (return value).")
    else:
        goal.append(f"You have at most {max_turns} turns.")
    parts.append("## Goal\n" + "\n".join(goal))
    if extra:
        parts.append(extra)
    return "\n\n".join(parts)


def describe_data(data: Mapping[str, Any], preview_chars: int = 300) -> str:
    """One line per input: its name, shape and a short preview (private fields hidden)."""
    from ptclisp import from_python, pr_str

    lines = []
    for name, value in data.items():
        shown = pr_str(redact(from_python(value)))
        if len(shown) > preview_chars:
            shown = shown[: preview_chars - 3] + "..."
        lines.append(f"data/{name} ({_shape(value)}): {shown}")
    return "\n".join(lines)


def _shape(value: Any) -> str:
    if isinstance(value, Mapping):
        return f"map with {len(value)} keys"
    if isinstance(value, (list, tuple)):
        return f"vector of {len(value)}"
    if isinstance(value, str):
        return f"string of {len(value)} chars"
    if value is None:
        return "nil"
    return type(value).__name__


def expand_placeholders(template: str, context: Mapping[str, Any]) -> str:
    """Fill ``{{name}}`` and ``{{a.b}}`` from ``context``; strings go in verbatim, other values as
    JSON. A placeholder with no value is a ``SubAgentError`` (``missing_context``)."""

    def fill(match: re.Match[str]) -> str:
        value: Any = context
        for part in match.group(1).split("."):
            if not isinstance(value, Mapping) or part not in value:
                raise SubAgentError(
                    f"the prompt uses {{{{{match.group(1)}}}}} but the context has no such value",
                    code="missing_context",
                    hint=f"pass context={{{match.group(1).split('.')[0]!r}: ...}} to run()",
                )
            value = value[part]
        return value if isinstance(value, str) else json.dumps(value, default=str)

    return _PLACEHOLDER.sub(fill, template)
