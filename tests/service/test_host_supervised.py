"""An ``AgentHost`` drives each step of a run as a supervised process: a host-side bug (an
exception, not a program error) restarts the step from the store — effects already recorded are
answered from it, not repeated — and past the restart intensity the run ends ``agent_crashed``."""

from __future__ import annotations

from typing import Any

from ptclisp.subagent import LLMResponse

from .hosted_agents import Tools, make_host


class BuggyLLM:
    """Wraps the agent's scripted LLM; the calls numbered in ``crash_on`` raise a bug."""

    name = "buggy"

    def __init__(self, inner: Any, crash_on: set[int]) -> None:
        self.inner, self.crash_on, self.calls = inner, crash_on, 0

    def complete(self, messages: Any, *, on_token: Any = None) -> LLMResponse:
        self.calls += 1
        if self.calls in self.crash_on:
            raise RuntimeError(f"client bug on call {self.calls}")
        return self.inner.complete(messages)  # type: ignore[no-any-return]


def test_a_crashed_step_restarts_from_the_store_and_repeats_nothing(store_url: str) -> None:
    tools = Tools()
    host = make_host(store_url, tools)
    agent = host.agents["approval"]
    agent.llm = buggy = BuggyLLM(agent.llm, crash_on={1})
    run_id = host.submit("approval", {}, wait=True)
    assert host.status(run_id)["status"] == "pending"  # restarted in-process, not failed
    assert buggy.calls == 2
    [op] = [o for o in host.inbox() if o.run_id == run_id]
    host.deliver(op.op_id, {"approved": True, "by": "Ada"}, wait=True)
    assert host.wait(run_id, 10)["status"] == "ok"
    assert tools.calls == {"get-request": 1, "request-approval": 1, "send-email": 1}
    llm_effects = [e for e in host.store.effects(run_id, 0).values() if e[0] == "llm"]
    assert len(llm_effects) == 1  # the crashed call left no record, the retry one
    host.close()


def test_a_step_crashing_past_the_restart_intensity_ends_the_run(store_url: str) -> None:
    tools = Tools()
    host = make_host(store_url, tools)
    agent = host.agents["approval"]
    agent.llm = buggy = BuggyLLM(agent.llm, crash_on={1, 2, 3, 4})
    run_id = host.submit("approval", {}, wait=True)
    body = host.wait(run_id, 10)
    assert body["status"] == "error" and buggy.calls == 4
    error = body["error"]
    assert error["code"] == "agent_crashed" and "client bug" in error["message"]
    assert tools.calls == {}  # no tool ran: every attempt crashed at the LLM call
    host.close()
