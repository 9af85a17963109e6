"""The parts of ptclisp the agent loop uses, in one place."""

from __future__ import annotations

from typing import Any

from ptclisp import PendingStep, Result, Tool, tool
from ptclisp import sandbox as _sandbox
from ptclisp.host import read_forms
from ptclisp.runtime import parallel_map

__all__ = ["PendingStep", "Tool", "read_forms", "resume", "run", "start", "tool"]


def start(source: str, *, tier: _sandbox.Tier = "inproc", **kwargs: Any) -> Result | PendingStep:
    """``ptclisp.start`` in the agent's tier (the journal and tools stay in this process);
    ``pmap``/``pcalls`` run concurrently (the journal is positional: replay is exact)."""
    return _sandbox.start(source, tier=tier, parallel_map=parallel_map, **kwargs)


def resume(pending: PendingStep, op_id: str, result: Any = None, *,
           tier: _sandbox.Tier = "inproc", **kwargs: Any) -> Result | PendingStep:
    """``ptclisp.resume`` in the agent's tier, ``pmap`` concurrent."""
    return _sandbox.resume(pending, op_id, result, tier=tier, parallel_map=parallel_map, **kwargs)


def run(source: str, *, tier: _sandbox.Tier = "inproc", **kwargs: Any) -> Result | PendingStep:
    """``ptclisp.run`` in the agent's tier."""
    return _sandbox.run(source, tier=tier, **kwargs)
