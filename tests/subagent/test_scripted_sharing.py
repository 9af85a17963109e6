"""What docs/subagent.md says about ScriptedLLM: file formats, one script shared by a parent and a
child (in call order), and which replies a resuming process needs (``start=``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import ptclisp
from ptclisp import HostInputError, tool
from ptclisp.subagent import ScriptedLLM, Step, SubAgent, pending_ops


def clj(code: str) -> str:
    return f"```clojure\n{code}\n```"


def test_file_formats(tmp_path: Path) -> None:
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(["a", {"content": "b", "usage": {"input_tokens": 3,
                                                                  "output_tokens": 1}}]))
    wrapped = tmp_path / "object.json"
    wrapped.write_text(json.dumps({"note": "ignored", "model": "rec-1", "replies": ["x", "y"]}))
    first = ScriptedLLM.from_file(listed)
    assert [r["content"] for r in first.replies] == ["a", "b"] and first.model == "scripted"
    second = ScriptedLLM.from_file(wrapped, start=1)
    assert second.model == "rec-1" and second.complete([]).content == "y"


def test_start_is_checked() -> None:
    with pytest.raises(HostInputError, match=r"ScriptedLLM\(start\)"):
        ScriptedLLM(["a"], start=2)


def test_a_parent_and_its_child_share_one_script_in_call_order() -> None:
    child = SubAgent(name="doubler", prompt="double {{n}}", signature="(n :int) -> :int")
    parent = SubAgent(name="boss", prompt="p", tools=[child.as_tool()], max_turns=2)
    llm = ScriptedLLM([
        clj("(tool/doubler {:n 21})"),    # parent, turn 1: calls the child
        clj("(return (* 2 data/n))"),     # child, turn 1 (while the parent's program runs)
        clj("(return *1)"),               # parent, turn 2
    ])
    step = parent.run(llm=llm)
    assert isinstance(step, Step) and step.ok and step.return_value == 42
    systems = [call[0]["content"] for call in llm.calls]
    assert "tool/doubler" in systems[0] and "tool/doubler" not in systems[1]
    assert llm.remaining == 0


@tool(is_async=True)
def ask_human(question: str) -> str:
    """Ask a human; returns an op id."""
    calls.append(question)
    return "op-1"


calls: list[str] = []
SCRIPT = [clj('(def answer (await (tool/ask-human {:question "ok?"})))\nanswer'),
          clj("(return {:answer *1})")]


def test_a_resuming_process_needs_only_the_replies_after_the_suspension() -> None:
    calls.clear()
    agent = SubAgent(name="asker", prompt="ask", tools=[ask_human], max_turns=3)
    first = ScriptedLLM(SCRIPT)
    pending = agent.run(llm=first)
    assert isinstance(pending, ptclisp.PendingStep) and list(pending_ops(pending)) == ["op-1"]
    blob = ptclisp.serialize(pending)
    used = first.position
    assert used == 1 and calls == ["ok?"]
    # "Another process": the step from bytes, a script starting after the used replies.
    later = agent.resume(ptclisp.deserialize(blob), "op-1", "yes",
                         llm=ScriptedLLM(SCRIPT, start=used))
    assert isinstance(later, Step) and later.ok and later.return_value == {"answer": "yes"}
    assert calls == ["ok?"]  # the async tool was not started again


def test_passing_the_whole_script_again_replays_reply_0() -> None:
    calls.clear()
    agent = SubAgent(name="asker", prompt="ask", tools=[ask_human], max_turns=3)
    pending = agent.run(llm=ScriptedLLM(SCRIPT))
    outcome: Any = agent.resume(pending, "op-1", "yes", llm=ScriptedLLM(SCRIPT))
    # The next turn got reply 0 again: it starts the async tool a second time and suspends.
    assert calls == ["ok?", "ok?"]
    assert isinstance(outcome, ptclisp.PendingStep)
