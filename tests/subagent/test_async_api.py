"""Async for real: a cancellable ``arun`` (and ``CancelToken``), and the ``agent.iter`` events."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from wire_servers import WireServer

from ptclisp import CancelToken, tool
from ptclisp.subagent import (
    Done,
    OpenAIClient,
    Pending,
    ScriptedLLM,
    Step,
    SubAgent,
    Token,
    ToolEnd,
    ToolStart,
    TurnEnd,
    TurnStart,
)

SPIN = "```clojure\n(loop [i 0] (recur (inc i)))\n```"
SIGNAL_THEN_SPIN = "```clojure\n(tool/running {})\n(loop [i 0] (recur (inc i)))\n```"
LONG = {"max_steps": 10**10, "timeout_s": 60.0}


def running_tool() -> tuple[Any, threading.Event]:
    """A tool the program calls first, so a test knows the program is running."""
    started = threading.Event()

    @tool
    def running() -> bool:
        """Signals that the program runs."""
        started.set()
        return True

    return running, started


@tool
def lookup(key: str) -> dict[str, Any]:
    """Look a key up."""
    return {"key": key, "value": len(key)}


@tool(is_async=True)
def approve(amount: int) -> str:
    """Ask a human; returns an op id."""
    return f"approval-{amount}"


def clj(code: str) -> str:
    return f"```clojure\n{code}\n```"


def test_cancel_token_stops_a_running_program_with_code_cancelled() -> None:
    token = CancelToken()
    running, started = running_tool()
    llm = ScriptedLLM([SIGNAL_THEN_SPIN, SPIN])
    agent = SubAgent(name="spinner", prompt="spin", tools=[running], limits=LONG, max_turns=2)
    threading.Thread(target=lambda: started.wait(30) and token.cancel(), daemon=True).start()
    began = time.monotonic()
    step = agent.run(llm=llm, cancel=token)
    assert isinstance(step, Step) and step.status == "error"
    assert step.error is not None and step.error.code == "cancelled"
    assert step.turns[0].error is not None and step.turns[0].error.code == "cancelled"
    assert llm.position == 1  # no further LLM call after the cancellation: no tokens spent
    assert time.monotonic() - began < 30  # far below the 60 s limit the run had


def test_cancelling_arun_stops_the_run_at_its_next_meter_check() -> None:
    running, started = running_tool()
    llm = ScriptedLLM([SIGNAL_THEN_SPIN, SPIN])
    turns: list[Any] = []
    agent = SubAgent(name="spinner", prompt="spin", tools=[running], limits=LONG, max_turns=2)

    async def main() -> None:
        task = asyncio.ensure_future(agent.arun(llm=llm, on_turn=turns.append))
        while not started.is_set():  # the program is running (spinning after the tool call)
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    began = time.monotonic()
    asyncio.run(main())
    # arun returned only once the worker had stopped: its turn is recorded, cancelled.
    assert [t.error.code for t in turns] == ["cancelled"]
    assert llm.position == 1
    assert time.monotonic() - began < 30


def test_cancelling_during_an_llm_call_stops_before_the_next_one() -> None:
    with WireServer("openai", [{"delay": 0.5, "content": SPIN}, SPIN]) as server:
        llm = OpenAIClient("m", base_url=server.base_url)
        agent = SubAgent(name="slow", prompt="p", limits=LONG, max_turns=3)

        async def main() -> None:
            task = asyncio.ensure_future(agent.arun(llm=llm))
            while not server.requests:  # the first LLM call is in flight
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(main())
        assert len(server.requests) == 1  # the reply arrived after the cancel: no second call


def test_asyncio_timeout_around_arun() -> None:
    agent = SubAgent(name="spinner", prompt="spin", limits=LONG, max_turns=2)
    llm = ScriptedLLM([SPIN, SPIN])

    async def main() -> None:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await agent.arun(llm=llm)

    asyncio.run(main())
    assert llm.position <= 1  # never a second LLM call (0 if the timeout beat the first)


def test_iter_streams_turns_tokens_tools_and_done() -> None:
    llm = ScriptedLLM([clj('(:value (tool/lookup {:key "abc"}))'), clj("(return (* 2 *1))")])
    agent = SubAgent(name="looker", prompt="look", tools=[lookup], max_turns=3)

    async def main() -> list[Any]:
        return [event async for event in agent.iter(llm=llm)]

    events = asyncio.run(main())
    kinds = [e.kind for e in events]
    assert kinds[0] == "turn_start" and kinds[-1] == "done"
    assert kinds.count("turn_start") == kinds.count("turn_end") == 2
    assert isinstance(events[0], TurnStart) and events[0].number == 1
    assert events[0].agent == "looker"
    tokens = [e.text for e in events if isinstance(e, Token)]
    assert "".join(tokens[: len(tokens) // 2 + 1])  # tokens streamed
    first_turn_end = kinds.index("turn_end")
    assert kinds.index("token") < kinds.index("tool_start") < kinds.index("tool_end") \
        < first_turn_end < kinds.index("turn_start", 1)
    start = next(e for e in events if isinstance(e, ToolStart))
    assert (start.name, start.args) == ("lookup", {"key": "abc"})
    end = next(e for e in events if isinstance(e, ToolEnd))
    assert end.call.result == {"key": "abc", "value": 3}
    turn_ends = [e for e in events if isinstance(e, TurnEnd)]
    assert [t.turn.status for t in turn_ends] == ["continue", "returned"]
    done = events[-1]
    assert isinstance(done, Done) and done.step.ok and done.step.return_value == 6


def test_iter_ends_with_pending_for_an_awaited_op() -> None:
    llm = ScriptedLLM([clj("(return (await (tool/approve {:amount 7})))")])
    agent = SubAgent(name="spender", prompt="spend", tools=[approve], max_turns=2)

    async def main() -> list[Any]:
        return [event async for event in agent.iter(llm=llm)]

    events = asyncio.run(main())
    assert isinstance(events[-1], Pending)
    assert events[-1].pending.status == "pending"
    assert "pending" not in [e.kind for e in events[:-1]]


def test_leaving_iter_early_cancels_the_run() -> None:
    llm = ScriptedLLM([SPIN, SPIN, SPIN])
    agent = SubAgent(name="spinner", prompt="spin", limits=LONG, max_turns=3)

    async def main() -> None:
        stream = agent.iter(llm=llm)
        async for event in stream:
            if isinstance(event, Token):
                break
        await stream.aclose()  # runs the generator's cleanup: cancel and wait

    began = time.monotonic()
    asyncio.run(main())
    assert llm.position == 1 and time.monotonic() - began < 30


def test_iter_refuses_callbacks() -> None:
    agent = SubAgent(name="a", prompt="p")

    async def main() -> None:
        async for _ in agent.iter(llm=ScriptedLLM([]), on_turn=print):
            pass

    with pytest.raises(Exception, match="as events"):
        asyncio.run(main())
