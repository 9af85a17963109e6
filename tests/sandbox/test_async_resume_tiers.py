"""The async resume suite (tests/ptclisp/test_async_resume.py) again, with every ``start``,
``resume`` and ``run`` of the suite going through ``ptclisp.sandbox`` in the process and wasm
tiers: the same values, codes, pending ops, outputs and exactly-once counts."""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ptclisp import sandbox

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ptclisp"))
import test_async_resume as suite
from test_async_resume import *  # noqa: F403  (its tests and fixtures, collected here)


@pytest.fixture(autouse=True, params=["process", "wasm"])
def tiered(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    tier = request.param

    def run(source: str, **kwargs: Any) -> Any:
        return sandbox.run(source, tier=tier, **kwargs)

    monkeypatch.setattr(suite, "start", functools.partial(sandbox.start, tier=tier))
    monkeypatch.setattr(suite, "resume", functools.partial(sandbox.resume, tier=tier))
    monkeypatch.setattr(suite, "run", run)
    yield tier


# These resume in child processes with the in-process API (their subject is crossing processes,
# covered in tests/ptclisp); here only their first run would be tiered.
for _name in ("test_three_cycles_across_processes_match_the_sync_run_exactly_once",
              "test_two_pending_ops_resumed_in_either_order",
              "test_two_processes_racing_to_resume_the_same_op_only_one_wins"):
    globals().pop(_name, None)
