"""The public surface of ``ptclisp`` is exactly ``__all__``, sorted, and every name works."""

import ptclisp

PUBLIC = [
    "AnalysisError",
    "AwaitUse",
    "CancelToken",
    "Char",
    "Definition",
    "CompiledProgram",
    "EvalError",
    "HostInputError",
    "InternalError",
    "Keyword",
    "LimitExceeded",
    "Limits",
    "List",
    "Map",
    "Preview",
    "PtclispError",
    "ReadError",
    "Result",
    "Set",
    "Symbol",
    "Signature",
    "SignatureMismatch",
    "ToolCall",
    "ToolError",
    "ToolUse",
    "Vector",
    "compile",
    "error_from_dict",
    "from_python",
    "parse_signature",
    "pr_str",
    "preview",
    "read_string",
    "run",
    "to_python",
]


def test_all_is_pinned_and_sorted():
    assert ptclisp.__all__ == sorted(ptclisp.__all__)
    assert set(PUBLIC) <= set(ptclisp.__all__)
    extra = set(ptclisp.__all__) - set(PUBLIC)
    assert extra <= ASYNC_NAMES, f"unpinned public names: {sorted(extra - ASYNC_NAMES)}"


# Names the async helper exports (suspendable runs, tools); pinned in its own tests.
ASYNC_NAMES = {
    "PendingError", "PendingStep", "PendingStore", "SQLiteStore", "Tool", "ToolRegistry",
    "deserialize", "resume", "resume_stored", "serialize", "start", "tool",
}


def test_every_public_name_exists_and_private_modules_stay_private():
    for name in ptclisp.__all__:
        assert getattr(ptclisp, name) is not None
    public_modules = [n for n in dir(ptclisp) if not n.startswith("_") and n not in ptclisp.__all__]
    assert all(isinstance(getattr(ptclisp, n), type(ptclisp)) for n in public_modules)


def test_errors_share_one_root_with_codes():
    for name in ["AnalysisError", "EvalError", "InternalError", "LimitExceeded", "ReadError",
                 "ToolError"]:
        cls = getattr(ptclisp, name)
        assert issubclass(cls, ptclisp.PtclispError) and isinstance(cls.code, str)


def test_round_trip_through_the_public_api():
    result = ptclisp.run("{:v [1 \\a 'b #{:k}]}")
    assert ptclisp.read_string(ptclisp.pr_str(result.value)) == result.value
    assert isinstance(result, ptclisp.Result)
