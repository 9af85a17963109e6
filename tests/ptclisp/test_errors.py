"""The error tree: codes survive serialization and rebuild the declaring class."""

from ptclisp import runtime, sandbox
from ptclisp._errors import AnalysisError, LimitExceeded, ToolError, error_from_dict


def test_errors_of_every_package_are_rebuilt_by_code():
    crash = error_from_dict(sandbox.SandboxCrash("guest died").to_dict())
    assert type(crash) is sandbox.SandboxCrash and crash.message == "guest died"
    assert type(error_from_dict({"code": "unbound_symbol", "message": "x"})) is AnalysisError
    assert type(error_from_dict({"code": "tool_crashed", "message": "x"})) is runtime.ToolCrashed
    assert type(error_from_dict({"code": "memory_limit", "message": "x"})) is LimitExceeded
    assert type(error_from_dict({"code": "tool_not_found", "message": "x"})) is ToolError
