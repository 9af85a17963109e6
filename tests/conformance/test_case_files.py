"""The case files themselves: well-formed, readable expectations, deviations that point somewhere.

The last test re-derives every expectation from real Clojure (skipped where no JVM/Clojure).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import _edn
import pytest
from _corpus import DEVIATIONS, EXTRA_CASES, SHARED_CASES, load_cases, load_deviations

ORACLE = Path(__file__).resolve().parents[2] / "tools" / "clojure_oracle" / "run_oracle.py"
_CORPORA = [EXTRA_CASES] + ([SHARED_CASES] if SHARED_CASES.exists() else [])
_KEYS = {"id", "category", "program", "expected", "error", "clojure_error", "tools", "data", "note"}


def _all_cases():
    return [case for path in _CORPORA for case in load_cases(path)]


@pytest.mark.parametrize("path", _CORPORA, ids=lambda p: p.name)
def test_cases_are_well_formed(path):
    for case in load_cases(path):
        assert set(case) <= _KEYS, case["id"]
        assert isinstance(case["program"], str) and case["program"].strip(), case["id"]
        assert ("expected" in case) != bool(case.get("error")), case["id"]
        if "expected" in case:
            _edn.parse(case["expected"])  # raises on unreadable text
        for host in ("tools", "data"):
            assert isinstance(case.get(host, {}), dict), case["id"]


def test_case_ids_are_unique_across_corpora():
    ids = [case["id"] for case in _all_cases()]
    assert len(ids) == len(set(ids))


def test_deviations_name_existing_cases_and_state_a_target():
    by_id = {case["id"]: case for case in _all_cases()}
    deviations = load_deviations()
    assert deviations, f"{DEVIATIONS} is empty"
    for case_id, deviation in deviations.items():
        assert case_id in by_id, case_id
        assert deviation.get("reason"), case_id
        assert ("expected" in deviation) != bool(deviation.get("error")), case_id
        if "expected" in deviation:
            _edn.parse(deviation["expected"])
            assert not _edn.edn_equal(deviation["expected"], by_id[case_id].get("expected", "nil"))


def test_every_case_noted_as_a_ptclisp_deviation_has_an_entry():
    deviations = load_deviations()
    noted = [c["id"] for c in _all_cases() if "ptclisp deviation" in c.get("note", "")]
    assert noted
    assert [case_id for case_id in noted if case_id not in deviations] == []


def _clojure_available() -> bool:
    jar = Path("/usr/share/java/clojure.jar")
    return shutil.which("java") is not None and jar.exists()


@pytest.mark.slow
@pytest.mark.skipif(not _clojure_available(), reason="no java/Clojure on this machine")
@pytest.mark.parametrize("path", _CORPORA, ids=lambda p: p.name)
def test_expectations_agree_with_clojure(path):
    proc = subprocess.run(
        [sys.executable, str(ORACLE), str(path), "-", "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    total = len(load_cases(path))
    assert f"agreement: {total}/{total}" in proc.stdout
