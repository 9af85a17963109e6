"""The parts of ptclisp the agent loop uses, in one place."""

from __future__ import annotations

from ptclisp import PendingStep, Tool, resume, start, tool
from ptclisp.host import read_forms

__all__ = ["PendingStep", "Tool", "read_forms", "resume", "start", "tool"]
