"""One budget ledger for a whole agent run: across resumes, shared with nested subagents."""

from __future__ import annotations

import time
from typing import Any

import pytest

import ptclisp
from ptclisp.subagent import Budget, Ledger, ScriptedLLM, Step, SubAgent, Usage


def clj(program: str, *, tokens: tuple[int, int] = (100, 10)) -> dict[str, Any]:
    return {"content": f"```clojure\n{program}\n```",
            "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]}}


@ptclisp.tool(is_async=True)
def phone(number: str) -> str:
    """Start a call; op id call-<number>."""
    return f"call-{number}"


def child_agent() -> SubAgent:
    return SubAgent(name="helper", prompt="Help with {{task}}", signature="(task :string) -> :int",
                    max_turns=2)


PARENT_PROGRAM = """
(def n (tool/helper {:task "count"}))
(def a (await (tool/phone {:number "1"})))
(def b (await (tool/phone {:number "2"})))
[n (:said a) (:said b)]
"""


def parent(budget: Budget) -> SubAgent:
    return SubAgent(name="boss", prompt="Do it", tools=[phone, child_agent()], max_turns=4,
                    budget=budget)


def script() -> list[Any]:
    # parent turn 1 (its program calls the child: child turn 1), parent turn 2 would follow
    return [clj(PARENT_PROGRAM, tokens=(100, 10)), clj("(return 42)", tokens=(50, 5)),
            clj("(return :done)", tokens=(100, 10))]


def drive(budget: Budget, wait_s: float = 0.0) -> tuple[Any, list[dict[str, Any]]]:
    agent = parent(budget)
    llm = ScriptedLLM(script())
    ledgers = []
    outcome = agent.run(llm=llm)
    for number in ("1", "2"):
        assert isinstance(outcome, ptclisp.PendingStep), outcome
        ledgers.append(outcome.budget)
        time.sleep(wait_s)
        blob = ptclisp.serialize(outcome)
        outcome = agent.resume(ptclisp.deserialize(blob), f"call-{number}",
                               {"said": f"hi {number}"}, llm=llm)
    return outcome, ledgers


def test_the_ledger_carries_across_two_resumes_and_counts_the_subagent() -> None:
    step, ledgers = drive(Budget())
    assert isinstance(step, Step) and step.status == "ok", step.error
    first, second = (ledger["spent"] for ledger in ledgers)
    # the child's LLM call is drawn from the parent's ledger: 100+50 input tokens
    assert first["input_tokens"] == second["input_tokens"] == 150
    assert first["output_tokens"] == 15
    assert first["tool_calls"] == 0  # charged when the turn's program ends
    assert first["wall_s"] > 0 and second["wall_s"] >= first["wall_s"]


def test_output_tokens_run_out_after_the_second_resume() -> None:
    # 15 output tokens spent before the suspensions; the parent's next turn spends 10 more
    step, _ = drive(Budget(output_tokens=20))
    assert step.status == "error"
    assert step.error.code == "budget_exhausted" and step.error.budget == "output_tokens"
    assert "output_tokens" in step.error.message and step.error.hint
    assert [t.status for t in step.turns] == ["continue"]


def test_waiting_between_resumes_is_free_but_work_is_charged() -> None:
    step, ledgers = drive(Budget(wall_s=2.0), wait_s=1.2)  # 2.4 s of waiting > the budget
    assert step.status == "ok", step.error
    assert ledgers[-1]["spent"]["wall_s"] < 2.0


def test_a_nested_subagent_exhausting_the_shared_budget_ends_the_parent() -> None:
    # the child's reply alone costs 55 input+output... its 50 input tokens cross the budget
    agent = parent(Budget(input_tokens=120))
    step = agent.run(llm=ScriptedLLM(script()))
    assert isinstance(step, Step)
    assert step.error.code == "budget_exhausted" and step.error.budget == "input_tokens"


def test_steps_and_tool_calls_budgets_clamp_the_program() -> None:
    agent = SubAgent(prompt="x", max_turns=3, budget=Budget(steps=500))
    step = agent.run(llm=ScriptedLLM([clj("(reduce + (range 100000))")]))
    assert step.error.code == "budget_exhausted" and step.error.budget == "steps"
    assert step.turns[0].error.code == "step_limit"

    count = ptclisp.Tool("count", lambda **a: 1, signature="() -> :int")
    agent = SubAgent(prompt="x", tools=[count], max_turns=3, budget=Budget(tool_calls=3))
    step = agent.run(llm=ScriptedLLM([clj("(dotimes [i 10] (tool/count {}))")]))
    assert step.error.budget == "tool_calls"


def test_cost_is_charged_where_the_model_has_a_price() -> None:
    prices = {"scripted": (1_000_000.0, 2_000_000.0)}  # $1 per input token, $2 per output token
    agent = SubAgent(prompt="x", max_turns=3, budget=Budget(cost_usd=150, prices=prices))
    step = agent.run(llm=ScriptedLLM([clj("1", tokens=(100, 10)), clj("2", tokens=(100, 10))]))
    assert step.error.budget == "cost_usd"
    # 100*1 + 10*2 = 120 after the first reply (under 150), 240 after the second: its program
    # never runs
    assert "used 240 of 150" in step.error.message
    assert len(step.turns) == 1


def test_an_unpriced_model_adds_no_cost_and_says_so() -> None:
    ledger = Ledger(Budget(cost_usd=1))
    ledger.charge_llm("unknown-model", Usage(input_tokens=1000, output_tokens=1000))
    assert ledger.used("cost_usd") == 0 and ledger.priced is False


def test_the_price_table_prices_known_models() -> None:
    ledger = Ledger(Budget())
    ledger.charge_llm("gpt-4o-mini-2024-07-18", Usage(input_tokens=1_000_000, output_tokens=0))
    assert ledger.used("cost_usd") == pytest.approx(0.15) and ledger.priced is True


@pytest.mark.parametrize("bad", [{}, {"budget": {"steps": -1}, "spent": {}},
                                 {"budget": {}, "spent": {"steps": "many"}},
                                 {"budget": [], "spent": {}}])
def test_a_malformed_ledger_is_refused_with_a_code(bad: dict[str, Any]) -> None:
    with pytest.raises(ptclisp.PtclispError) as info:
        Ledger.from_dict(bad)
    assert info.value.code == "pending_corrupt"


def test_budget_values_are_validated() -> None:
    with pytest.raises(ValueError):
        Budget(steps=-1)
    with pytest.raises(ValueError):
        Budget(wall_s=0)
