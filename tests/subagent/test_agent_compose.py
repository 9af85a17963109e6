"""Subagents as tools, suspension through a parent, resume in another process, telemetry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import approval_agents
import pytest
from approval_agents import CHILD_TURN, PARENT_TURN_1, PARENT_TURN_2
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from wire_servers import WireServer

from ptclisp import PendingStep, Tool, deserialize, serialize
from ptclisp.runtime import Retry
from ptclisp.subagent import OpenAIClient, ScriptedLLM, Step, SubAgent, pending_ops

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def clj(program: str) -> str:
    return f"```clojure\n{program}\n```"


def lookup_tool() -> Tool:
    def lookup(city: str) -> dict[str, Any]:
        """Weather of a city."""
        return {"city": city, "temp": {"Oslo": 3, "Rome": 18}.get(city, 10)}

    return Tool("weather", lookup)


def weather_agent() -> SubAgent:
    return SubAgent(name="weather", prompt="Temperature in {{city}}?", tools=[lookup_tool()],
                    signature="(city :string) -> {temp :int}", max_turns=2,
                    description="the temperature of a city")


def test_subagent_used_as_a_tool_by_a_parent() -> None:
    child = weather_agent()
    parent = SubAgent(name="planner", prompt="Which city is warmer?",
                      tools=[child.as_tool(name="temperature")],
                      signature="-> {warmer :string}", max_turns=2)
    script = [
        clj("(def temps (mapv (fn [c] [c (:temp (tool/temperature {:city c}))]) [\"Oslo\" \"Rome\"]))\ntemps"),
        clj("(return {:temp (:temp (tool/weather {:city data/city}))})"),  # child, Oslo
        clj("(return {:temp (:temp (tool/weather {:city data/city}))})"),  # child, Rome
        clj("(return {:warmer (first (last (sort-by second temps)))})"),
    ]
    with WireServer("openai", script) as server:
        llm = OpenAIClient("m", base_url=server.base_url, retry=Retry(attempts=1))
        step = parent.run(llm=llm)
    assert isinstance(step, Step) and step.ok, step.error
    assert step.return_value == {"warmer": "Rome"}
    assert step.turns[0].result == [["Oslo", 3], ["Rome", 18]]
    calls = step.turns[0].tool_calls
    assert [(c.name, c.args, c.result) for c in calls] == [
        ("temperature", {"city": "Oslo"}, {"temp": 3}),
        ("temperature", {"city": "Rome"}, {"temp": 18}),
    ]
    # the parent's prompt shows the child as a typed tool; the child got its own prompt
    system = server.messages_seen[0][0]["content"]
    assert "tool/temperature (city :string) -> {temp :int} — the temperature of a city" in system
    assert server.messages_seen[1][1]["content"] == "Temperature in Oslo?"
    assert step.usage.requests == 4  # the parent's two LLM calls and one per child run
    assert step.usage.input_tokens == sum(
        len(json.dumps(messages)) // 4 for messages in server.messages_seen)


def test_child_failure_is_a_tool_error_in_the_parent() -> None:
    child = SubAgent(name="picky", prompt="p", signature="-> :int", max_turns=1)
    parent = SubAgent(name="boss", prompt="p", tools=[child.as_tool()], max_turns=2,
                      signature="-> :string")
    llm = ScriptedLLM([clj("(tool/picky {})"), clj("(fail \"nope\")"),
                       clj("(return \"recovered\")")])
    step = parent.run(llm=llm)
    assert step.ok and step.return_value == "recovered"
    error = step.turns[0].error
    assert error["code"] == "tool_error" and "subagent picky failed" in error["message"]


def test_nesting_depth_limit() -> None:
    inner = SubAgent(name="inner", prompt="p", signature="-> :int", max_turns=1)
    middle = SubAgent(name="middle", prompt="p", tools=[inner.as_tool()], max_turns=2,
                      signature="-> :int", max_depth=1)
    outer = SubAgent(name="outer", prompt="p", tools=[middle.as_tool()], max_turns=1,
                     signature="-> :int", max_depth=1)
    llm = ScriptedLLM([clj("(return (tool/middle {}))"), clj("(tool/inner {})"),
                       clj("(return 7)")])
    step = outer.run(llm=llm)
    # outer (depth 0) may run middle (depth 1); middle's call of inner would be depth 2: the
    # middle agent sees a tool error, recovers, and the outer run completes
    assert step.ok and step.return_value == 7
    middle_error = llm.calls[2][-1]["content"]
    assert middle_error.startswith("Error [tool_error]")
    assert "would run at depth 2, over the limit of 1" in middle_error


def test_await_inside_a_child_suspends_the_parent_and_resumes_through_it() -> None:
    approval_agents.ASKED.clear()
    llm = ScriptedLLM([PARENT_TURN_1, CHILD_TURN, PARENT_TURN_2])
    parent = approval_agents.build()
    pending = parent.run(llm=llm)
    assert isinstance(pending, PendingStep)
    ops = pending_ops(pending)
    assert ops == {"approval-1": {"tool": "ask-human", "args": {"question": "approve 120?"},
                                  "agent": "approver"}}
    with pytest.raises(Exception) as unknown:
        parent.resume(pending, "approval-9", {"yes": True}, llm=llm)
    assert getattr(unknown.value, "code", None) == "pending_unknown_op"
    step = approval_agents.build().resume(deserialize(serialize(pending)), "approval-1",
                                          {"yes": False}, llm=llm)
    assert isinstance(step, Step) and step.ok, step.error
    assert step.return_value == {"approved": False, "amount": 120}
    assert [t.status for t in step.turns] == ["continue", "returned"]
    assert approval_agents.ASKED == [{"question": "approve 120?"}]  # asked once, not on replay


def test_resume_through_the_parent_in_a_separate_process(tmp_path: Path) -> None:
    approval_agents.ASKED.clear()
    script = [PARENT_TURN_1, CHILD_TURN, PARENT_TURN_2]
    with WireServer("openai", script) as server:
        llm = OpenAIClient("m", base_url=server.base_url, retry=Retry(attempts=1))
        pending = approval_agents.build().run(llm=llm)
        assert isinstance(pending, PendingStep)
        (tmp_path / "step.bin").write_bytes(serialize(pending, key=b"secret"))
        resumer = (
            "import json, sys\n"
            "from ptclisp import deserialize\n"
            "from subagent import OpenAIClient, pending_ops\n"
            "import approval_agents\n"
            "pending = deserialize(open(sys.argv[1], 'rb').read(), key=b'secret')\n"
            "[op] = pending_ops(pending)\n"
            "step = approval_agents.build().resume(pending, op, {'yes': True},\n"
            "    llm=OpenAIClient('m', base_url=sys.argv[2]))\n"
            "print(json.dumps({'pid': __import__('os').getpid(), 'op': op,\n"
            "    'step': step.model_dump(mode='json')}))\n"
        )
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
        proc = subprocess.run([sys.executable, "-c", resumer, str(tmp_path / "step.bin"),
                               server.base_url], capture_output=True, text=True, env=env,
                              timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["pid"] != os.getpid() and out["op"] == "approval-1"
    step = Step.model_validate(out["step"])
    assert step.ok and step.return_value == {"approved": True, "amount": 120}
    assert [t.status for t in step.turns] == ["continue", "returned"]
    assert step.turns[0].result == {"approved": True}
    assert len(server.requests) == 3  # parent turn 1 (here), child turn, parent turn 2 (there)
    assert approval_agents.ASKED == [{"question": "approve 120?"}]


def test_direct_async_tool_pending_and_resume() -> None:
    started: list[str] = []

    def start_call(number: str) -> None:
        started.append(number)

    phone = Tool("call", start_call, signature="(number :string) -> {answer :string}",
                 is_async=True)
    agent = SubAgent(name="caller", prompt="p", tools=[phone], signature="-> :string",
                     max_turns=2)
    llm = ScriptedLLM([clj("(def h (tool/call {:number \"555\"}))\n(return (:answer (await h)))")])
    pending = agent.run(llm=llm)
    assert isinstance(pending, PendingStep)
    [op_id] = pending_ops(pending)
    assert pending_ops(pending)[op_id]["agent"] == "caller"
    step = agent.resume(pending, op_id, {"answer": "hello"}, llm=llm)
    assert step.ok and step.return_value == "hello"
    assert started == ["555"]
    assert step.turns[0].tool_calls[0].op_id == op_id


def test_span_tree() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    child = weather_agent()
    parent = SubAgent(name="planner", prompt="p", tools=[child.as_tool(name="temperature")],
                      signature="-> :int", max_turns=3)
    llm = ScriptedLLM([
        clj("(:temp (tool/temperature {:city \"Oslo\"}))"),
        clj("(return {:temp (:temp (tool/weather {:city data/city}))})"),
        clj("(return (+ 1 (tool/nope {})))"),
        clj("(return *1)"),
    ])
    step = parent.run(llm=llm, tracer_provider=provider)
    assert step.ok and step.return_value == 3
    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans}

    def parent_name(span: Any) -> str:
        return by_id[span.parent.span_id].name if span.parent else "-"

    tree = sorted((s.name, parent_name(s)) for s in spans)
    turn, chat = "ptclisp.turn", "chat scripted"
    assert tree == sorted([
        ("invoke_agent planner", "-"),
        (turn, "invoke_agent planner"), (turn, "invoke_agent planner"),
        (turn, "invoke_agent planner"),
        (chat, turn), (chat, turn), (chat, turn),
        ("execute_tool temperature", turn),                      # parent → temperature
        ("invoke_agent weather", "execute_tool temperature"),    # the child run nests in it
        (turn, "invoke_agent weather"), (chat, turn),
        ("execute_tool weather", turn),                          # child → weather
    ])
    top = next(s for s in spans if s.name == "invoke_agent planner")
    assert top.parent is None
    assert top.attributes["gen_ai.agent.name"] == "planner"
    assert top.attributes["ptclisp.agent.status"] == "ok"
    assert top.attributes["ptclisp.agent.turns"] == 3
    assert top.attributes["gen_ai.usage.input_tokens"] == step.usage.input_tokens
    nested = next(s for s in spans if s.name == "invoke_agent weather")
    assert nested.attributes["ptclisp.agent.depth"] == 1
    tools = {s.attributes["gen_ai.tool.name"]: s for s in spans
             if s.name.startswith("execute_tool")}
    assert set(tools) == {"temperature", "weather"}
    assert tools["temperature"].end_time > tools["temperature"].start_time
    llm_span = next(s for s in spans if s.name == chat)
    assert llm_span.attributes["gen_ai.provider.name"] == "scripted"
    assert llm_span.attributes["gen_ai.usage.output_tokens"] > 0
    turns = sorted((s.attributes["ptclisp.turn.number"], s.attributes.get("ptclisp.turn.status"),
                    s.attributes.get("error.type"))
                   for s in spans if s.name == turn and
                   by_id[s.parent.span_id].attributes["gen_ai.agent.name"] == "planner")
    assert turns == [(1, "continue", None), (2, "error", "tool_not_found"),
                     (3, "returned", None)]


def test_a_suspended_level_stores_its_system_prompt_by_hash() -> None:
    """Each level's step keeps the SHA-256 of the system prompt the agent rebuilds, not the
    ~20 KB text; a changed agent cannot resume it."""
    import msgpack

    llm = ScriptedLLM([PARENT_TURN_1, CHILD_TURN, PARENT_TURN_2])
    pending = approval_agents.build().run(llm=llm)
    assert isinstance(pending, PendingStep)
    state = pending.host_state["subagent"]
    (child,) = state["children"].values()
    child_state = child["pending"]["host_state"]["subagent"]
    for level in (state, child_state):
        assert set(level["messages"][0]) == {"role", "content_sha256"}
    level = len(msgpack.packb(child["pending"], use_bin_type=True))
    journal = len(msgpack.packb(child["pending"]["journal"], use_bin_type=True))
    assert level - journal <= 3 * 1024
    changed = approval_agents.build()
    changed.instructions = "Be brief."
    with pytest.raises(Exception) as error:
        changed.resume(deserialize(serialize(pending)), "approval-1", {"yes": True}, llm=llm)
    assert getattr(error.value, "code", None) == "pending_error"
    assert "system prompt changed" in str(error.value)
    tampered = deserialize(serialize(pending))
    tampered.host_state["subagent"]["messages"][0]["content_sha256"] = "0" * 64
    with pytest.raises(Exception) as bad:
        approval_agents.build().resume(tampered, "approval-1", {"yes": True}, llm=llm)
    assert getattr(bad.value, "code", None) == "pending_error"
