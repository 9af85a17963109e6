"""Errors of the sandbox tiers, rooted in ``ptclisp.PtclispError``.

    PtclispError
    └── SandboxError          sandbox_error   the tier itself failed (cannot start, bad build)
        └── SandboxCrash      sandbox_crash   the guest died (a bug in the interpreter, a signal)

Resource breaches detected by the OS or by wasmtime are not new codes: they reuse the language's
``memory_limit`` and ``timeout`` (see docs/sandbox.md for the mapping), so a caller matches the same
codes whatever the tier.
"""

from __future__ import annotations

from ptclisp import LimitExceeded, PtclispError

__all__ = ["SandboxCrash", "SandboxError", "memory_breach", "time_breach"]


class SandboxError(PtclispError):
    """A sandbox tier could not do its job (worker would not start, wasm build failed, ...)."""

    code = "sandbox_error"


class SandboxCrash(SandboxError):
    """The guest interpreter died mid-run. The host and its other runs are unaffected."""

    code = "sandbox_crash"


def memory_breach(detail: str) -> LimitExceeded:
    """A hard memory cap (RLIMIT_AS, wasm memory maximum) was hit."""
    return LimitExceeded(
        f"memory limit exceeded: {detail}",
        code="memory_limit",
        hint="the program builds values that are too large: aggregate instead of materialising",
    )


def backstop_grace(timeout_s: float, configured: float | None = None) -> float:
    """How far past a run's ``timeout_s`` an outer tier's own time limit (RLIMIT_CPU, the host's
    kill, the wasm epoch deadline) lets it go: the tier's ``configured`` grace if it has one, else
    half the timeout, between 0.25 s and 1 s. The interpreter's own clock ends a run on time; the
    backstop catches one stuck in a long native call, by 1.5x the limit."""
    if configured is not None:
        return configured
    return min(1.0, max(0.25, timeout_s / 2))


def time_breach(detail: str) -> LimitExceeded:
    """A hard CPU or wall-clock cap (RLIMIT_CPU, host kill, wasm epoch deadline) was hit."""
    return LimitExceeded(
        f"time limit exceeded: {detail}",
        code="timeout",
        hint="the program ran too long: do less work or fewer slow tool calls",
    )
