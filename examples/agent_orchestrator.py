"""A parent agent orchestrating two subagents, each with its own tools and signature.

    python examples/agent_orchestrator.py             # offline: recorded LLM replies
    OPENAI_BASE_URL=... OPENAI_MODEL=... python examples/agent_orchestrator.py

``inventory`` knows stock levels, ``pricing`` knows prices and discounts. The ``quote`` agent calls
them as tools — ``(tool/inventory {...})``, ``(tool/pricing {...})`` — from its own program; each
call runs a whole subagent (its own LLM turns and programs) and returns its validated result.
The span tree (``invoke_agent`` → turn → ``chat`` / ``execute_tool`` → nested ``invoke_agent``,
named per the OpenTelemetry GenAI semantic conventions) is printed at the end from
OpenTelemetry's in-memory exporter.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from ptclisp.subagent import SubAgent, llm_from_env

REPLIES = Path(__file__).with_suffix(".replies.json")
STOCK = {"desk": 5, "chair": 1, "lamp": 12}
PRICES = {"desk": 240.0, "chair": 85.0, "lamp": 30.0}


def stock_level(sku: str) -> dict[str, Any]:
    """Units on hand of a product."""
    return {"sku": sku, "on_hand": STOCK.get(sku, 0)}


def unit_price(sku: str) -> dict[str, Any]:
    """List price of a product, and the bulk discount rate from 3 units."""
    return {"sku": sku, "price": PRICES[sku], "bulk_discount": 0.1}


inventory = SubAgent(
    name="inventory",
    description="units on hand for each sku",
    prompt="Report the units on hand for these skus: {{skus}}",
    tools=[stock_level],
    signature="(skus [:string]) -> {available :map}",
    max_turns=2,
)
pricing = SubAgent(
    name="pricing",
    description="price lines and total for items, with bulk discounts",
    prompt="Price these items, applying bulk discounts: {{items}}",
    tools=[unit_price],
    signature="(items [{sku :string, qty :int}]) -> {lines [{sku :string, total :float}], "
              "total :float}",
    max_turns=2,
)
quote = SubAgent(
    name="quote",
    prompt="A customer wants 3 desks and 2 chairs. Can we fulfil the order, and what does it "
           "cost?",
    tools=[inventory.as_tool(), pricing.as_tool()],
    signature="-> {can_fulfil :bool, short [:string], total :float}",
    max_turns=3,
)


def print_tree(exporter: InMemorySpanExporter) -> None:
    spans = exporter.get_finished_spans()
    children: dict[Any, list[Any]] = {}
    for span in spans:
        children.setdefault(span.parent.span_id if span.parent else None, []).append(span)

    def show(span: Any, depth: int) -> None:
        attrs = span.attributes
        label = attrs.get("ptclisp.turn.number") or ""  # other names carry agent/tool/model
        print(f"{'  ' * depth}{span.name} {label}".rstrip())
        for child in sorted(children.get(span.context.span_id, []), key=lambda s: s.start_time):
            show(child, depth + 1)

    for root in children.get(None, []):
        show(root, 0)


def main() -> int:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    step = quote.run(llm=llm_from_env(script=REPLIES), tracer_provider=provider,
                     on_tool_end=lambda call: print(f"[{call.name}] {json.dumps(call.result)}"))
    print(f"\nstatus: {step.status}; result: {json.dumps(step.return_value)}")
    if not step.ok:
        print(f"error: {step.error}")
    print("\nspans:")
    print_tree(exporter)
    return 0 if step.ok else 1


if __name__ == "__main__":
    sys.exit(main())
