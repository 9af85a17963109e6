"""Host mistakes (bad arguments from Python code) raise clear errors naming the argument."""

from __future__ import annotations

import math
from typing import Any

import pytest

import ptclisp
from ptclisp import HostInputError, Limits, PendingError, PtclispError, tool
from ptclisp.subagent import ScriptedLLM, Step, SubAgent


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def test_a_list_of_tools_is_accepted_by_name() -> None:
    assert ptclisp.run("(tool/add {:a 1 :b 2})", tools=[add]).value == 3


def test_a_list_of_plain_functions_names_the_argument() -> None:
    with pytest.raises(HostInputError, match=r"tools: .*item 0 is a function") as info:
        ptclisp.run("1", tools=[lambda args: 1])
    assert info.value.code == "invalid_host_input" and "ptclisp.tool" in (info.value.hint or "")


def test_the_tool_class_itself_in_a_list_is_refused() -> None:
    with pytest.raises(HostInputError, match=r"tools: .*item 0 is a type"):
        ptclisp.run("1", tools=[ptclisp.Tool])


@pytest.mark.parametrize("tools", [5, "add", {1: add}, {"add": 3}])
def test_tools_of_the_wrong_kind(tools: Any) -> None:
    with pytest.raises(HostInputError, match="tools: "):
        ptclisp.run("1", tools=tools)


def test_two_tools_with_one_name() -> None:
    with pytest.raises(HostInputError, match="two tools are named 'add'"):
        ptclisp.run("1", tools=[add, add])


@pytest.mark.parametrize("data", [[1, 2], "xs", 3])
def test_data_that_is_not_a_mapping(data: Any) -> None:
    with pytest.raises(HostInputError, match="data: expected a dict") as info:
        ptclisp.run("1", data=data)
    assert isinstance(info.value, TypeError)  # also catchable as the Python error it is


def test_a_dict_of_limits_is_accepted() -> None:
    result = ptclisp.run("(count (range 100000))", limits={"max_steps": 10})
    assert result.status == "error" and result.error is not None
    assert result.error.code == "step_limit"


def test_an_unknown_limit_in_a_dict() -> None:
    with pytest.raises(HostInputError, match=r"unknown limit.*max_stepz") as info:
        ptclisp.run("1", limits={"max_stepz": 10})
    assert "max_steps" in (info.value.hint or "")


def test_limits_of_the_wrong_kind() -> None:
    with pytest.raises(HostInputError, match=r"limits: expected ptclisp\.Limits or a dict"):
        ptclisp.run("1", limits=10)


@pytest.mark.parametrize(("field", "value"), [
    ("max_steps", "lots"), ("max_steps", -1), ("max_steps", 0), ("max_steps", True),
    ("max_steps", 1.5), ("timeout_s", "5"), ("timeout_s", -0.1), ("timeout_s", math.nan),
    ("max_memory", None), ("max_parallel", 0),
])
def test_limits_validates_its_fields(field: str, value: Any) -> None:
    with pytest.raises(HostInputError, match=f"Limits.{field}: ") as info:
        Limits(**{field: value})
    assert isinstance(info.value, ValueError)


def test_valid_limits_still_build() -> None:
    assert Limits(max_steps=5, timeout_s=1).timeout_s == 1
    assert Limits.from_dict({"timeout_s": 0.5}).timeout_s == 0.5


def test_start_and_resume_check_tools_too() -> None:
    with pytest.raises(HostInputError, match="tools: "):
        ptclisp.start("1", tools=7)


def test_a_wrong_hmac_key_says_wrong_key_or_tampered() -> None:
    @tool(is_async=True)
    def slow(x: int) -> str:
        """Starts a slow op; returns its id."""
        return f"op-{x}"

    step = ptclisp.start("(await (tool/slow {:x 1}))", tools=[slow])
    assert isinstance(step, ptclisp.PendingStep)
    blob = ptclisp.serialize(step, key=b"right key")
    with pytest.raises(PendingError, match="wrong key or tampered") as info:
        ptclisp.deserialize(blob, key=b"wrong key")
    assert info.value.code == "pending_corrupt"
    assert "key it was signed with" in (info.value.hint or "")
    assert ptclisp.deserialize(blob, key=b"right key").step_id == step.step_id


def test_scripted_llm_refuses_a_bare_string() -> None:
    with pytest.raises(HostInputError, match=r"ScriptedLLM\(replies\): expected a list") as info:
        ScriptedLLM("(return 1)")  # type: ignore[arg-type]
    assert 'ScriptedLLM(["(return 1)"])' in (info.value.hint or "")


def test_scripted_llm_refuses_a_bad_reply() -> None:
    with pytest.raises(HostInputError, match="reply 1 must be a string or a dict"):
        ScriptedLLM(["(return 1)", 42])  # type: ignore[list-item]


def test_subagent_accepts_a_dict_of_limits_and_validates_it() -> None:
    agent = SubAgent(prompt="p", limits={"max_steps": 10})
    assert agent.limits.max_steps == 10
    with pytest.raises(ValueError, match=r"Limits\.max_steps: expected an integer"):
        SubAgent(prompt="p", limits={"max_steps": "lots"})


def test_step_and_result_share_one_error_type() -> None:
    agent = SubAgent(prompt="p", max_turns=1)
    step = agent.run(llm=ScriptedLLM(["```clojure\n(+ 1 nil)\n```"]))
    assert isinstance(step, Step) and step.status == "error"
    result = ptclisp.run("(+ 1 nil)")
    assert isinstance(step.error, PtclispError) and isinstance(result.error, PtclispError)
    assert step.error.code == "max_turns" and step.error.hint
    turn_error = step.turns[0].error
    assert isinstance(turn_error, PtclispError) and turn_error.code == result.error.code
    # Plain data on the wire, the same object type back.
    dumped = step.model_dump(mode="json")
    assert dumped["error"]["code"] == "max_turns"
    again = Step.model_validate(dumped)
    assert isinstance(again.error, PtclispError) and again.error.code == "max_turns"
    assert again.turns[0].error is not None and again.turns[0].error.line == 1
    # Mapping-style reads keep working for code written against the dict form.
    assert step.error["code"] == "max_turns" and step.error.get("nope", 1) == 1


def test_a_token_cancelled_before_the_run_gives_a_cancelled_result_not_an_exception() -> None:
    token = ptclisp.CancelToken()
    token.cancel()
    for call in (ptclisp.run, ptclisp.start):
        result = call("(+ 1 2)", cancel=token)
        assert result.status == "error"
        assert result.error is not None and result.error.code == "cancelled"
