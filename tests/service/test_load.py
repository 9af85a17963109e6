"""A smaller version of bench/bench_service.py as a test: real HTTP on 127.0.0.1, a real
``ptclisp serve`` process, 100 suspended runs, 120 deliveries (20% duplicates) from 20 concurrent
clients — 0 lost, 0 double effects, every duplicate answered 409. No timing assertions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from bench_service import run_load


@pytest.mark.slow
def test_concurrent_deliveries_with_duplicates(store_url: str) -> None:
    out = run_load(store_url, runs=100, duplicates=0.2, clients=20)
    assert out["codes"] == {200: 100, 409: 20}
    assert (out["finished"], out["lost"]) == (100, 0)
    assert (out["emails"], out["double_effects"]) == (100, 0)
