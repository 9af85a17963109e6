"""Conformance cases: where they live, how to load them, and how to judge ptclisp against one."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _edn

HERE = Path(__file__).resolve().parent
SHARED_CASES = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "cases.jsonl"
EXTRA_CASES = HERE / "extra_cases.jsonl"
DEVIATIONS = HERE / "deviations.json"


def load_cases(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_deviations() -> dict[str, dict[str, Any]]:
    with DEVIATIONS.open(encoding="utf-8") as f:
        return json.load(f)


def target(case: dict[str, Any], deviations: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What ptclisp must produce: ``{"expected": text}`` or ``{"error": True}``.

    A documented deviation replaces Clojure's expectation for its case.
    """
    source = deviations.get(case["id"], case)
    if source.get("error"):
        return {"error": True}
    return {"expected": source["expected"]}


def make_tools(case: dict[str, Any]) -> dict[str, Callable[..., Any]]:
    """One host callable per tool, returning (a copy of) the case's fixed JSON value."""
    def make(value: Any) -> Callable[..., Any]:
        def tool(*args: Any, **kwargs: Any) -> Any:
            return copy.deepcopy(value)

        return tool

    return {name: make(value) for name, value in (case.get("tools") or {}).items()}


def run_case(run: Callable[..., Any], case: dict[str, Any]) -> Any:
    return run(
        case["program"],
        tools=make_tools(case),
        data=copy.deepcopy(case.get("data") or {}),
    )


def judge(ptclisp: Any, case: dict[str, Any], deviations: dict[str, dict[str, Any]]) -> str | None:
    """None when ptclisp meets the case's target, else a description of the mismatch."""
    want = target(case, deviations)
    run, pr_str = ptclisp.run, ptclisp.pr_str  # a missing API fails here, not as an escape
    try:
        result = run_case(run, case)
    except (Exception, SystemExit) as exc:
        return f"exception escaped ptclisp.run: {type(exc).__name__}: {exc}"
    if want.get("error"):
        if result.status != "error":
            return f"expected an error, got status {result.status!r}: {_printed(pr_str, result)}"
        if not getattr(result.error, "code", None):
            return f"error without a code: {result.error!r}"
        return None
    if result.status != "ok":
        return f"expected {want['expected']}, got status {result.status!r}: {result.error!r}"
    got = pr_str(result.value)
    try:
        same = _edn.edn_equal(want["expected"], got)
    except _edn.EdnError as exc:
        return f"expected {want['expected']}, got unreadable {got!r} ({exc})"
    return None if same else f"expected {want['expected']}, got {got}"


def _printed(pr_str: Callable[[Any], str], result: Any) -> str:
    try:
        return pr_str(result.value)
    except Exception as exc:
        return f"<unprintable: {exc}>"
