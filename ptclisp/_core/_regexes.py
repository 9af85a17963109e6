"""Regex builtins: re-pattern re-find re-matches re-seq, and clojure.string/replace(-first).

Clojure group semantics: a match of a pattern without groups is the matched string; with groups
it is the vector ``[whole g1 g2 ...]`` where an unmatched group is nil. Matching is bounded by
the run's clock (see ``ptclisp._regex``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._limits import current_meter
from .._values import regex as _regex
from .._values.types import Char, List, Regex, Vector
from ._registry import builtin
from ._support import invalid_args, type_error, type_name
from ._text import as_str, charge_str, str_of


def _regex_arg(fname: str, rx: Any) -> Regex:
    if type(rx) is Regex:
        return rx
    if type(rx) is str:
        return _regex.compile_regex(rx)
    type_error(f"{fname}: expected a regex, got {type_name(rx)}", hint='write a regex as #"..."')


def _groups(m: Any) -> Any:
    if m.re.groups == 0:
        return m.group(0)
    return Vector((m.group(0), *m.groups()))


@builtin("re-pattern", arglists="([s])", doc="The regex (Java syntax) written in string s.",
         category="regex")
def re_pattern(s: Any) -> Regex:
    if type(s) is Regex:
        return s
    return _regex.compile_regex(as_str("re-pattern", s))


@builtin("re-find", arglists="([re s])",
         doc="The first match of re in s (a string, or [whole g1 ...] with groups), or nil.",
         category="regex")
def re_find(rx: Any, s: Any) -> Any:
    m = _regex.search(_regex_arg("re-find", rx), as_str("re-find", s))
    return None if m is None else _groups(m)


@builtin("re-matches", arglists="([re s])",
         doc="The match of re against the whole of s (string or [whole g1 ...]), or nil.",
         category="regex")
def re_matches(rx: Any, s: Any) -> Any:
    m = _regex.fullmatch(_regex_arg("re-matches", rx), as_str("re-matches", s))
    return None if m is None else _groups(m)


@builtin("re-seq", arglists="([re s])", doc="Seq of all the matches of re in s, or nil.",
         category="regex")
def re_seq(rx: Any, s: Any) -> Any:
    matches = _regex.finditer(_regex_arg("re-seq", rx), as_str("re-seq", s))
    if not matches:
        return None
    current_meter().alloc_items(len(matches) * (1 + matches[0].re.groups))
    return List(map(_groups, matches))


# ---------------------------------------------------------------- replace


_Parts = tuple[tuple[bool, Any], ...]
_TEMPLATES: dict[tuple[str, str], tuple[_Parts, str | None]] = {}
"""Parsed replacement templates by (regex source, template) — a Regex is its source — with the
text of a template without group references: a loop replacing in every word parses its
template once, not per call (only templates that parsed are kept)."""


def _template(rx: Regex, template: str) -> tuple[_Parts, str | None]:
    key = (rx.source, template)
    found = _TEMPLATES.get(key)
    if found is None:
        parts = _parse_template(rx, template)
        literal = None if any(is_group for is_group, _ in parts) else "".join(
            p for _, p in parts)
        if len(_TEMPLATES) >= 512:
            _TEMPLATES.clear()
        found = _TEMPLATES[key] = (parts, literal)
    return found


def _java_replacement(rx: Regex, template: str) -> Callable[[Any], str]:
    """A Java Matcher replacement string ($1, ${name}, \\$ escapes) as a match → text function."""
    return _expander(_template(rx, template)[0])


def _expander(parts: _Parts) -> Callable[[Any], str]:
    def expand(m: Any) -> str:
        return "".join((m.group(p) or "") if is_group else p for is_group, p in parts)

    return expand


def _parse_template(rx: Regex, template: str) -> _Parts:
    """``(is_group, literal text or group reference)`` parts of a Java replacement string."""
    parts: list[tuple[bool, Any]] = []  # (is_group, literal text or group reference)
    literal: list[str] = []
    groups = rx.pattern.groups
    i, n = 0, len(template)
    while i < n:
        c = template[i]
        if c == "\\":
            if i + 1 >= n:
                invalid_args("replacement: character to be escaped is missing")
            literal.append(template[i + 1])
            i += 2
            continue
        if c != "$":
            literal.append(c)
            i += 1
            continue
        i += 1
        if i < n and template[i] == "{":
            close = template.find("}", i)
            ref: Any = template[i + 1:close] if close > 0 else ""
            if ref not in rx.pattern.groupindex:
                invalid_args(f"replacement: no group named {ref!r}")
            i = close + 1
        elif i < n and template[i].isdigit():
            ref = int(template[i])
            if ref > groups:
                invalid_args(f"replacement: no group {ref} in the regex",
                             hint="escape a literal $ as \\\\$")
            i += 1
            while i < n and template[i].isdigit() and ref * 10 + int(template[i]) <= groups:
                ref = ref * 10 + int(template[i])
                i += 1
        else:
            invalid_args("replacement: illegal group reference after $",
                         hint="use $1 for a group, \\\\$ for a literal $")
        if literal:
            parts.append((False, "".join(literal)))
            literal = []
        parts.append((True, ref))
    if literal:
        parts.append((False, "".join(literal)))
    return tuple(parts)


def _charged(repl: Callable[[Any], str]) -> Callable[[Any], str]:
    meter = current_meter()

    def charged_repl(m: Any) -> str:
        text = repl(m)
        meter.tick()
        meter.alloc(len(text))
        return text

    return charged_repl


_LITERALS: dict[tuple[str, str], tuple[Any, ...]] = {}
"""``_regex.literal_plan`` by (regex source, template), for templates without group references."""


def _replace(fname: str, s: Any, match: Any, replacement: Any, count: int) -> str:
    if type(s) is str and type(match) is Regex and type(replacement) is str:
        plan = _LITERALS.get((match.source, replacement))
        if plan is not None:  # the usual case, without the general dispatch below
            return _regex.replace_literal(match, plan, s, count)
    s = as_str(fname, s)
    tm = type(match)
    if tm is str or tm is Char:
        target = as_str(fname, match)
        if type(replacement) not in (str, Char):
            type_error(f"{fname}: a string match needs a string replacement, got "
                       f"{type_name(replacement)}",
                       hint="use a regex match to replace with a function")
        rep = as_str(fname, replacement)
        hits = (s.count(target) if target else len(s) + 1) if count == 0 else 1
        current_meter().alloc_str(len(s) + hits * len(rep))
        return s.replace(target, rep, count or -1)
    if tm is not Regex:
        type_error(f"{fname}: match must be a string, character or regex, got {type_name(match)}")
    if type(replacement) is str:
        parts, literal = _template(match, replacement)
        if literal is not None:  # no group reference: the engine substitutes it
            if len(_LITERALS) >= 512:
                _LITERALS.clear()
            plan = _LITERALS[(match.source, replacement)] = _regex.literal_plan(match, literal)
            return _regex.replace_literal(match, plan, s, count)
        repl = _expander(parts)
    elif callable(replacement) and type(replacement) is not Char:
        def repl(m: Any) -> str:
            return str_of(replacement(_groups(m)))
    else:
        type_error(f"{fname}: replacement must be a string or a function, "
                   f"got {type_name(replacement)}")
    return charge_str(_regex.sub(match, _charged(repl), s, count))


@builtin("clojure.string/replace", arglists="([s match replacement])",
         doc="s with every match replaced; match is a string, char or regex "
             "($1 in a string replacement is group 1; a function gets the match).",
         category="strings")
def replace(s: Any, match: Any, replacement: Any) -> str:
    if type(s) is str and type(match) is Regex and type(replacement) is str:
        plan = _LITERALS.get((match.source, replacement))
        if plan is not None:  # the usual case (as in _replace), one frame less
            return _regex.replace_literal(match, plan, s, 0)
    return _replace("replace", s, match, replacement, 0)


@builtin("clojure.string/replace-first", arglists="([s match replacement])",
         doc="s with the first match replaced (as clojure.string/replace).", category="strings")
def replace_first(s: Any, match: Any, replacement: Any) -> str:
    return _replace("replace-first", s, match, replacement, 1)
