"""The loop's parts: program extraction, forms, source composition, prompts, config, API."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp import run, subagent, tool
from ptclisp.subagent import (
    AnthropicClient,
    OpenAIClient,
    ScriptedLLM,
    SubAgent,
    SubAgentError,
    extract_program,
    llm_from_env,
)
from ptclisp.subagent._forms import definition_forms, top_level_forms
from ptclisp.subagent._prompt import expand_placeholders
from ptclisp.subagent._source import compose


def test_public_api_is_pinned() -> None:
    assert sorted(subagent.__all__) == sorted([
        "LLM", "AfterTool", "AfterTurn", "BeforeTool", "BeforeTurn", "Refuse",
        "AnthropicClient", "Budget", "DepthLimitError", "LLMError", "LLMResponse", "Ledger",
        "OpenAIClient",
        "ScriptedLLM", "Step", "SubAgent", "SubAgentError",
        "TokenUsage", "ToolCallRecord", "Turn", "Usage", "extract_program", "llm_from_env",
        "pending_ops", "run", "PRICES", "Price", "price_for", "register_price", "Done", "Event",
        "Pending", "Token", "ToolEnd", "ToolStart", "TurnEnd", "TurnStart",
        # the durable host (issue 12)
        "AgentHost", "CallContext", "Delivery", "HostError", "HostStore", "HostStoreError",
        "OpRecord", "PostgresHostStore", "RunRecord", "SQLiteHostStore", "create_app",
        "current_call", "idempotency_key", "open_store", "sign",
    ])
    for name in subagent.__all__:
        assert getattr(subagent, name) is not None


@pytest.mark.parametrize(
    ("reply", "program"),
    [
        ("```clojure\n(+ 1 2)\n```", "(+ 1 2)"),
        ("Draft:\n```clojure\n(draft)\n```\nFinal:\n```clojure\n(final)\n```", "(final)"),
        ("```python\nprint(1)\n```\n```\n(+ 1 2)\n```", "(+ 1 2)"),
        ("```clj\n(a)\n```\n```\n(untagged)\n```", "(a)"),
        ("<think>maybe ```clojure\n(no)\n```</think>\n```lisp\n(yes)\n```", "(yes)"),
        ("  (return 42)\n", "(return 42)"),
        ("~~~clojure\n(tilde)\n~~~", "(tilde)"),
        ("Just prose, no code.", None),
        ("```clojure\n\n```", None),
        ("```python\nx = 1\n```", None),
    ],
)
def test_extract_program(reply: str, program: str | None) -> None:
    assert extract_program(reply) == program


def test_forms_respect_strings_comments_chars_and_discard() -> None:
    source = '(def a ")(") ; (def b 1)\n#_(def c 2) (defn f [x] (str \\( x)) x (def d [1 2])'
    assert top_level_forms(source)[0] == '(def a ")(")'
    assert definition_forms(source) == ['(def a ")(")', "(defn f [x] (str \\( x))",
                                        "(def d [1 2])"]


def test_compose_prepends_the_prelude_and_maps_errors_back() -> None:
    source = compose(["(def a 1)", "(defn g [] 2)"], 1, "(def b (+ a 1))\n  (+ b\n     (nope 1))")
    result = run(source.text, data={"__history_1": 5})
    assert result.error is not None
    error = source.map_error(result.error)
    assert (error.line, error.column) == (3, 7)  # the symbol `nope`
    first_line = compose([], 0, "(def x 1) (+ x (nope))")
    err = first_line.map_error(run(first_line.text).error)  # type: ignore[arg-type]
    assert (err.line, err.column) == (1, 17)


@settings(max_examples=60, deadline=None)
@given(st.integers(-1000, 1000), st.sampled_from(["", "  ", "\n", "; c\n"]),
       st.booleans())
def test_a_turn_tells_return_from_running_to_the_end(n: int, gap: str, explicit: bool) -> None:
    """The composed source means what the program means; ``returned`` marks ``(return v)``."""
    program = f"(def x {n}){gap}" + ("(return (* x 2))" if explicit else "(* x 2)")
    result = run(compose(["(def unused 0)"], 0, program).text)
    assert result.value == run(program).value == 2 * n
    assert result.returned is explicit


def test_placeholders() -> None:
    context = {"name": "Ada", "order": {"id": 7, "items": [1, 2]}}
    assert expand_placeholders("Hi {{name}}, order {{ order.id }}: {{order.items}}",
                               context) == "Hi Ada, order 7: [1, 2]"
    with pytest.raises(SubAgentError) as info:
        expand_placeholders("{{order.nope}}", context)
    assert info.value.code == "missing_context"


def test_llm_from_env(tmp_path: Path) -> None:
    script = tmp_path / "s.json"
    script.write_text('["(return 1)"]')
    openai = llm_from_env(env={"OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "OPENAI_MODEL": "q"})
    assert isinstance(openai, OpenAIClient)
    assert (openai.base_url, openai.model) == ("http://127.0.0.1:1/v1", "q")
    assert isinstance(llm_from_env(env={"ANTHROPIC_API_KEY": "k"}), AnthropicClient)
    assert isinstance(llm_from_env(script, env={}), ScriptedLLM)
    with pytest.raises(SubAgentError):
        llm_from_env(env={})
    with pytest.raises(SubAgentError):
        llm_from_env(script, env={"SUBAGENT_LLM": "nope"})


def test_run_a_task_text_and_tools_as_a_mapping() -> None:
    def double(x: int) -> int:
        """Twice x."""
        return 2 * x

    agent = SubAgent(prompt="p", tools={"double": double}, signature="-> :int", max_turns=2)
    assert agent.tool_map()["double"].signature_text == "(x :int) -> :int"
    step = agent.run(llm=ScriptedLLM(["```clojure\n(return (tool/double {:x 21}))\n```"]))
    assert step.ok and step.return_value == 42
    step = subagent.run("Say hi", llm=ScriptedLLM(["```clojure\n(return \"hi\")\n```"]))
    assert step.ok and step.return_value == "hi"
    assert list(SubAgent(prompt="p", tools={"twice": double}).tool_map()) == ["twice"]
    with pytest.raises(SubAgentError):
        SubAgent(prompt="p", tools={"other": tool(double)})


def test_arun() -> None:
    import asyncio

    agent = SubAgent(prompt="p", signature="-> :int")
    step = asyncio.run(agent.arun(llm=ScriptedLLM(["```clojure\n(return 5)\n```"])))
    assert step.ok and step.return_value == 5


def test_an_unawaited_op_handle_as_a_turn_result_does_not_break_the_run() -> None:
    from ptclisp import Tool

    slow = Tool("slow", lambda x: None, signature="(x :int) -> :int", is_async=True)
    llm = ScriptedLLM(["```clojure\n(tool/slow {:x 1})\n```",
                       "```clojure\n(return (str *1))\n```"])
    step = SubAgent(prompt="p", tools=[slow], signature="-> :string").run(llm=llm)
    assert step.ok and step.return_value.startswith('#op["slow-')
