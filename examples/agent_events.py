"""The async API of an agent: an event stream, cancellation, GenAI metrics and cost.

    python examples/agent_events.py      # offline: a scripted LLM

1. ``async for event in agent.iter(...)``: turn start, tokens, tool start/end, turn end, done.
2. ``await agent.arun(...)`` under ``asyncio.timeout``: a program that loops forever is stopped
   at its next meter check (code ``cancelled``); no further LLM call is made.
3. The OpenTelemetry GenAI metrics of the runs (in-memory reader) and the cost of a usage by the
   price table (``register_price`` for your own model).
"""

from __future__ import annotations

import asyncio
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from ptclisp import tool
from ptclisp.subagent import Price, ScriptedLLM, SubAgent, Usage, price_for, register_price


@tool
def stock(sku: str) -> dict[str, Any]:
    """Units in stock for a product."""
    return {"sku": sku, "units": {"desk": 5, "chair": 1}.get(sku, 0)}


def clj(code: str) -> str:
    return f"Checking.\n```clojure\n{code}\n```"


async def stream(meter_provider: MeterProvider) -> None:
    agent = SubAgent(name="stock", prompt="How many desks and chairs?", tools=[stock],
                     signature="-> {desk :int, chair :int}", max_turns=3)
    llm = ScriptedLLM([clj('(def d (tool/stock {:sku "desk"}))\n(:units d)'),
                       clj('(return {:desk *1 :chair (:units (tool/stock {:sku "chair"}))})')])
    tokens = 0
    async for event in agent.iter(llm=llm, meter_provider=meter_provider):
        if event.kind == "token":
            tokens += 1
            continue
        if tokens:
            print(f"  ({tokens} tokens)")
            tokens = 0
        if event.kind == "turn_start":
            print(f"turn {event.number} of {event.agent}")
        elif event.kind == "tool_start":
            print(f"  tool {event.name} {event.args}")
        elif event.kind == "tool_end":
            print(f"  -> {event.call.result}")
        elif event.kind == "turn_end":
            print(f"  turn status: {event.turn.status}")
        elif event.kind == "done":
            print(f"done: {event.step.status} {event.step.return_value}")


async def cancel(meter_provider: MeterProvider) -> None:
    agent = SubAgent(name="spinner", prompt="spin", max_turns=3,
                     limits={"max_steps": 10**10, "timeout_s": 60})
    llm = ScriptedLLM([clj("(loop [i 0] (recur (inc i)))")] * 3)
    try:
        async with asyncio.timeout(0.5):
            await agent.arun(llm=llm, meter_provider=meter_provider)
    except TimeoutError:
        print(f"cancelled after 0.5 s; LLM calls made: {llm.position} of 3")


def main() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    asyncio.run(stream(provider))
    asyncio.run(cancel(provider))
    for resource in reader.get_metrics_data().resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    kind = point.attributes.get("gen_ai.token.type", "")
                    print(f"{metric.name} {kind}: count={point.count} sum={point.sum:.4g}")
    register_price("my-local-model", Price(input=0.10, output=0.40))
    usage = Usage(input_tokens=120_000, output_tokens=8_000, requests=3)
    price = price_for("my-local-model-q4")
    assert price is not None
    print(f"cost of {usage.input_tokens} in / {usage.output_tokens} out: "
          f"${price.cost(usage):.4f}")


if __name__ == "__main__":
    main()
