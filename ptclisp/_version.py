"""The installed version of ptclisp (``ptclisp --version``, the REPL banner)."""

from __future__ import annotations

__all__ = ["version"]


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("ptclisp")
    except PackageNotFoundError:  # a source tree that is not installed
        return "unknown"
