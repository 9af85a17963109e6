"""A PendingStep is bound to the tools it used; results are checked against declared types."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ptclisp
from ptclisp import PendingError, Tool

PROGRAM = """
(let [c (tool/lookup {:id 7})
      r (await (tool/phone {:number (:phone c)}))]
  {:name (:name c) :confirmed (:confirmed r)})
"""


def lookup_tool(signature: str = "(id :int) -> {name :string, phone :string}",
                returns: Any = None) -> Tool:
    def lookup(**args: Any) -> Any:
        return returns if returns is not None else {"name": "Ada", "phone": "555"}

    return Tool("lookup", lookup, signature=signature)


def phone_tool(result: str | None = "{confirmed :bool}", signature: str = "(number :string) -> :any"
               ) -> Tool:
    return Tool("phone", lambda **a: "op-1", signature=signature, is_async=True, result=result)


def started(**tools: Tool) -> ptclisp.PendingStep:
    registry = {"lookup": lookup_tool(), "phone": phone_tool(), **tools}
    step = ptclisp.start(PROGRAM, tools=registry)
    assert isinstance(step, ptclisp.PendingStep)
    return ptclisp.deserialize(ptclisp.serialize(step))


def test_the_step_records_the_fingerprint_of_each_tool_it_used() -> None:
    step = started(unused=lookup_tool())
    assert step.tools == {
        "lookup": "(id :int) -> {name :string, phone :string}",
        "phone": "(number :string) -> :any async => {confirmed :bool}",
    }


def test_resuming_without_a_tool_it_used_is_refused() -> None:
    with pytest.raises(PendingError) as info:
        ptclisp.resume(started(), "op-1", {"confirmed": True}, tools={"phone": phone_tool()})
    assert info.value.code == "pending_registry_mismatch"
    assert "lookup" in info.value.message and "tool/lookup" in info.value.hint


@pytest.mark.parametrize("signature", [
    "(id :string) -> {name :string, phone :string}",   # the recorded args no longer fit
    "(id :int, region :string) -> {name :string, phone :string}",  # a new required param
    "(id :int) -> {name :string}",                    # another output
])
def test_an_incompatible_signature_is_refused(signature: str) -> None:
    step = started()
    tools = {"lookup": lookup_tool(signature), "phone": phone_tool()}
    with pytest.raises(PendingError) as info:
        ptclisp.resume(step, "op-1", {"confirmed": True}, tools=tools)
    assert info.value.code == "pending_registry_mismatch"
    # the step was not consumed: the right tools still resume it
    right = {"lookup": lookup_tool(), "phone": phone_tool()}
    assert ptclisp.resume(step, "op-1", {"confirmed": True}, tools=right).value is not None


def test_a_sync_tool_becoming_async_or_a_changed_result_type_is_refused() -> None:
    for phone in (phone_tool(result="{confirmed :int}"), Tool("phone", lambda **a: None,
                                                              signature="(number :string) -> :any")):
        with pytest.raises(PendingError, match="changed incompatibly"):
            ptclisp.resume(started(), "op-1", {"confirmed": True},
                           tools={"lookup": lookup_tool(), "phone": phone})


def test_adding_tools_and_compatible_changes_are_fine() -> None:
    tools = {"lookup": lookup_tool("(id :int, region :string?) -> {name :string, phone :string}"),
             "phone": phone_tool(), "extra": lookup_tool()}
    result = ptclisp.resume(started(), "op-1", {"confirmed": True}, tools=tools)
    assert result.status == "ok"
    assert result.value == ptclisp.read_string('{:name "Ada" :confirmed true}')


def test_a_result_that_does_not_match_the_declared_type_leaves_the_op_pending() -> None:
    step = started()
    tools = {"lookup": lookup_tool(), "phone": phone_tool()}
    for bad in ({"confirmed": "maybe"}, {}, [1, 2], None):
        with pytest.raises(PendingError) as info:
            ptclisp.resume(step, "op-1", bad, tools=tools)
        assert info.value.code == "pending_invalid_result"
        assert "confirmed" in info.value.message or "expected a map" in info.value.message
        assert "{confirmed :bool}" in info.value.hint
        assert step.pending_ops == {"op-1": {"tool": "phone", "args": {"number": "555"}}}
    assert ptclisp.resume(step, "op-1", {"confirmed": True}, tools=tools).status == "ok"


def test_an_op_error_is_delivered_without_a_result_check() -> None:
    tools = {"lookup": lookup_tool(), "phone": phone_tool()}
    result = ptclisp.resume(started(), "op-1", tools=tools, error="line busy")
    assert result.error.code == "tool_error"


def test_a_sync_result_that_does_not_match_its_declared_output_is_a_tool_error() -> None:
    tools = {"lookup": lookup_tool(returns={"name": "Ada", "phone": 555})}
    result = ptclisp.run("(tool/lookup {:id 7})", tools=tools)
    assert result.error.code == "tool_error"
    assert "phone" in result.error.message and "declared output" in result.error.message


def test_hints_derived_from_python_types_are_checked_too() -> None:
    @ptclisp.tool
    def count(n: int) -> int:
        """Returns a string by mistake."""
        return "many"  # type: ignore[return-value]

    result = ptclisp.run("(tool/count {:n 1})", tools=[count] and {"count": count})
    assert result.error.code == "tool_error" and ":int" in result.error.message


def test_old_blobs_without_fingerprints_still_resume() -> None:
    step = started()
    data = step.to_dict()
    del data["tools"]
    old = ptclisp.PendingStep.from_dict(data)
    assert old.tools == {}
    tools = {"lookup": lookup_tool(), "phone": phone_tool()}
    assert ptclisp.resume(old, "op-1", {"confirmed": False}, tools=tools).status == "ok"


@pytest.mark.parametrize("tools", [[1], {"a": 1}, "text", {"x": {"y": 1}}])
def test_hostile_fingerprint_fields_are_corrupt_not_crashes(tools: Any) -> None:
    data = started().to_dict()
    data["tools"] = tools
    with pytest.raises(PendingError) as info:
        ptclisp.PendingStep.from_dict(data)
    assert info.value.code == "pending_corrupt"


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from(["confirmed", "other", "x"]),
                       st.one_of(st.booleans(), st.integers(), st.text(max_size=3), st.none()),
                       max_size=3))
def test_a_delivered_result_is_accepted_exactly_when_it_matches(result: dict[str, Any]) -> None:
    step = started()
    tools = {"lookup": lookup_tool(), "phone": phone_tool()}
    matches = isinstance(result.get("confirmed"), bool)
    try:
        outcome = ptclisp.resume(step, "op-1", result, tools=tools)
    except PendingError as exc:
        assert not matches and exc.code == "pending_invalid_result"
    else:
        assert matches and outcome.status == "ok"
