"""Every ``SubAgent.run`` (and ``resume``, ``arun``) is a supervised runtime process on the
calling thread: a crash restarts it from its last turn checkpoint, usage errors and interrupts
are not crashes, and the restarted run ends exactly as an uncrashed one."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from support import FlakyLLM, clj

import ptclisp
from ptclisp import PendingStep
from ptclisp import runtime as rt
from ptclisp.subagent import ScriptedLLM, Step, SubAgent, SubAgentError


def biller() -> tuple[SubAgent, list[int]]:
    charged: list[int] = []

    @ptclisp.tool
    def charge(amount: int) -> dict:
        """Charge a card (must happen once per call)."""
        charged.append(amount)
        return {"charged": amount}

    return SubAgent(name="biller", prompt="bill", tools=[charge], max_turns=5), charged


REPLIES = [clj("(def r (tool/charge {:amount 30}))\nr"),
           clj("(def s (tool/charge {:amount 12}))\ns"),
           clj("(return (+ (:charged r) (:charged s)))")]


def test_a_run_is_a_process_on_the_calling_thread() -> None:
    agent, _ = biller()
    seen: list[tuple[Any, Any]] = []
    step = agent.run(llm=ScriptedLLM(REPLIES),
                     before_turn=lambda n, m: seen.append((rt.self_pid(), threading.current_thread())))
    assert step.return_value == 42
    assert len(seen) == 3 and all(isinstance(pid, rt.Pid) for pid, _ in seen)
    assert len({pid for pid, _ in seen}) == 1  # one process for the whole run
    assert all(thread is threading.current_thread() for _, thread in seen)  # no thread hop


def test_arun_and_resume_take_the_same_path() -> None:
    pids: list[Any] = []
    ask = ptclisp.Tool("ask", lambda q: f"ask-{q}", signature="(q :int) -> :any", is_async=True)
    waiter = SubAgent(name="waiter", prompt="wait", tools=[ask], max_turns=2)
    llm = ScriptedLLM([clj("(return (await (tool/ask {:q 1})))")])
    pending = asyncio.run(waiter.arun(llm=llm, before_turn=lambda n, m: pids.append(rt.self_pid())))
    assert isinstance(pending, PendingStep) and isinstance(pids[0], rt.Pid)
    step = waiter.resume(pending, "ask-1", 7, llm=llm,
                         after_turn=lambda turn: pids.append(rt.self_pid()))
    assert step.return_value == 7 and isinstance(pids[1], rt.Pid)


def test_a_crash_restarts_the_run_from_its_last_turn() -> None:
    agent, charged = biller()
    llm = FlakyLLM(REPLIES, crash_on={2, 4})  # turn 2's LLM call crashes, then turn 3's
    saved: list[Any] = []
    step = agent.run(llm=llm, checkpoint=saved.append)
    assert isinstance(step, Step) and step.return_value == 42, step.error
    assert charged == [30, 12]  # no finished turn was redone
    assert [t.status for t in step.turns] == ["continue", "continue", "returned"]
    assert llm.attempts == 5 and len(saved) == 3  # the user's checkpoints: one per turn


def test_past_the_restart_intensity_the_run_raises_agent_crashed() -> None:
    agent, charged = biller()
    llm = FlakyLLM(REPLIES, crash_on={2, 3, 4, 5, 6})
    with pytest.raises(rt.AgentCrashed) as info:
        agent.run(llm=llm)
    assert info.value.code == "agent_crashed" and "crashed 4 times" in info.value.message
    assert isinstance(info.value.__cause__, RuntimeError) and info.value.hint
    assert charged == [30] and llm.attempts == 5
    strict = rt.Supervision(max_restarts=0)
    with pytest.raises(rt.AgentCrashed):
        biller()[0].run(llm=FlakyLLM(REPLIES, crash_on={1}), supervision=strict)


def test_a_durable_store_lets_a_later_run_continue_a_crashed_one() -> None:
    agent, charged = biller()
    store: dict[str, Any] = {}
    give_up = rt.Supervision(checkpoints=store, key="bill-7", max_restarts=0)
    with pytest.raises(rt.AgentCrashed):
        agent.run(llm=FlakyLLM(REPLIES, crash_on={2}), supervision=give_up)
    assert len(store["bill-7"]["state"]["subagent"]["turns"]) == 1
    again = rt.Supervision(checkpoints=store, key="bill-7")
    step = agent.run(llm=ScriptedLLM(REPLIES[1:]), supervision=again)  # e.g. after a restart
    assert step.return_value == 42 and charged == [30, 12]


def test_usage_errors_and_interrupts_are_not_restarted() -> None:
    agent, _ = biller()
    calls: list[int] = []

    def refuse(number: int, messages: Any) -> None:
        calls.append(number)
        raise SubAgentError("the host said no", code="agent_error")

    with pytest.raises(SubAgentError):
        agent.run(llm=ScriptedLLM(REPLIES), before_turn=refuse)
    assert calls == [1]

    class Stop(KeyboardInterrupt):
        pass

    def interrupt(number: int, messages: Any) -> None:
        calls.append(number)
        raise Stop

    with pytest.raises(Stop):
        agent.run(llm=ScriptedLLM(REPLIES), before_turn=interrupt)
    assert calls == [1, 1]
    ask = ptclisp.Tool("ask", lambda q: f"ask-{q}", signature="(q :int) -> :any", is_async=True)
    waiter = SubAgent(name="waiter", prompt="wait", tools=[ask], max_turns=2)
    llm = FlakyLLM([clj("(return (await (tool/ask {:q 1})))")], crash_on=set())
    pending = waiter.run(llm=llm)
    with pytest.raises(SubAgentError) as info:
        waiter.resume(pending, "ask-9", 1, llm=llm)
    assert info.value.code == "pending_unknown_op" and llm.attempts == 1
    assert agent.run(llm=ScriptedLLM(REPLIES)).return_value == 42  # the thread is clean


def test_restart_does_not_change_the_checkpoint_it_continues_from() -> None:
    agent, _ = biller()
    saved: list[Any] = []
    agent.run(llm=ScriptedLLM(REPLIES[:1]), checkpoint=saved.append)
    text = json.dumps(saved[0])
    first = agent.restart(saved[0], llm=ScriptedLLM(REPLIES[1:]))
    assert json.dumps(saved[0]) == text  # the restarted run went on in a copy
    second = agent.restart(saved[0], llm=ScriptedLLM(REPLIES[1:]))
    assert first.return_value == second.return_value == 42


def test_a_run_inside_a_hook_of_another_run_nests() -> None:
    outer, _ = biller()
    inner = SubAgent(name="inner", prompt="x", max_turns=1)
    found: list[Any] = []

    def nested(number: int, messages: Any) -> None:
        step = inner.run(llm=ScriptedLLM([clj("(return (+ 1 2))")]))
        found.append((step.return_value, rt.self_pid()))

    step = outer.run(llm=ScriptedLLM(REPLIES), before_turn=nested)
    assert step.return_value == 42 and [v for v, _ in found] == [3, 3, 3]
    assert len({pid for _, pid in found}) == 1  # the outer process, intact after each nest


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crash_on=st.sets(st.integers(min_value=1, max_value=7), max_size=3))
def test_crashes_anywhere_end_like_a_run_without_them(crash_on: set[int]) -> None:
    """Property: whatever LLM calls crash (within the restart intensity), the run returns what
    an uncrashed run returns, every tool ran once, and the turns are the same."""
    plain_agent, plain_charged = biller()
    plain = plain_agent.run(llm=ScriptedLLM(REPLIES))
    agent, charged = biller()
    llm = FlakyLLM(REPLIES, crash_on=crash_on)
    step = agent.run(llm=llm)
    assert step.return_value == plain.return_value == 42
    assert charged == plain_charged == [30, 12]
    assert [(t.status, t.program) for t in step.turns] == \
        [(t.status, t.program) for t in plain.turns]
    attempts = successes = 0
    while successes < 3:  # each crash costs one attempt; the run needs 3 replies
        attempts += 1
        successes += attempts not in crash_on
    assert llm.attempts == attempts


def test_a_resume_that_crashes_before_its_turn_ends_is_redone_from_the_pending_step() -> None:
    ask = ptclisp.Tool("ask", lambda q: f"ask-{q}", signature="(q :int) -> :any", is_async=True)
    waiter = SubAgent(name="waiter", prompt="wait", tools=[ask], max_turns=3)
    replies = [clj("(def a (await (tool/ask {:q 1})))\na"), clj("(return (* 2 a))")]
    pending = waiter.run(llm=ScriptedLLM(replies[:1]))
    before = ptclisp.serialize(pending)
    llm = FlakyLLM(replies[1:], crash_on={1})  # the first LLM call after the delivery crashes
    step = waiter.resume(pending, "ask-1", 21, llm=llm)
    assert step.return_value == 42 and llm.attempts == 2
    assert [t.status for t in step.turns] == ["continue", "returned"]
    assert ptclisp.serialize(pending) == before  # resuming changed nothing in the step
    tracing = FlakyTracing()
    again = waiter.resume(ptclisp.deserialize(before), "ask-1", 21, llm=ScriptedLLM(replies[1:]),
                          tracer_provider=tracing)  # crashes before any checkpoint: redone
    assert tracing.failed and again.return_value == 42 and len(again.turns) == 2
    with pytest.raises(ptclisp.PtclispError) as info:
        waiter.resume(pending, "ask-1", 21, llm=ScriptedLLM(replies[1:]))
    assert info.value.code == "pending_finished"  # a step is still resumed once per call


class FlakyTracing(trace.NoOpTracerProvider):
    """Telemetry with a bug: recording the first program's step count raises — after the op
    was delivered to the program, before the turn's checkpoint."""

    def __init__(self) -> None:
        self.failed = False

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        provider = self

        class Span(trace.NonRecordingSpan):
            def set_attributes(self, attributes: Any) -> None:
                if "ptclisp.steps" in attributes and not provider.failed:
                    provider.failed = True
                    raise RuntimeError("exporter bug")

        class Tracer(trace.NoOpTracer):
            def start_span(self, *a: Any, **k: Any) -> trace.Span:
                return Span(trace.INVALID_SPAN_CONTEXT)

        return Tracer()


@pytest.mark.parametrize(("field", "bad"), [
    ("checkpoints", 5), ("checkpoints", "store"), ("key", ""), ("key", 3),
    ("max_restarts", -1), ("max_restarts", 1.5), ("max_restarts", True), ("period", 0),
    ("period", "60"), ("runtime", "rt"), ("timeout", -1), ("timeout", float("nan")),
])
def test_bad_supervision_settings_are_refused_naming_the_argument(field: str, bad: Any) -> None:
    with pytest.raises(ptclisp.HostInputError) as info:
        rt.Supervision(**{field: bad})
    assert field in info.value.message and info.value.hint


def test_bad_supervision_arguments_are_refused() -> None:
    agent, charged = biller()
    with pytest.raises(ptclisp.PtclispError):
        agent.run(llm=ScriptedLLM(REPLIES), supervision="strict")  # type: ignore[arg-type]
    with pytest.raises(ptclisp.HostInputError):
        rt.supervised_call(42)  # type: ignore[arg-type]
    with pytest.raises(ptclisp.HostInputError):
        rt.supervised_run(agent, llm=ScriptedLLM(REPLIES), max_restarts=-2)
    assert charged == []
    with pytest.raises(ptclisp.HostInputError) as info:
        rt.supervised_call(lambda saved, save: 1, period=-3)
    assert "period" in info.value.message


def test_on_a_runtime_the_run_keeps_the_callers_context_and_a_timeout_kills_it() -> None:
    import contextvars
    import time

    tenant: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="none")
    tenant.set("acme")
    seen: list[Any] = []
    agent, _ = biller()
    with rt.Runtime() as runtime:
        on_loop = rt.Supervision(runtime=runtime)
        step = agent.run(llm=ScriptedLLM(REPLIES), supervision=on_loop,
                         before_turn=lambda n, m: seen.append(
                             (tenant.get(), threading.current_thread().name)))
        assert step.return_value == 42 and {t for t, _ in seen} == {"acme"}
        assert threading.current_thread().name not in {name for _, name in seen}  # a worker
        slow = rt.Supervision(runtime=runtime, timeout=0.2)
        began = time.monotonic()
        with pytest.raises(TimeoutError):
            biller()[0].run(llm=ScriptedLLM(REPLIES), supervision=slow,
                            before_turn=lambda n, m: time.sleep(0.5))
        assert time.monotonic() - began < 5


REPLY_KINDS = {
    "charge": clj("(def c (tool/charge {:amount 5}))\nc"),
    "define": clj("(defn twice [x] (* 2 x))\n(twice 4)"),
    "error": clj("(undefined-thing 1)"),
    "prose": "I will think about it.",
    "fail": clj('(fail "cannot")'),
    "return": clj("(return 42)"),
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kinds=st.lists(st.sampled_from(sorted(REPLY_KINDS)), min_size=1, max_size=5))
def test_the_runtime_path_ends_exactly_like_the_loop_called_directly(kinds: list[str]) -> None:
    """Property (fast vs plain path): ``SubAgent.run`` — a supervised process — gives the
    ``Step`` the agent loop gives when called directly, outside the runtime."""
    from ptclisp.subagent._gate import Hooks
    from ptclisp.subagent._telemetry import Telemetry

    replies = [REPLY_KINDS[k] for k in kinds]
    direct_agent, direct_charged = biller()
    direct = direct_agent._run_nested({}, llm=ScriptedLLM(replies), hooks=Hooks(),
                                      telemetry=Telemetry(None), depth=0)
    agent, charged = biller()
    step = agent.run(llm=ScriptedLLM(replies))
    assert isinstance(step, Step) and isinstance(direct, Step)
    assert (step.status, step.return_value, step.fail_value) == \
        (direct.status, direct.return_value, direct.fail_value)
    assert (step.error.code if step.error else None) == \
        (direct.error.code if direct.error else None)
    assert [(t.status, t.program, t.result) for t in step.turns] == \
        [(t.status, t.program, t.result) for t in direct.turns]
    assert step.messages == direct.messages and charged == direct_charged
