"""``SubAgent(tier=...)``: the LLM's programs run in the chosen sandbox tier, awaits included.

A scripted agent with a sync tool, an async tool and a nested subagent is run, suspended,
serialized and resumed in every tier; the final ``Step`` (value, turns, tool calls, outputs)
must be the same as in process.
"""

from __future__ import annotations

from typing import Any

import pytest

import ptclisp
from ptclisp import sandbox
from ptclisp.subagent import ScriptedLLM, Step, SubAgent, pending_ops


def clj(program: str) -> str:
    return f"Here is the program.\n```clojure\n{program}\n```"


def tools() -> list[Any]:
    @ptclisp.tool
    def lookup(id: int) -> dict:
        """A customer."""
        return {"name": f"customer {id}", "phone": f"555-{id}"}

    @ptclisp.tool(is_async=True)
    def place_call(number: str) -> str:
        """Start a call (op id: call-<number>)."""
        return f"call-{number}"

    return [lookup, place_call]


REPLIES = [
    clj('(def c (tool/lookup {:id 7}))\n(println "looked up" (:name c))\n(:name c)'),
    clj('(let [h (tool/place-call {:number (:phone c)}) r (await h)]\n'
        '  (return {:who (:name c) :confirmed (:confirmed r) :prev *1}))'),
]


def run_agent(tier: str) -> Step:
    agent = SubAgent(prompt="Confirm the delivery", tools=tools(), max_turns=3, tier=tier)
    pending = agent.run(llm=ScriptedLLM(list(REPLIES)))
    assert isinstance(pending, ptclisp.PendingStep)
    assert list(pending_ops(pending)) == ["call-555-7"]
    blob = ptclisp.serialize(pending)
    step = agent.resume(ptclisp.deserialize(blob), "call-555-7", {"confirmed": True},
                        llm=ScriptedLLM([]))
    assert isinstance(step, Step)
    return step


def comparable(step: Step) -> dict[str, Any]:
    data = step.model_dump()
    for key in ("duration_s", "llm_duration_s", "run_duration_s"):
        data.pop(key)
    for turn in data["turns"]:
        for key in ("llm_duration_s", "run_duration_s"):
            turn.pop(key)
        for call in turn["tool_calls"]:
            call.pop("duration_s")
    return data


@pytest.mark.parametrize("tier", sandbox.TIERS)
def test_an_agent_suspends_and_resumes_in_every_tier_with_the_same_step(tier: str) -> None:
    step = run_agent(tier)
    assert step.status == "ok", step.error
    assert step.return_value == {"who": "customer 7", "confirmed": True, "prev": "customer 7"}
    assert comparable(step) == comparable(run_agent("inproc"))


def test_the_tier_is_validated() -> None:
    with pytest.raises(ValueError):
        SubAgent(prompt="x", tier="vm")


def test_a_hostile_program_in_the_wasm_tier_ends_the_turn_with_its_code() -> None:
    agent = SubAgent(prompt="x", max_turns=1, tier="wasm", tools=tools(),
                     limits=ptclisp.Limits(timeout_s=1.0, max_steps=10**12))
    step = agent.run(llm=ScriptedLLM([clj("(loop [] (recur))")]))
    assert step.status == "error"
    assert step.turns[0].error.code == "timeout"
