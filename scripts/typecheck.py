"""Type-check all four packages as the installed ``ptclisp`` namespace.

The folders ``runtime/``, ``subagent/`` and ``sandbox/`` install as ``ptclisp.runtime`` … (see
pyproject.toml), a mapping mypy cannot read from the source tree. This lays the folders out as
installed — a temporary ``ptclisp/`` of symlinks — runs mypy on it with the project's config, and
prints paths as they are in the repository.

    python3 scripts/typecheck.py [extra mypy arguments]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NESTED = ("runtime", "subagent", "sandbox")


def _lay_out(view: Path) -> None:
    package = view / "ptclisp"
    package.mkdir()
    for entry in (ROOT / "ptclisp").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for name in NESTED:
        (package / name).symlink_to(ROOT / name)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="ptclisp-typecheck-") as scratch:
        view = Path(scratch)
        _lay_out(view)
        done = subprocess.run(
            [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
             "--cache-dir", str(ROOT / ".mypy_cache"), "-p", "ptclisp", *argv],
            cwd=view, capture_output=True, text=True, check=False,
        )
    for name in NESTED:
        done.stdout = done.stdout.replace(f"ptclisp/{name}/", f"{name}/")
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
