"""Typed tools called with kebab-case keys through SubAgent, as through ptclisp.run (issue 14)."""

from __future__ import annotations

from typing import Any

import pydantic

import ptclisp
from ptclisp import Tool
from ptclisp.subagent import ScriptedLLM, SubAgent


def clj(program: str) -> str:
    return f"```clojure\n{program}\n```"


class Lookup(pydantic.BaseModel):
    customer_id: int
    include_orders: bool = False


def customer_tools(calls: list[Any]) -> list[Tool]:
    def get_customer(customer_id: int, with_email: bool = False) -> dict[str, Any]:
        """A customer by id."""
        calls.append(("get-customer", customer_id, with_email))
        row: dict[str, Any] = {"id": customer_id, "name": "Ada"}
        if with_email:
            row["email"] = "ada@example.org"
        return row

    def lookup(args: Lookup) -> dict[str, Any]:
        """A customer lookup taking a model."""
        calls.append(("lookup", args.customer_id, args.include_orders))
        return {"id": args.customer_id, "orders": [1, 2] if args.include_orders else []}

    return [Tool("get-customer", get_customer), Tool("lookup", lookup)]


def test_kebab_case_keys_reach_typed_tools_inside_a_subagent() -> None:
    calls: list[Any] = []
    llm = ScriptedLLM([clj(
        "(def c (tool/get-customer {:customer-id 7 :with-email true}))\n"
        "(def l (tool/lookup {:customer-id 8 :include-orders true}))\n"
        "[c l]"),
        clj("(return {:name (:name c) :email (:email c) :orders (count (:orders l))})")])
    agent = SubAgent(prompt="Find the customer", tools=customer_tools(calls),
                     signature="-> {name :string, email :string, orders :int}", max_turns=3)
    step = agent.run(llm=llm)
    assert step.ok, step.error
    assert step.return_value == {"name": "Ada", "email": "ada@example.org", "orders": 2}
    # each call ran once: the second turn's prelude replays them by their snake_case arguments
    assert calls == [("get-customer", 7, True), ("lookup", 8, True)]
    assert step.turns[0].error is None


def test_subagent_and_run_agree_on_kebab_and_unknown_keys() -> None:
    calls: list[Any] = []
    tools = customer_tools(calls)
    direct = ptclisp.run("(:id (tool/get-customer {:customer-id 7}))", tools={t.name: t for t in tools})
    assert direct.status == "ok" and direct.value == 7
    llm = ScriptedLLM([clj("(return (tool/get-customer {:customer-idd 7}))"),
                       clj("(return (:id (tool/get-customer {:customer-id 9})))")])
    step = SubAgent(prompt="p", tools=customer_tools(calls), signature="-> :int",
                    max_turns=2).run(llm=llm)
    assert step.ok and step.return_value == 9
    first = step.turns[0].error
    assert first is not None and first["code"] == "invalid_args"
    assert "customer-idd" in first["message"]
