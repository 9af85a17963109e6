"""The runner's verdicts, checked with a scripted stand-in for ptclisp's two entry points.

The stand-in replays one fixed outcome; it exercises only the harness (target selection, tool
wiring, structural comparison, error handling), never the language.
"""

from __future__ import annotations

from types import SimpleNamespace

from _corpus import judge, make_tools, target

CASE = {"id": "c1", "category": "t", "program": "(tool/users)", "expected": '["Ann" "Bob"]',
        "tools": {"users": ["Ann", "Bob"]}}
ERROR_CASE = {"id": "c2", "category": "t", "program": "(nth [1] 5)", "error": True}
DEVIATIONS = {"c3": {"expected": "0.5", "reason": "float division"}}


class Replay:
    """Answers every run with one scripted outcome and prints with one scripted text."""

    def __init__(self, outcome, printed="nil"):
        self.outcome, self.printed, self.calls = outcome, printed, []

    def run(self, source, *, tools=None, data=None, limits=None):
        self.calls.append((source, tools, data))
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    def pr_str(self, value):
        return self.printed


def ok(value=None):
    return SimpleNamespace(status="ok", value=value, error=None)


def error(code="type_error"):
    return SimpleNamespace(status="error", value=None, error=SimpleNamespace(code=code))


def test_equal_structure_passes_and_tools_are_wired():
    lang = Replay(ok(), printed='("Ann" "Bob")')
    assert judge(lang, CASE, {}) is None
    _, tools, data = lang.calls[0]
    assert tools["users"]({"any": "args"}) == ["Ann", "Bob"]
    assert data == {}


def test_different_value_fails_with_both_sides_shown():
    verdict = judge(Replay(ok(), printed='["Ann"]'), CASE, {})
    assert verdict is not None and '["Ann" "Bob"]' in verdict and '["Ann"]' in verdict


def test_unreadable_output_fails():
    assert "unreadable" in judge(Replay(ok(), printed="#<fn>"), CASE, {})


def test_error_status_for_a_value_case_fails():
    assert "status 'error'" in judge(Replay(error()), CASE, {})


def test_error_case_needs_error_status_with_a_code():
    assert judge(Replay(error("index_out_of_bounds")), ERROR_CASE, {}) is None
    assert judge(Replay(ok(), printed="nil"), ERROR_CASE, {}) is not None
    assert "without a code" in judge(Replay(error(code="")), ERROR_CASE, {})


def test_exception_escaping_run_fails():
    verdict = judge(Replay(RecursionError("deep")), ERROR_CASE, {})
    assert verdict.startswith("exception escaped ptclisp.run: RecursionError")


def test_deviation_replaces_clojure_expectation():
    case = {"id": "c3", "category": "t", "program": "(/ 1 2)", "expected": "1/2"}
    assert target(case, DEVIATIONS) == {"expected": "0.5"}
    assert judge(Replay(ok(), printed="0.5"), case, DEVIATIONS) is None
    assert judge(Replay(ok(), printed="1/2"), case, DEVIATIONS) is not None


def test_tools_return_independent_copies():
    tools = make_tools(CASE)
    tools["users"]().append("Mallory")
    assert tools["users"]() == ["Ann", "Bob"]
