"""Core library against real Clojure 1.11: ``core_oracle_cases.jsonl`` holds programs and the
``pr-str`` of their value as printed by Clojure (or ``error: true`` where Clojure throws),
produced with the recipe of ../shared/conformance/README.md. Cases where ptclisp deliberately
differs (ratios, lazy-seq printing, hashing of 1/1.0) are not in the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import ptclisp

CASES = [json.loads(line) for line in
         (Path(__file__).parent / "core_oracle_cases.jsonl").read_text().splitlines() if line]


@pytest.mark.parametrize("case", CASES, ids=[c["program"][:60] for c in CASES])
def test_matches_clojure(case: dict[str, Any]) -> None:
    result = ptclisp.run(case["program"])
    if case.get("error"):
        assert result.status == "error", ptclisp.pr_str(result.value)
        return
    assert result.status == "ok", result.error
    printed = ptclisp.pr_str(result.value)
    if printed == case["expected"]:
        return
    # Same value printed in another order (sets): compare with Clojure = inside ptclisp.
    same = ptclisp.run(f"(= (do {case['program']}) (quote {case['expected']}))")
    assert same.status == "ok" and same.value is True, f"got {printed}"
