"""Write docs/core-library.md from the core library's registry (``ptclisp._core.DOCS``).

    python scripts/gen_core_docs.py          # rewrite the file
    python scripts/gen_core_docs.py --check  # exit 1 if the file is out of date (the tests do this)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "core-library.md"


def render() -> str:
    sys.path.insert(0, str(ROOT))
    from ptclisp._core import DOCS

    by_category: dict[str, list] = {}
    for doc in DOCS.values():
        by_category.setdefault(doc.category, []).append(doc)
    lines = [
        "# Core library",
        "",
        ("Generated from the registry (`ptclisp._core.DOCS`) by `scripts/gen_core_docs.py`; "
         "the same"),
        ("entries make the language reference in a SubAgent's system prompt. "
         "Clojure semantics unless"),
        "docs/language.md and docs/conformance.md say otherwise.",
        "",
    ]
    for category in sorted(by_category):
        lines += [f"## {category}", "", "| function | arguments | what it does |", "|---|---|---|"]
        for doc in sorted(by_category[category], key=lambda d: d.name):
            aliases = f" (also {', '.join(f'`{a}`' for a in doc.aliases)})" if doc.aliases else ""
            arglists = doc.arglists.replace("|", "\\|")
            text = doc.doc.replace("|", "\\|")
            lines.append(f"| `{doc.name}`{aliases} | `{arglists}` | {text} |")
        lines.append("")
    return "\n".join(lines + _java_sections())


def _java_sections() -> list[str]:
    from ptclisp._core._java_static import _REFUSED_CLASSES, _REFUSED_NAMES, STATIC_FIELDS

    lines = [
        "## java static fields",
        "",
        "Constants with Java's values (`Double/NaN` is `##NaN`); they are values, not functions.",
        "",
        "| field | value |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | `{_show(value)}` |" for name, value in STATIC_FIELDS.items()]
    lines += [
        "",
        "## refused on purpose",
        "",
        "Any other `Class/member`, `(.method x)` or constructor is an `unbound_symbol` /",
        "`invalid_form` error whose hint names the Clojure way (`(subs s 6)`,",
        "`clojure.string/index-of`). These are refused with a hint to pass the value in as data,",
        "because a program's replay must be deterministic:",
        "",
        "- names: " + ", ".join(f"`{n}`" for n in _REFUSED_NAMES),
        "- classes (any member, with or without package): "
        + ", ".join(f"`{c}`" for c in _REFUSED_CLASSES),
        "- packages: `java.time`, `java.util.Date`, `java.io`, `java.nio`, `java.lang.System`",
        "",
    ]
    return lines


def _show(value: object) -> str:
    from ptclisp import pr_str

    return pr_str(value)


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python scripts/gen_core_docs.py")
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
