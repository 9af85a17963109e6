"""The agent loop end to end, against a real chat-completions server on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest
from wire_servers import WireServer

from ptclisp import Limits, Tool
from ptclisp.runtime import Retry
from ptclisp.subagent import (
    AnthropicClient,
    OpenAIClient,
    ScriptedLLM,
    Step,
    SubAgent,
    SubAgentError,
    Turn,
)

FAST = Retry(attempts=2, base_delay=0.01)
ORDERS = {
    "acme": [{"id": 1, "amount": 10.5, "status": "paid"}, {"id": 2, "amount": 20.0,
                                                           "status": "open"},
             {"id": 3, "amount": 5, "status": "paid"}],
}


def clj(program: str) -> str:
    return f"Here is the program.\n```clojure\n{program}\n```"


def orders_tool(calls: list[dict[str, Any]] | None = None) -> Tool:
    def get_orders(customer: str) -> list[dict[str, Any]]:
        """Orders of a customer, newest first."""
        if calls is not None:
            calls.append({"customer": customer})
        if customer not in ORDERS:
            raise KeyError(customer)
        return ORDERS[customer]

    return Tool("get-orders", get_orders)


def openai(server: WireServer) -> OpenAIClient:
    return OpenAIClient("test-model", base_url=server.base_url, api_key="k", retry=FAST)


def agent(**options: Any) -> SubAgent:
    defaults: dict[str, Any] = {
        "name": "orders",
        "prompt": "What did {{customer}} pay in total?",
        "tools": [orders_tool()],
        "signature": "(customer :string) -> {total :float, count :int}",
        "max_turns": 4,
    }
    defaults.update(options)
    return SubAgent(**defaults)


def test_three_turn_run_with_tool_use() -> None:
    calls: list[dict[str, Any]] = []
    script = [
        {"content": clj("(def orders (tool/get-orders {:customer data/customer}))\n(count orders)"),
         "usage": {"input_tokens": 100, "output_tokens": 20}},
        {"content": clj("(def paid (filter #(= \"paid\" (:status %)) orders))\n(mapv :id paid)"),
         "usage": {"input_tokens": 150, "output_tokens": 25}},
        {"content": clj("(return {:total (sum-by :amount paid) :count (count *1)})"),
         "usage": {"input_tokens": 200, "output_tokens": 15}},
    ]
    turns: list[Turn] = []
    with WireServer("openai", script) as server:
        step = agent(tools=[orders_tool(calls)]).run(llm=openai(server),
                                                     context={"customer": "acme"},
                                                     on_turn=turns.append)
    assert isinstance(step, Step)
    assert step.status == "ok", step.error
    assert step.return_value == {"total": 15.5, "count": 2}
    assert [t.status for t in step.turns] == ["continue", "continue", "returned"]
    assert [t.number for t in turns] == [1, 2, 3]
    assert step.turns[0].result == 3 and step.turns[1].result == [1, 3]
    # the tool ran once: later turns re-established `orders` from the recorded result
    assert calls == [{"customer": "acme"}]
    assert [c.name for c in step.tool_calls] == ["get-orders"]
    assert step.tool_calls[0].args == {"customer": "acme"}
    assert step.tool_calls[0].result == ORDERS["acme"]
    assert step.tool_calls[0].duration_s >= 0
    assert (step.usage.input_tokens, step.usage.output_tokens, step.usage.requests) == (450, 60, 3)
    assert step.llm_duration_s > 0 and step.duration_s >= step.llm_duration_s
    # what the server saw: system + task, then each reply and the fed-back result
    seen = server.messages_seen
    assert [m["role"] for m in seen[2]] == ["system", "user", "assistant", "user", "assistant",
                                           "user"]
    assert seen[0][1]["content"] == "What did acme pay in total?"
    assert "tool/get-orders (customer :string) -> [:map]" in seen[0][0]["content"]
    assert seen[1][3]["content"].startswith("Result:\n3")
    assert seen[2][5]["content"].startswith("Result:\n[1 3]")
    assert step.messages == seen[2] + [{"role": "assistant", "content": script[2]["content"]}]


def test_error_turn_is_fed_back_and_recovered_from() -> None:
    script = [
        clj("(def orders (tool/get-orders {:customer data/customer}))\n(count orders)"),
        clj("(def total (sum-by :amount orders))\n(return {:total (+ total (:nope orders)) :count 1})"),
        clj("(return {:total (sum-by :amount orders) :count (count orders)})"),
    ]
    with WireServer("openai", script) as server:
        step = agent().run(llm=openai(server), context={"customer": "acme"})
    assert step.status == "ok" and step.return_value == {"total": 35.5, "count": 3}
    failed = step.turns[1]
    assert failed.status == "error"
    assert failed.error is not None and failed.error["code"] == "type_error"
    assert failed.error["line"] == 2  # the position in the program as the LLM wrote it
    feedback = server.messages_seen[2][-1]["content"]
    assert feedback.startswith("Error [type_error] at line 2")
    assert "Hint:" in feedback
    assert step.turns[2].tool_calls == []  # `orders` came from turn 1, replayed


def test_tool_error_reaches_the_llm_with_the_tool_name() -> None:
    script = [clj("(tool/get-orders {:customer \"nobody\"})"),
              clj("(return {:total 0.0 :count 0})")]
    with WireServer("openai", script) as server:
        step = agent().run(llm=openai(server), context={"customer": "nobody"})
    assert step.ok
    assert step.turns[0].error["code"] == "tool_error"
    assert step.turns[0].tool_calls[0].error is not None
    assert "get-orders" in server.messages_seen[1][-1]["content"]


def test_signature_mismatch_is_retried_without_spending_turns() -> None:
    script = [
        clj("(return {:total \"35.5\"})"),
        clj("(return {:total 35.5 :count 3})"),
    ]
    with WireServer("openai", script) as server:
        step = agent(max_turns=1, return_retries=1).run(llm=openai(server),
                                                        context={"customer": "acme"})
    assert step.status == "ok" and step.return_value == {"total": 35.5, "count": 3}
    bad = step.turns[0]
    assert bad.status == "invalid_return"
    assert bad.error["code"] == "invalid_return"
    assert "total: expected a number, got string '35.5'" in bad.error["message"]
    assert "count: missing" in bad.error["message"]
    feedback = server.messages_seen[1][-1]["content"]
    assert "does not match the required type" in feedback
    assert "{total :float, count :int}" in feedback


def test_signature_retries_run_out() -> None:
    script = [clj("(return {:total 1})")] * 2
    with WireServer("openai", script) as server:
        step = agent(return_retries=1).run(llm=openai(server), context={"customer": "acme"})
    assert step.status == "error"
    assert step.error["code"] == "invalid_return"
    assert [t.status for t in step.turns] == ["invalid_return", "invalid_return"]
    assert len(server.requests) == 2


def test_fail_ends_the_run() -> None:
    script = [clj("(fail {:reason \"no such customer\"})")]
    with WireServer("openai", script) as server:
        step = agent().run(llm=openai(server), context={"customer": "zed"})
    assert step.status == "failed"
    assert step.fail_value == {"reason": "no such customer"}
    assert step.value == step.fail_value and step.return_value is None
    assert [t.status for t in step.turns] == ["failed"]


def test_max_turns_exhaustion() -> None:
    script = [clj("(+ 1 1)"), "I am thinking about it.", clj("(+ 2 2)")]
    with WireServer("openai", script) as server:
        step = agent(max_turns=3).run(llm=openai(server), context={"customer": "acme"})
    assert step.status == "error"
    assert step.error["code"] == "max_turns"
    assert [t.status for t in step.turns] == ["continue", "no_program", "continue"]
    assert "no program" in server.messages_seen[2][-1]["content"]
    assert len(server.requests) == 3


def test_anthropic_wire_format_run() -> None:
    script = [
        {"content": clj("(def orders (tool/get-orders {:customer data/customer}))\n(count orders)"),
         "usage": {"input_tokens": 40, "output_tokens": 9}},
        {"content": clj("(return {:total (sum-by :amount orders) :count (count orders)})"),
         "usage": {"input_tokens": 60, "output_tokens": 11}},
    ]
    with WireServer("anthropic", script) as server:
        llm = AnthropicClient("claude-test", base_url=server.base_url, api_key="k", retry=FAST)
        step = agent().run(llm=llm, context={"customer": "acme"})
    assert step.ok and step.return_value == {"total": 35.5, "count": 3}
    assert (step.usage.input_tokens, step.usage.output_tokens) == (100, 20)
    second = server.requests[1]["body"]
    assert "ptclisp" in second["system"][0]["text"]  # a cached system block
    assert second["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"]


def test_streaming_and_callbacks() -> None:
    script = [clj("(def orders (tool/get-orders {:customer data/customer}))\n(count orders)"),
              clj("(return {:total (sum-by :amount orders) :count 3})")]
    tokens: list[str] = []
    started: list[tuple[str, dict[str, Any]]] = []
    ended: list[Any] = []
    with WireServer("openai", script) as server:
        llm = OpenAIClient("m", base_url=server.base_url, stream=True, retry=FAST)
        step = agent().run(llm=llm, context={"customer": "acme"}, on_llm_token=tokens.append,
                           on_tool_start=lambda name, args: started.append((name, args)),
                           on_tool_end=ended.append)
    assert step.ok
    assert "".join(tokens) == script[0] + script[1]
    assert started == [("get-orders", {"customer": "acme"})]  # not again when replayed
    assert len(ended) == 1 and ended[0].name == "get-orders" and ended[0].result == ORDERS["acme"]


def test_single_shot_mode_returns_the_last_value() -> None:
    llm = ScriptedLLM([clj("(->> data/xs (filter odd?) (reduce +))")])
    step = SubAgent(prompt="Sum the odd numbers.", max_turns=1, signature="-> :int").run(
        llm=llm, context={"xs": [1, 2, 3, 5]})
    assert step.ok and step.return_value == 9
    assert "exactly one turn" in llm.calls[0][0]["content"]


def test_private_fields_are_returned_but_hidden_from_the_llm() -> None:
    llm = ScriptedLLM([
        clj("(def orders (tool/get-orders {:customer \"acme\"}))\n{:n (count orders) :_rows orders}"),
        clj("(return {:count (count orders) :_ids (mapv :id orders)})"),
    ])
    step = SubAgent(prompt="p", tools=[orders_tool()],
                    signature="-> {count :int, _ids [:int]}").run(llm=llm)
    assert step.return_value == {"count": 3, "_ids": [1, 2, 3]}
    shown = llm.calls[1][-1]["content"]
    assert ':_rows "<hidden: vector of 3>"' in shown and "paid" not in shown


def test_llm_failure_is_a_step_error_with_the_turns_so_far() -> None:
    with WireServer("openai", [clj("(+ 1 2)"), {"status": 500, "text": "down"},
                               {"status": 500, "text": "down"}]) as server:
        step = agent().run(llm=openai(server), context={"customer": "acme"})
    assert step.status == "error" and step.error["code"] == "llm_http_error"
    assert len(step.turns) == 1


def test_usage_mistakes_raise() -> None:
    with pytest.raises(SubAgentError) as no_llm:
        agent().run(context={"customer": "acme"})
    assert no_llm.value.code == "no_llm"
    with pytest.raises(SubAgentError) as bad_context:
        agent().run(llm=ScriptedLLM([]), context={"customer": 5})
    assert bad_context.value.code == "invalid_args"
    with pytest.raises(SubAgentError) as missing:
        SubAgent(prompt="Hi {{who}}").run(llm=ScriptedLLM([]))
    assert missing.value.code == "missing_context"
    from ptclisp._tools.signature import SignatureError

    with pytest.raises(SignatureError):
        SubAgent(prompt="p", signature="(a :nope) -> :int")
    with pytest.raises(SubAgentError):
        SubAgent(prompt="p", tools=[1])


def test_limits_apply_to_each_turn() -> None:
    llm = ScriptedLLM([clj("(count (range))"), clj("(return 1)")])
    step = SubAgent(prompt="p", limits=Limits(max_steps=10_000), signature="-> :int").run(llm=llm)
    assert step.ok
    assert step.turns[0].error["code"] in ("step_limit", "memory_limit")
    assert "Hint:" in llm.calls[1][-1]["content"]


def test_prompt_lists_the_real_core_library_and_the_data() -> None:
    from ptclisp._core._registry import DOCS

    llm = ScriptedLLM([clj("(return 1)")])
    SubAgent(prompt="p", max_turns=2).run(llm=llm, context={"rows": [{"id": 1, "_secret": "s"}]})
    system = llm.calls[0][0]["content"]
    for name in ("sum-by", "group-by", "clojure.string/join"):
        if name in DOCS:
            assert f"({name} " in system
    listed = [n for n, d in DOCS.items() if d.category != "java interop"]
    assert len([n for n in listed if f"({n}" in system]) == len(listed)
    # the Java whitelist is one summary line, not ~150 entries (issue 14)
    assert "Java: pure java.lang with Java semantics" in system and ".substring" in system
    assert "(Character/isSpaceChar" not in system
    assert 'data/rows (vector of 1): [{:id 1, :_secret "<hidden: string \'s\'>"}]' in system
