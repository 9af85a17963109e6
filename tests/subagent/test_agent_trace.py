"""One trace across suspensions: resumed runs link to the run they continue (in-memory exporter)."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import ptclisp
from ptclisp.subagent import ScriptedLLM, SubAgent
from ptclisp.subagent._trace import links_to, trace_context


def clj(program: str) -> str:
    return f"```clojure\n{program}\n```"


@ptclisp.tool(is_async=True)
def phone(number: str) -> str:
    """Start a call (op id call-<number>)."""
    return f"call-{number}"


def provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider, exporter


def runs(exporter: InMemorySpanExporter) -> list[Any]:
    return [s for s in exporter.get_finished_spans() if s.name.startswith("invoke_agent")]


def test_each_resumed_run_links_to_the_piece_it_continues_in_one_trace() -> None:
    tracer_provider, exporter = provider()
    agent = SubAgent(name="caller", prompt="p", tools=[phone], max_turns=2)
    llm = ScriptedLLM([clj('(def a (await (tool/phone {:number "1"})))\n'
                           '(return [(:said a) (:said (await (tool/phone {:number "2"})))])')])
    pending = agent.run(llm=llm, tracer_provider=tracer_provider)
    assert pending.trace["traceparent"].startswith("00-")
    blob = ptclisp.serialize(pending)
    second = agent.resume(ptclisp.deserialize(blob), "call-1", {"said": "a"}, llm=llm,
                          tracer_provider=tracer_provider)
    step = agent.resume(ptclisp.deserialize(ptclisp.serialize(second)), "call-2", {"said": "b"},
                        llm=llm, tracer_provider=tracer_provider)
    assert step.return_value == ["a", "b"]
    first_run, second_run, third_run = runs(exporter)
    assert first_run.links == ()
    assert [link.context.span_id for link in second_run.links] == [first_run.context.span_id]
    assert [link.context.span_id for link in third_run.links] == [second_run.context.span_id]
    assert {r.context.trace_id for r in (first_run, second_run, third_run)} == {
        first_run.context.trace_id}
    assert second_run.attributes["ptclisp.agent.resumed"] is True


def test_a_nested_resume_links_to_its_own_earlier_run_under_its_parents_span() -> None:
    tracer_provider, exporter = provider()
    child = SubAgent(name="dialer", prompt="call {{number}}", tools=[phone],
                     signature="(number :string) -> :string", max_turns=1)
    parent = SubAgent(name="boss", prompt="p", tools=[child], max_turns=1)
    llm = ScriptedLLM([
        clj('(return (await (tool/dialer {:number "7"})))'),
        clj('(return (:said (await (tool/phone {:number data/number}))))'),
    ])
    pending = parent.run(llm=llm, tracer_provider=tracer_provider)
    step = parent.resume(pending, "call-7", {"said": "hello"}, llm=llm,
                         tracer_provider=tracer_provider)
    assert step.return_value == "hello", step.error
    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans}
    boss_1, dialer_1, boss_2, dialer_2 = sorted(
        runs(exporter), key=lambda s: (s.start_time, s.attributes["ptclisp.agent.depth"]))
    assert (boss_1.attributes["gen_ai.agent.name"], dialer_1.attributes["gen_ai.agent.name"]) == (
        "boss", "dialer")
    assert [link.context.span_id for link in boss_2.links] == [boss_1.context.span_id]
    assert [link.context.span_id for link in dialer_2.links] == [dialer_1.context.span_id]
    ancestor = by_id[dialer_2.parent.span_id]
    while not ancestor.name.startswith("invoke_agent"):
        ancestor = by_id[ancestor.parent.span_id]
    assert ancestor is boss_2  # the nested resume runs inside its parent's resumed run
    assert len({s.context.trace_id for s in spans}) == 1


def test_hostile_trace_carriers_give_no_link_and_no_error() -> None:
    for carrier in ({}, {"traceparent": "garbage"}, {"traceparent": "00-" + "0" * 32 + "-" +
                                                     "0" * 16 + "-01"}, {"x": "y"}):
        assert links_to(carrier) == []


def test_without_a_recording_provider_the_step_carries_no_context() -> None:
    from opentelemetry.trace import INVALID_SPAN

    assert trace_context(INVALID_SPAN) == {}
