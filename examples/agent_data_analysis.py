"""A data-analysis agent over a tool registry.

    python examples/agent_data_analysis.py            # offline: replays recorded LLM replies
    OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_MODEL=qwen2.5-coder \
        python examples/agent_data_analysis.py        # any OpenAI-compatible endpoint
    OPENAI_API_KEY=sk-... OPENAI_MODEL=gpt-4o-mini python examples/agent_data_analysis.py

The agent answers "which region grew most, and what drove it?" over three tools backed by an
in-memory sales table. The LLM never sees the 600 raw rows: its programs fetch, filter, group and
aggregate inside ptclisp, and only the small results come back to it. The answer is typed by a
signature and validated before the run ends; ``_rows`` (the evidence) goes to the host but is
hidden from the LLM.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from ptclisp import ToolRegistry
from ptclisp.subagent import SubAgent, Turn, llm_from_env

REPLIES = Path(__file__).with_suffix(".replies.json")
REGIONS = ["north", "south", "east", "west"]
PRODUCTS = {"p1": ("kettle", "kitchen"), "p2": ("toaster", "kitchen"), "p3": ("lamp", "home"),
            "p4": ("desk", "office"), "p5": ("chair", "office")}


def _sales_table() -> list[dict[str, Any]]:
    """600 deterministic sales rows over two quarters (no randomness: reruns agree)."""
    rows = []
    for i in range(600):
        region = REGIONS[i % 4]
        product = f"p{1 + (i * 7) % 5}"
        quarter = "Q1" if i < 300 else "Q2"
        base = 20 + (i * 13) % 40
        boost = 2.5 if (quarter == "Q2" and region == "east" and product == "p4") else 1.0
        rows.append({"id": i + 1, "region": region, "product": product, "quarter": quarter,
                     "amount": round(base * boost, 2)})
    return rows


SALES = _sales_table()
registry = ToolRegistry()


@registry.register
def list_regions() -> list[str]:
    """The sales regions."""
    return list(REGIONS)


@registry.register
def sales(region: str, quarter: str) -> list[dict[str, Any]]:
    """Sales rows of a region in a quarter ("Q1" or "Q2"): id, product, amount."""
    return [{"id": r["id"], "product": r["product"], "amount": r["amount"]}
            for r in SALES if r["region"] == region and r["quarter"] == quarter]


@registry.register
def product_info(product_ids: list[str]) -> list[dict[str, Any]]:
    """Name and category of each product id."""
    return [{"id": p, "name": PRODUCTS[p][0], "category": PRODUCTS[p][1]}
            for p in product_ids if p in PRODUCTS]


analyst = SubAgent(
    name="analyst",
    prompt=("Which region grew its sales most from Q1 to Q2, by how much (Q2 total minus Q1 "
            "total), and which product contributed most to that growth? Include the ids of the "
            "Q2 rows of that product in that region as _rows."),
    tools=registry,
    signature="-> {region :string, growth :float, product :string, _rows [:int]}",
    max_turns=5,
)


def print_turn(turn: Turn) -> None:
    print(f"--- turn {turn.number}: {turn.status}")
    print(turn.program or turn.reply)
    if turn.error:
        print(f"    error [{turn.error['code']}]: {turn.error['message']}")
    elif turn.status == "continue":
        print(f"    => {json.dumps(turn.result)[:200]}")


def main() -> int:
    llm = llm_from_env(script=REPLIES)
    step = analyst.run(llm=llm, on_turn=print_turn)
    print(f"\nstatus: {step.status} after {len(step.turns)} turns, "
          f"{len(step.tool_calls)} tool calls, {step.usage.total_tokens} tokens"
          f"{' (estimated)' if step.usage.estimated else ''}")
    if not step.ok:
        print(f"error: {step.error}")
        return 1
    answer = dict(step.return_value)
    rows = answer.pop("_rows")
    print(f"answer: {json.dumps(answer)}")
    print(f"evidence (hidden from the LLM): {len(rows)} rows, first ids {rows[:5]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
