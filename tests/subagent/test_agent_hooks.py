"""Hooks: before_turn, after_turn, before_tool (replace args or refuse), after_tool."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import ptclisp
from ptclisp.subagent import Refuse, ScriptedLLM, SubAgent, ToolCallRecord, Turn


def clj(program: str) -> str:
    return f"```clojure\n{program}\n```"


def agent(**kwargs: Any) -> tuple[SubAgent, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []

    @ptclisp.tool
    def send(to: str, amount: int) -> dict:
        """Send money."""
        sent.append({"to": to, "amount": amount})
        return {"sent": amount}

    return SubAgent(prompt="pay", tools=[send], max_turns=3, **kwargs), sent


def test_before_tool_replaces_the_arguments() -> None:
    paying, sent = agent()

    def cap(name: str, args: dict[str, Any]) -> dict[str, Any] | None:
        return {**args, "amount": min(args["amount"], 100)} if name == "send" else None

    step = paying.run(llm=ScriptedLLM([clj('(return (tool/send {:to "bob" :amount 5000}))')]),
                      before_tool=cap)
    assert step.return_value == {"sent": 100}
    assert sent == [{"to": "bob", "amount": 100}]


def test_before_tool_refusal_is_a_tool_error_the_program_sees() -> None:
    paying, sent = agent()
    seen: list[ToolCallRecord] = []
    step = paying.run(
        llm=ScriptedLLM([clj('(tool/send {:to "mallory" :amount 1})'), clj("(return :gave-up)")]),
        before_tool=lambda name, args: Refuse("mallory is blocked", hint="pay someone else")
        if args["to"] == "mallory" else None,
        after_tool=seen.append)
    assert sent == []
    assert step.turns[0].error.code == "tool_error"
    assert "mallory is blocked" in step.turns[0].error.message
    assert step.turns[0].error.hint == "pay someone else"
    assert "mallory is blocked" in step.turns[1 - 1].feedback
    assert [r.error["code"] for r in seen] == ["tool_error"]
    assert step.return_value == "gave-up"


@pytest.mark.parametrize("bad", [{"to": "bob"}, {"to": "bob", "amount": "lots"}, "text", 42])
def test_hostile_hook_results_become_tool_errors_not_crashes(bad: Any) -> None:
    paying, sent = agent()
    step = paying.run(llm=ScriptedLLM([clj('(tool/send {:to "bob" :amount 5})')]),
                      before_tool=lambda name, args: bad, )
    assert sent == []
    assert step.turns[0].error.code in ("invalid_args", "tool_error")


def test_turn_hooks_see_every_turn_in_order() -> None:
    paying, _ = agent()
    events: list[Any] = []

    def before(number: int, messages: list[dict[str, Any]]) -> None:
        events.append(("before", number, messages[-1]["role"]))

    def after(turn: Turn) -> None:
        events.append(("after", turn.number, turn.status))

    step = paying.run(llm=ScriptedLLM([clj("1"), clj("(return 2)")]), before_turn=before,
                      after_turn=after)
    assert step.return_value == 2
    assert events == [("before", 1, "user"), ("after", 1, "continue"),
                      ("before", 2, "user"), ("after", 2, "returned")]


def test_before_turn_may_add_a_message() -> None:
    paying, _ = agent()
    llm = ScriptedLLM([clj("(return 1)")])

    def remind(number: int, messages: list[dict[str, Any]]) -> None:
        messages.append({"role": "user", "content": "Remember: be frugal."})

    paying.run(llm=llm, before_turn=remind)
    assert llm.calls[0][-1]["content"] == "Remember: be frugal."


def test_hooks_work_through_arun_and_are_not_called_for_replayed_calls() -> None:
    paying, sent = agent()
    calls: list[str] = []

    def before(name: str, args: dict[str, Any]) -> None:
        calls.append(name)

    llm = ScriptedLLM([clj('(def r (tool/send {:to "a" :amount 1}))\nr'), clj("(return r)")])
    step = asyncio.run(paying.arun(llm=llm, before_tool=before))
    assert step.return_value == {"sent": 1}
    assert calls == ["send"] and len(sent) == 1  # turn 2's prelude replays the call


def test_before_tool_on_resume_sees_calls_made_after_the_await() -> None:
    @ptclisp.tool(is_async=True)
    def ask(question: str) -> str:
        """Ask a human."""
        return "q-1"

    paying, _ = agent()
    paying.tools = [*paying.tools, ask]
    llm = ScriptedLLM([clj('(let [a (await (tool/ask {:question "how much?"}))]\n'
                           '  (return (tool/send {:to "bob" :amount (:amount a)})))')])
    pending = paying.run(llm=llm)
    step = paying.resume(pending, "q-1", {"amount": 10**6}, llm=llm,
                         before_tool=lambda n, a: {**a, "amount": 7} if n == "send" else None)
    assert step.return_value == {"sent": 7}
