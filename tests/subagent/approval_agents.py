"""Agents shared by the composition tests and the process that resumes them (imported by both)."""

from __future__ import annotations

from typing import Any

from ptclisp import Tool
from ptclisp.subagent import SubAgent

ASKED: list[dict[str, Any]] = []


def _ask_human(question: str) -> str:
    """Ask a person; the answer arrives later (a webhook)."""
    ASKED.append({"question": question})
    return f"approval-{len(ASKED)}"


def build(llm: Any = None) -> SubAgent:
    """A parent that asks an approver subagent, which awaits a human."""
    ask_human = Tool("ask-human", _ask_human, signature="(question :string) -> {yes :bool}",
                     is_async=True)
    approver = SubAgent(
        name="approver",
        prompt="Ask a human whether to approve spending {{amount}}.",
        tools=[ask_human],
        signature="(amount :int) -> {approved :bool}",
        max_turns=2,
    )
    return SubAgent(
        name="orchestrator",
        prompt="Decide whether we may spend 120.",
        tools=[approver.as_tool(description="gets a human's approval")],
        signature="-> {approved :bool, amount :int}",
        max_turns=3,
        llm=llm,
    )


CHILD_TURN = """```clojure
(let [answer (await (tool/ask-human {:question (str "approve " data/amount "?")}))]
  (return {:approved (:yes answer)}))
```"""
PARENT_TURN_1 = """```clojure
(def decision (await (tool/approver {:amount 120})))
decision
```"""
PARENT_TURN_2 = """```clojure
(return {:approved (:approved decision) :amount 120})
```"""
