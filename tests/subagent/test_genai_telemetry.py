"""GenAI semantic-convention spans and metrics, checked with in-memory exporters (real SDK), the
agent talking to a real local OpenAI-format HTTP server."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from wire_servers import WireServer

from ptclisp import tool
from ptclisp.runtime import Retry
from ptclisp.subagent import OpenAIClient, SubAgent


def clj(code: str) -> str:
    return f"```clojure\n{code}\n```"


@tool
def price(sku: str) -> dict[str, Any]:
    """The price of a product."""
    return {"sku": sku, "price": 10}


@tool(is_async=True)
def approve(amount: int) -> str:
    """Ask a human; returns an op id."""
    return f"approval-{amount}"


def providers() -> tuple[TracerProvider, InMemorySpanExporter, MeterProvider,
                         InMemoryMetricReader]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    return tracer_provider, exporter, MeterProvider(metric_readers=[reader]), reader


def points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    data = reader.get_metrics_data()
    found: dict[str, list[Any]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


def test_spans_and_metrics_follow_the_genai_conventions() -> None:
    tracer_provider, exporter, meter_provider, reader = providers()
    script = [{"content": clj("(:price (tool/price {:sku \"desk\"}))"),
               "usage": {"input_tokens": 120, "output_tokens": 9}},
              {"content": clj("(return *1)"), "usage": {"input_tokens": 150, "output_tokens": 4}}]
    with WireServer("openai", script) as server:
        llm = OpenAIClient("gpt-test", base_url=server.base_url, api_key="k")
        agent = SubAgent(name="pricer", prompt="price a desk", tools=[price], max_turns=3)
        step = agent.run(llm=llm, tracer_provider=tracer_provider,
                         meter_provider=meter_provider)
    assert step.ok and step.return_value == 10
    spans = exporter.get_finished_spans()
    agent_span = next(s for s in spans if s.name == "invoke_agent pricer")
    attrs = agent_span.attributes
    assert attrs["gen_ai.operation.name"] == "invoke_agent"
    assert attrs["gen_ai.agent.name"] == "pricer"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.request.model"] == "gpt-test"
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (270, 13)
    assert attrs["ptclisp.agent.status"] == "ok" and attrs["ptclisp.agent.turns"] == 2

    chats = [s for s in spans if s.name == "chat gpt-test"]
    assert len(chats) == 2
    first = chats[0]
    assert first.kind == SpanKind.CLIENT
    assert first.attributes["gen_ai.operation.name"] == "chat"
    assert first.attributes["gen_ai.provider.name"] == "openai"
    assert first.attributes["gen_ai.request.model"] == "gpt-test"
    assert first.attributes["gen_ai.response.model"] == "gpt-test"
    assert tuple(first.attributes["gen_ai.response.finish_reasons"]) == ("stop",)
    assert first.attributes["gen_ai.usage.input_tokens"] == 120
    assert first.attributes["gen_ai.usage.output_tokens"] == 9

    tool_span = next(s for s in spans if s.name == "execute_tool price")
    assert tool_span.kind == SpanKind.INTERNAL
    assert tool_span.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool_span.attributes["gen_ai.tool.name"] == "price"
    assert tool_span.attributes["gen_ai.tool.type"] == "function"
    assert "gen_ai.tool.call.id" not in tool_span.attributes  # a sync tool starts no op

    turns = [s for s in spans if s.name == "ptclisp.turn"]
    assert [t.attributes["ptclisp.turn.number"] for t in turns] == [1, 2]
    assert turns[0].attributes["ptclisp.steps"] == step.turns[0].steps
    assert turns[0].attributes["ptclisp.tier"] == "in_process"

    found = points(reader)
    tokens = {p.attributes["gen_ai.token.type"]: p for p in found["gen_ai.client.token.usage"]}
    assert (tokens["input"].sum, tokens["input"].count) == (270, 2)
    assert (tokens["output"].sum, tokens["output"].count) == (13, 2)
    assert tokens["input"].attributes["gen_ai.provider.name"] == "openai"
    assert tokens["input"].attributes["gen_ai.request.model"] == "gpt-test"
    assert tokens["input"].attributes["gen_ai.operation.name"] == "chat"
    (duration,) = found["gen_ai.client.operation.duration"]
    assert duration.count == 2 and duration.sum > 0
    assert "error.type" not in duration.attributes


def test_an_async_tool_span_carries_the_op_id_as_the_tool_call_id() -> None:
    tracer_provider, exporter, meter_provider, _ = providers()
    from ptclisp.subagent import ScriptedLLM

    agent = SubAgent(name="spender", prompt="spend", tools=[approve], max_turns=2)
    pending = agent.run(llm=ScriptedLLM([clj("(return (await (tool/approve {:amount 5})))")]),
                        tracer_provider=tracer_provider, meter_provider=meter_provider)
    assert pending.status == "pending"
    tool_span = next(s for s in exporter.get_finished_spans() if s.name == "execute_tool approve")
    assert tool_span.attributes["gen_ai.tool.call.id"] == "approval-5"
    assert tool_span.attributes["ptclisp.tool.async"] is True
    run_span = next(s for s in exporter.get_finished_spans() if s.name == "invoke_agent spender")
    assert run_span.attributes["ptclisp.agent.status"] == "pending"


def test_a_failed_chat_records_error_type_on_span_and_duration() -> None:
    tracer_provider, exporter, meter_provider, reader = providers()
    with WireServer("openai", [{"status": 400, "text": "bad model"}]) as server:
        llm = OpenAIClient("gpt-none", base_url=server.base_url,
                           retry=Retry(attempts=1))
        step = SubAgent(name="a", prompt="p").run(llm=llm, tracer_provider=tracer_provider,
                                                  meter_provider=meter_provider)
    assert step.status == "error" and step.error is not None
    chat = next(s for s in exporter.get_finished_spans() if s.name == "chat gpt-none")
    assert chat.status.status_code == StatusCode.ERROR
    assert chat.attributes["error.type"] == "llm_http_error"
    run = next(s for s in exporter.get_finished_spans() if s.name == "invoke_agent a")
    assert run.attributes["error.type"] == "llm_http_error"
    (duration,) = points(reader)["gen_ai.client.operation.duration"]
    assert duration.attributes["error.type"] == "llm_http_error"
    assert "gen_ai.client.token.usage" not in points(reader)
