"""ptclisp against the conformance corpus: Clojure 1.11's results, compared with Clojure `=`.

Cases: the shared corpus (``../shared/conformance/cases.jsonl`` beside the checkout) and our own
``extra_cases.jsonl``; ``deviations.json`` replaces Clojure's expectation where ptclisp
deliberately differs (see docs/conformance.md). ptclisp is imported inside the test so that the
cases are collected (and counted) even while the language cannot be imported.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from _corpus import EXTRA_CASES, SHARED_CASES, judge, load_cases, load_deviations

DEVIATIONS = load_deviations()


def _params() -> list[Any]:
    params = [pytest.param(case, id=case["id"]) for case in load_cases(EXTRA_CASES)]
    if SHARED_CASES.exists():
        params += [pytest.param(case, id=case["id"]) for case in load_cases(SHARED_CASES)]
    else:
        reason = f"shared conformance corpus not found at {SHARED_CASES}"
        params.append(pytest.param(None, id="shared-corpus", marks=pytest.mark.skip(reason=reason)))
    return params


@pytest.mark.parametrize("case", _params())
def test_case(case: dict[str, Any]) -> None:
    ptclisp = importlib.import_module("ptclisp")
    failure = judge(ptclisp, case, DEVIATIONS)
    assert failure is None, f"{case['id']}: {case['program']}\n{failure}"
