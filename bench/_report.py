"""Shared by the benchmarks: describe the machine, and replace one section of docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def machine() -> str:
    """E.g. ``CPython 3.11.7, 2 cores, load average 1.2``: figures depend on the load."""
    return (f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} "
            f"cores, load average {os.getloadavg()[0]:.1f}")


def write_section(section: str) -> None:
    """Put ``section`` (text starting ``## Heading``) in place of that section, or append it."""
    heading = section.split("\n", 1)[0]
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    start = text.find(heading + "\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section.rstrip("\n") + "\n" + (text[end:] if end != -1 else "")
    DOC.write_text(text)
