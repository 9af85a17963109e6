"""SubAgent runs, their tools and ptclisp's pmap on the actor runtime (scripted LLM replies)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from support import FlakyLLM

from ptclisp import Limits, PtclispError, Tool
from ptclisp import runtime as rt
from ptclisp._limits import Meter
from ptclisp._run import execute, load
from ptclisp._tools.host import ToolHost
from ptclisp._values.types import to_python
from ptclisp.subagent import ScriptedLLM, Step, SubAgent, SubAgentError


def clj(program: str) -> str:
    return f"Here is the program.\n```clojure\n{program}\n```"


class InFlight:
    """A sleeping tool that records the peak number of calls running at once."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.now = 0
        self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, value: Any) -> Any:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(self.delay)
            return value
        finally:
            with self.lock:
                self.now -= 1


@pytest.fixture
def runtime():
    with rt.Runtime(max_threads=8) as runtime:
        yield runtime


def echo_agent(name: str, slow: InFlight | None = None) -> SubAgent:
    def lookup(word: str) -> str:
        """The word, upper-cased (slowly)."""
        return (slow or (lambda v: v))(word.upper())

    return SubAgent(name=name, prompt="Look up {{word}}.", tools=[Tool("lookup", lookup)],
                    signature="(word :string) -> {word :string}", max_turns=3)


def echo_script() -> ScriptedLLM:
    return ScriptedLLM([clj("(return {:word (tool/lookup {:word data/word})})")])


# ------------------------------------------------------------------ tools as supervised processes


def test_a_crashing_tool_gives_a_tool_error_turn_then_the_run_recovers(runtime) -> None:
    calls: list[int] = []

    def flaky(n: int) -> int:
        """Doubles n; crashes the first time."""
        calls.append(n)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        return n * 2

    agent = SubAgent(name="doubler", prompt="Double 21.", tools=[Tool("flaky", flaky)],
                     signature="-> {n :int}", max_turns=3)
    supervised = rt.supervise_tools(agent, runtime=runtime, timeout=10)
    worker = rt.supervised_tools(supervised)["flaky"]
    before = runtime.call(worker.supervisor, "which_children")
    llm = ScriptedLLM([clj("(tool/flaky {:n 21})"), clj("(return {:n (tool/flaky {:n 21})})")])

    step = runtime.run(rt.agent_process, supervised, llm, timeout=30)

    assert isinstance(step, Step)
    assert step.status == "ok", step.error
    assert step.return_value == {"n": 42}
    first, second = step.turns
    assert first.status == "error"
    assert "crashed" in first.error["message"] and "disk on fire" in first.error["message"]
    assert "crashed" in llm.calls[1][-1]["content"]  # the LLM was told, and tried again
    assert second.status == "returned"
    after = runtime.call(worker.supervisor, "which_children")
    assert before[0][1] != after[0][1] and after[0][1].alive  # the worker was restarted
    assert calls == [21, 21]
    assert agent.tool_map()["flaky"].fn is flaky  # the original agent is untouched


def test_a_hanging_tool_gives_a_timeout_error_not_a_hang(runtime) -> None:
    def stuck(n: int) -> int:
        """Never answers in time."""
        time.sleep(1.0)
        return n

    agent = SubAgent(name="stuck", prompt="Try.", tools=[Tool("stuck", stuck)], max_turns=2)
    supervised = rt.supervise_tools(agent, runtime=runtime, timeout=0.2)
    llm = ScriptedLLM([clj("(tool/stuck {:n 1})"), clj("(return :gave-up)")])

    step = runtime.run(rt.agent_process, supervised, llm, timeout=30)

    assert step.status == "ok" and step.return_value == "gave-up"
    assert step.turns[0].status == "error"
    assert "did not answer within 0.2 s" in step.turns[0].error["message"]


def test_supervised_tools_keep_names_signatures_and_argument_checks(runtime) -> None:
    agent = echo_agent("echo")
    supervised = rt.supervise_tools(agent, runtime=runtime)
    original, proxy = agent.tool_map()["lookup"], supervised.tool_map()["lookup"]
    assert proxy.signature_text == original.signature_text
    assert proxy.description == original.description
    llm = ScriptedLLM([clj("(tool/lookup {:word 7})"),
                       clj("(return {:word (tool/lookup {:word data/word})})")])
    step = runtime.run(rt.agent_process, supervised, llm, {"word": "hi"}, timeout=30)
    assert step.turns[0].error["code"] == "invalid_args"
    assert step.return_value == {"word": "HI"}


def test_a_subagent_tool_runs_in_a_supervised_process_and_recovers_from_a_crash(runtime) -> None:
    child = echo_agent("speller")
    reply = clj("(return {:word (tool/lookup {:word data/word})})")
    child_llm = FlakyLLM([reply, reply], crash_on={1})
    speller = rt.agent_tool(child, child_llm, runtime=runtime, timeout=20,
                            description="spells a word in capitals")
    assert speller.signature_text == "(word :string) -> {word :string}"
    parent = SubAgent(name="parent", prompt="Spell ok.", tools=[speller],
                      signature="-> {word :string}", max_turns=3)
    llm = ScriptedLLM([clj('(tool/speller {:word "ok"})'),
                       clj('(return (tool/speller {:word "ok"}))')])

    step = runtime.run(rt.agent_process, parent, llm, timeout=30)

    # The child's own run is a supervised process: the crash restarted it, the tool answered.
    assert step.status == "ok" and step.return_value == {"word": "OK"}
    assert step.turns[0].status == "continue" and child_llm.attempts == 3


def test_a_subagent_tool_whose_run_keeps_crashing_gives_the_program_a_clear_error(runtime
                                                                                  ) -> None:
    child = echo_agent("speller")
    child_llm = FlakyLLM([clj("(return {:word (tool/lookup {:word data/word})})")],
                         crash_on={1, 2, 3, 4})
    speller = rt.agent_tool(child, child_llm, runtime=runtime, timeout=20)
    parent = SubAgent(name="parent", prompt="Spell ok.", tools=[speller],
                      signature="-> {word :string}", max_turns=3)
    llm = ScriptedLLM([clj('(tool/speller {:word "ok"})'),
                       clj('(return (tool/speller {:word "ok"}))')])

    step = runtime.run(rt.agent_process, parent, llm, timeout=30)

    assert step.status == "ok" and step.return_value == {"word": "OK"}
    error = step.turns[0].error  # 4 crashes: past 3 restarts, the child's run gave up
    assert error["code"] == "tool_error" and "crashed 4 times" in error["message"]
    assert "client bug on attempt 4" in error["message"] and "max_restarts" in error["hint"]


def test_a_failing_subagent_tool_is_a_tool_error(runtime) -> None:
    child = SubAgent(name="refuser", prompt="Refuse.", signature="-> :int", max_turns=1)
    refuser = rt.agent_tool(child, ScriptedLLM([clj('(fail "no")')]), runtime=runtime)
    parent = SubAgent(name="parent", prompt="Ask.", tools=[refuser], max_turns=1)
    step = runtime.run(rt.agent_process, parent,
                       ScriptedLLM([clj("(tool/refuser {})")]), timeout=30)
    assert step.turns[0].error["code"] == "tool_error"
    assert "subagent refuser failed: 'no'" in step.turns[0].error["message"]


def test_supervise_tools_leaves_in_program_subagents_working(runtime) -> None:
    child = echo_agent("speller")
    parent = SubAgent(name="parent", prompt="Spell.", tools=[child], signature="-> {word :string}",
                      max_turns=2)
    supervised = rt.supervise_tools(parent, runtime=runtime)
    assert rt.supervised_tools(supervised) == {}
    llm = ScriptedLLM([clj('(return (tool/speller {:word "hi"}))'),
                       clj("(return {:word (tool/lookup {:word data/word})})")])
    step = runtime.run(rt.agent_process, supervised, llm, timeout=30)
    assert step.status == "ok" and step.return_value == {"word": "HI"}


# ------------------------------------------------------------------ agents as processes


def test_run_agents_runs_agents_concurrently_with_a_bound_and_keeps_input_order(runtime) -> None:
    slow = InFlight(delay=0.5)
    words = ["alpha", "beta", "gamma", "delta", "epsilon"]
    runs = [(echo_agent(f"a{i}", slow), echo_script(), {"word": w}) for i, w in enumerate(words)]

    steps = rt.run_agents(runtime, runs, max_concurrency=2, timeout=30)

    assert [s.return_value for s in steps] == [{"word": w.upper()} for w in words]
    assert slow.peak == 2  # runs overlapped, never more than the bound


def test_run_agents_raises_process_down_when_a_run_crashes(runtime) -> None:
    good = (echo_agent("good"), echo_script(), {"word": "x"})
    no_llm = (echo_agent("broken"), None, {"word": "x"})
    with pytest.raises(rt.ProcessDown, match=r"agent run 1 \(broken\) crashed") as info:
        rt.run_agents(runtime, [good, no_llm], timeout=30)
    assert isinstance(info.value.__cause__, SubAgentError)
    assert info.value.__cause__.code == "no_llm"


def test_run_agents_deadline_stops_waiting(runtime) -> None:
    runs = [(echo_agent("slow", InFlight(delay=1.0)), echo_script(), {"word": "x"})]
    started = time.monotonic()
    with pytest.raises(rt.DeadlineExceeded, match="1 of 1 agent runs unfinished"):
        rt.run_agents(runtime, runs, timeout=0.2)
    assert time.monotonic() - started < 0.9  # did not wait for the 1 s tool


def test_run_agents_rejects_bad_input(runtime) -> None:
    with pytest.raises(ValueError):
        rt.run_agents(runtime, [], max_concurrency=0)
    with pytest.raises(ValueError):
        rt.run_agents(runtime, [(echo_agent("a"),)])
    assert rt.run_agents(runtime, []) == []


def test_agent_process_replies_to_a_requester(runtime) -> None:
    agent, llm = echo_agent("echo"), echo_script()

    async def requester():
        rt.spawn(rt.agent_process, agent, llm, {"word": "yo"}, rt.self_pid(), "job-1")
        return await rt.receive(("agent_result", "job-1", rt.ANY), timeout=20)

    _, tag, step = runtime.run(requester, timeout=30)
    assert tag == "job-1" and step.return_value == {"word": "YO"}


def test_agent_server_under_a_supervisor_serves_runs_and_survives_usage_errors(runtime) -> None:
    agent = echo_agent("echo")
    llm = ScriptedLLM([clj("(return {:word (tool/lookup {:word data/word})})")] * 2)
    tree = rt.Supervisor([rt.ChildSpec("echo", rt.agent_server, args=(agent, llm),
                                       name="echo-agent")])
    runtime.spawn(tree.run)
    _wait_for_name(runtime, "echo-agent")
    server = runtime.whereis("echo-agent")

    assert runtime.call("echo-agent", {"word": "one"}, timeout=20).return_value == {"word": "ONE"}
    with pytest.raises(SubAgentError) as info:
        runtime.call("echo-agent", {"wrong": 1}, timeout=20)
    assert info.value.code == "invalid_args"
    assert runtime.call("echo-agent", {"word": "two"}, timeout=20).return_value == {"word": "TWO"}
    assert runtime.whereis("echo-agent") == server  # usage errors do not crash the server


def test_a_crashed_agent_server_is_restarted_and_the_caller_gets_process_down(runtime) -> None:
    class BrokenLLM:
        """An LLM client with a bug: it raises something that is not an LLMError."""

        name = model = "broken"

        def complete(self, messages: Any, *, on_token: Any = None) -> Any:
            raise RuntimeError("socket gone")

    broken = SubAgent(name="x", prompt="hi")
    tree = rt.Supervisor([rt.ChildSpec("x", rt.agent_server, args=(broken, BrokenLLM()), name="x")])
    runtime.spawn(tree.run)
    _wait_for_name(runtime, "x")
    first = runtime.whereis("x")
    with pytest.raises(rt.ProcessDown) as info:
        runtime.call("x", {}, timeout=10)
    assert "socket gone" in str(info.value.reason)
    _wait_for_name(runtime, "x", not_pid=first)


def _wait_for_name(runtime: rt.Runtime, name: str, not_pid: Any = None) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pid = runtime.whereis(name)
        if pid is not None and pid != not_pid:
            return
        time.sleep(0.005)
    raise AssertionError(f"{name} never (re)started")


# ------------------------------------------------------------------ pmap through the runtime


def run_program(source: str, tools: dict[str, Any], max_parallel: int) -> Any:
    completion = execute(load(source), host=ToolHost(tools), data={},
                         meter=Meter(Limits(timeout_s=30, max_parallel=max_parallel)),
                         parallel_map=rt.parallel_map)
    return to_python(completion.value)


def test_pmap_runs_tool_calls_concurrently_with_the_bound() -> None:
    slow = InFlight(delay=0.2)
    started = time.monotonic()
    value = run_program("(pmap #(tool/slow {:i %}) (range 8))", {"slow": slow}, max_parallel=4)
    elapsed = time.monotonic() - started
    assert value == [{"i": i} for i in range(8)]  # input order
    assert slow.peak == 4
    assert 0.2 < elapsed < 6 * 0.2  # about 2 rounds of 0.2 s; sequential would be 8


def test_pcalls_runs_tool_calls_concurrently() -> None:
    slow = InFlight(delay=0.1)
    source = "(pcalls #(tool/slow {:i 1}) #(tool/slow {:i 2}) #(tool/slow {:i 3}))"
    assert run_program(source, {"slow": slow}, max_parallel=3) == [{"i": 1}, {"i": 2}, {"i": 3}]
    assert slow.peak == 3


def test_pmap_over_a_supervised_tool_ends_in_a_tool_error_then_works_again(runtime) -> None:
    crash = {"armed": True}

    def fragile(args: dict[str, Any]) -> int:
        if args["i"] == 2 and crash.pop("armed", False):
            raise RuntimeError("bad item")
        return args["i"]

    tool = rt.supervised_tool(fragile, runtime=runtime, workers=2, timeout=10)
    source = "(pmap #(tool/fragile {:i %}) (range 4))"
    with pytest.raises(PtclispError) as info:
        run_program(source, {"fragile": tool}, max_parallel=4)
    assert info.value.code == "tool_crashed" and "bad item" in info.value.message
    assert run_program(source, {"fragile": tool}, max_parallel=4) == [0, 1, 2, 3]


# ------------------------------------------------------------------ the example


def test_runtime_agents_example_runs() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "runtime_agents.py"
    result = subprocess.run([sys.executable, str(example)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "weather: ok {'city': 'cairo', 'celsius': 24.5}" in result.stdout
    assert "turn 1: error [tool_crashed]" in result.stdout
    assert "stocks: ok {'ticker': 'ACME', 'change': 12.5}" in result.stdout
