"""Prints the conformance pass rate at the end of a run (the lead's target is >= 98%)."""

from __future__ import annotations

from typing import Any

_CORPUS_TEST = "test_corpus.py::test_case"
_TARGET = 98.0
_outcomes: dict[str, str] = {}


def pytest_runtest_logreport(report: Any) -> None:
    if _CORPUS_TEST not in report.nodeid:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _outcomes[report.nodeid] = report.outcome


def pytest_terminal_summary(terminalreporter: Any) -> None:
    ran = [outcome for outcome in _outcomes.values() if outcome != "skipped"]
    if not ran:
        return
    passed = ran.count("passed")
    rate = 100.0 * passed / len(ran)
    verdict = "meets" if rate >= _TARGET else "BELOW"
    terminalreporter.write_line(
        f"conformance: {passed}/{len(ran)} cases pass ({rate:.1f}%), {verdict} the "
        f"{_TARGET:.0f}% target"
    )
