"""MCP Tasks against a real SDK server with ptclisp.mcp.TasksExtension (sdk_task_server.py), over
stdio and streamable HTTP: programs await tasks, failures are tool errors, input_required shows in
an AgentHost's inbox, cancelling in the host cancels the task, and broken servers are refused."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import HERE, free_port, start, stop

import ptclisp
from ptclisp import HostInputError, PendingStep
from ptclisp.mcp import MCPTools, TaskWatcher, stdio

TASK_SERVER = HERE / "sdk_task_server.py"
ASYNC = ["slow", "approve", "doomed", "forever", "hostile"]


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    proc, port = start([str(TASK_SERVER)])
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop(proc)


@pytest.fixture(scope="module", params=["stdio", "http"])
def mcp(request: pytest.FixtureRequest, http_url: str) -> Iterator[MCPTools]:
    server = stdio(sys.executable, [str(TASK_SERVER)]) if request.param == "stdio" else http_url
    with MCPTools(server, async_tools=ASYNC, timeout_s=20) as connection:
        yield connection


def finish(mcp: MCPTools, step: Any, timeout_s: float = 20) -> Any:
    return TaskWatcher(mcp).resume(step, tools=mcp.registry(), timeout_s=timeout_s)


def cancelled_on_server(mcp: MCPTools) -> list[str]:
    return list(mcp.call("cancelled_tasks", {}, unwrap=True))


def test_a_program_awaits_a_task_and_completion_resumes_it(mcp: MCPTools) -> None:
    by_name = {t.name: t for t in mcp.tools}
    assert by_name["slow"].is_async and not by_name["cancelled_tasks"].is_async
    step = ptclisp.start('(let [h (tool/slow {:seconds 0.2 :value 20})] (+ 2 (await h)))',
                         tools=mcp.registry())
    assert isinstance(step, PendingStep)
    (op_id,) = step.awaiting
    assert op_id.startswith(f"mcptask-{mcp.label}-")
    info = TaskWatcher(mcp).status(op_id)
    assert info["tool"] == "slow" and op_id.endswith(info["task_id"])
    assert "sdk_task_server.py" in info["server"] or info["server"].startswith("http://127.0.0.1")
    assert info["status"] == "working"
    blob = ptclisp.serialize(step)  # a suspended run crosses a process boundary as bytes
    result = finish(mcp, ptclisp.deserialize(blob))
    assert result.status == "ok" and result.value == 42


def test_await_all_and_await_any_of_tasks(mcp: MCPTools) -> None:
    both = ptclisp.start('(await-all [(tool/slow {:seconds 0.3 :value 1}) '
                         '(tool/slow {:seconds 0.05 :value 2})])', tools=mcp.registry())
    assert ptclisp.pr_str(finish(mcp, both).value) == "[2 4]"
    first = ptclisp.start('(await-any [(tool/slow {:seconds 3 :value 1}) '
                          '(tool/slow {:seconds 0.05 :value 2})])', tools=mcp.registry())
    started = time.monotonic()
    assert finish(mcp, first).value == 4
    assert time.monotonic() - started < 2.5  # the quick task did not wait for the slow one


def test_failed_and_erroring_tasks_are_tool_errors(mcp: MCPTools) -> None:
    failed = finish(mcp, ptclisp.start('(await (tool/doomed {:reason "disk full"}))',
                                       tools=mcp.registry()))
    assert failed.error is not None and failed.error.code == "tool_error"
    assert "doomed: disk full" in failed.error.message
    erroring = finish(mcp, ptclisp.start('(await (tool/hostile {:mode "tool_error"}))',
                                         tools=mcp.registry()))
    assert erroring.error is not None and "no such city" in erroring.error.message


def test_a_synchronous_tool_whose_server_makes_a_task_is_polled_to_its_end(http_url: str
                                                                           ) -> None:
    with MCPTools(http_url, timeout_s=1.5, async_tools=[]) as plain:  # all synchronous
        assert not any(t.is_async for t in plain.tools)
        assert ptclisp.run("(tool/slow {:seconds 0.1 :value 4})",
                           tools=plain.registry()).value == 8
        doomed = ptclisp.run('(tool/doomed {:reason "x"})', tools=plain.registry())
        assert doomed.error is not None
        assert doomed.error.message == "MCP task of tool 'doomed' failed: doomed: x"
        stuck = ptclisp.run('(tool/forever {})', tools=plain.registry())
        assert stuck.error is not None and "within 1.5s" in stuck.error.message
        deadline = time.monotonic() + 10
        while len(cancelled_on_server(plain)) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # the timed-out task was cancelled on the server (tasks/cancel)
        assert cancelled_on_server(plain)


def test_a_client_without_the_extension_gets_ordinary_results(http_url: str) -> None:
    from mcp import Client

    async def call() -> Any:
        async with Client(http_url) as client:
            return await client.call_tool("slow", {"seconds": 0.01, "value": 3})

    assert asyncio.run(call()).structured_content == {"result": 6}


def test_never_ending_task_against_a_deadline_is_cancelled(mcp: MCPTools) -> None:
    before = len(cancelled_on_server(mcp))
    step = ptclisp.start('(await (tool/forever {}))', tools=mcp.registry())
    started = time.monotonic()
    result = finish(mcp, step, timeout_s=0.5)
    assert time.monotonic() - started < 5
    assert result.error is not None and "did not end in time" in result.error.message
    deadline = time.monotonic() + 10
    while len(cancelled_on_server(mcp)) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(cancelled_on_server(mcp)) == before + 1


def test_a_new_connection_reattaches_to_a_task_by_its_op_id(http_url: str) -> None:
    with MCPTools(http_url, async_tools=ASYNC) as first:
        step = ptclisp.start("(* 10 (await (tool/slow {:seconds 0.3 :value 1})))",
                             tools=first.registry())
        blob, label = ptclisp.serialize(step), first.label
    with MCPTools(http_url, async_tools=ASYNC) as second:  # e.g. after a restart
        assert second.label == label
        assert finish(second, ptclisp.deserialize(blob)).value == 20


def test_the_watcher_leaves_other_ops_alone_and_checks_its_input(mcp: MCPTools) -> None:
    local = ptclisp.Tool("ask", lambda question: None, is_async=True,
                         signature="(question :string) -> :string")
    tools = ptclisp.ToolRegistry([*mcp.tools, local])
    step = ptclisp.start('[(await (tool/slow {:seconds 0.01 :value 1})) '
                         '(await (tool/ask {:question "?"}))]', tools=tools)
    left = TaskWatcher(mcp).resume(step, tools=tools, timeout_s=10)
    assert isinstance(left, PendingStep) and left.awaiting[0].startswith("ask-")
    done = ptclisp.resume(left, left.awaiting[0], "yes", tools=tools)
    assert ptclisp.pr_str(done.value) == '[2 "yes"]'
    with pytest.raises(HostInputError):
        TaskWatcher()
    with pytest.raises(HostInputError, match="op_id"):
        TaskWatcher(mcp).status("ask-123")
    with pytest.raises(HostInputError):
        MCPTools("http://127.0.0.1:1/mcp", async_tools="slow")
    for bad in ({"max_poll_s": 0}, {"max_result_bytes": "big"}, {"max_poll_failures": -1},
                {"timeout_s": True}, {"mode": 5}):
        with pytest.raises(HostInputError, match=next(iter(bad))):
            MCPTools("http://127.0.0.1:1/mcp", **bad)
    op_id = step.awaiting[0] if isinstance(step, PendingStep) else f"mcptask-{mcp.label}-x"
    for junk in ("yes", {"k": "v"}, {1: {}}):
        with pytest.raises(HostInputError, match="responses"):
            TaskWatcher(mcp).answer(op_id, junk)  # type: ignore[arg-type]


def test_malformed_task_requests_are_refused_by_the_server(mcp: MCPTools) -> None:
    from mcp.shared.exceptions import MCPError
    from mcp_types import Request, Result

    class Raw(Request[dict[str, Any], str]):
        method: str
        params: dict[str, Any]

    for method, params in (("tasks/get", {}), ("tasks/get", {"taskId": 7}),
                           ("tasks/update", {"taskId": "x", "inputResponses": 5}),
                           ("tasks/cancel", {"taskId": ["x"]}), ("tasks/result", {})):
        with pytest.raises(MCPError) as refused:
            mcp.run_coroutine(mcp.session.send_request(Raw(method=method, params=params),
                                                       Result))
        assert refused.value.code == -32602, (method, params)


def test_cancelling_a_task_that_waits_for_input(mcp: MCPTools) -> None:
    step = ptclisp.start('(await (tool/approve {:item "vase"}))', tools=mcp.registry())
    (op_id,) = step.awaiting
    watcher = TaskWatcher(mcp)
    wait_for(lambda: watcher.outcome(op_id, timeout=0) is None
             and watcher.status(op_id)["status"] == "input_required")
    watcher.cancel(op_id)
    result = watcher.resume(step, tools=mcp.registry(), timeout_s=10)
    assert result.error is not None and result.error.code == "op_cancelled"


HOSTILE = [
    ("bogus_id", "malformed task: taskId"),
    ("huge_id", "malformed task: taskId"),
    ("not_a_task", "malformed task: status 'exploded'"),
    ("malformed_result", "malformed result"),
    ("no_result", "completed without a result object"),
    ("huge", "more than max_result_bytes"),
    ("other_id", "tasks/get answered for task 'someone-else'"),
    ("bad_status", "malformed task: status 'sleeping'"),
]


@pytest.mark.parametrize(("mode", "message"), HOSTILE)
def test_broken_task_answers_are_tool_errors(mcp: MCPTools, mode: str, message: str) -> None:
    step = ptclisp.start(f'(await (tool/hostile {{:mode "{mode}"}}))', tools=mcp.registry())
    result = finish(mcp, step, timeout_s=10)
    assert result.status == "error" and result.error is not None
    assert result.error.code == "tool_error" and message in result.error.message


def test_the_latest_request_state_is_echoed(mcp: MCPTools) -> None:
    step = ptclisp.start('(await (tool/hostile {:mode "state"}))', tools=mcp.registry())
    assert finish(mcp, step, timeout_s=10).value == "polled 4"


def test_arguments_a_handler_cannot_use_give_a_tool_error(mcp: MCPTools) -> None:
    op_id = mcp.run_coroutine(mcp.tasks._start("slow", {"bogus": [1]}, False))  # unchecked
    outcome = TaskWatcher(mcp).outcome(op_id, timeout=10)
    assert outcome is not None and outcome["error"]["code"] == "tool_error"
    assert "'seconds'" in outcome["error"]["message"]


def test_a_reused_task_id_is_refused(mcp: MCPTools) -> None:
    program = '[(tool/hostile {:mode "dup_id"}) (tool/hostile {:mode "dup_id"})]'
    result = ptclisp.start(program, tools=mcp.registry())
    assert result.status == "error" and result.error is not None
    assert "already in use" in result.error.message


# ---------------------------------------------------------------- AgentHost


APPROVE = """```clojure
(let [a (await (tool/approve {:item "lamp"}))]
  (return {:approved (:approved a)}))
```"""
WAIT_FOREVER = """```clojure
(return {:approved (= :x (await (tool/forever {})))})
```"""
GIVE_UP = """```clojure
(return {:approved false})
```"""


def make_host(tmp_path: Path, mcp: MCPTools, script: str,
              deadlines: dict[str, float] | None = None) -> Any:
    from ptclisp.subagent import AgentHost, ScriptedLLM, SubAgent

    agent = SubAgent(name="buyer", prompt="Get the lamp approved.", tools=list(mcp.tools),
                     signature="-> {approved :bool}", max_turns=3,
                     llm=ScriptedLLM([script, GIVE_UP], per_conversation=True))
    return AgentHost([agent], store=f"sqlite:///{tmp_path / 'host.db'}",
                     deadlines=deadlines).start(sweep_s=0.1)


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app on a real uvicorn server on 127.0.0.1, in a thread."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_input_required_shows_in_the_host_inbox_and_the_answer_resumes_the_run(
        tmp_path: Path, http_url: str) -> None:
    from ptclisp.subagent import create_app

    with MCPTools(http_url, async_tools=ASYNC) as mcp:
        host = make_host(tmp_path, mcp, APPROVE)
        watcher = TaskWatcher(mcp).attach(host)
        try:
            run_id = host.submit("buyer", {}, wait=True)

            def asking() -> Any:
                ops = [o for o in host.inbox() if o.status == "input_required"]
                return ops[0] if ops else None

            op = wait_for(asking)
            assert op.run_id == run_id and op.tool == "approve"
            assert op.status_message == "waiting for a human to approve lamp"
            assert host.status(run_id)["pending_ops"][0]["status"] == "input_required"
            with serving(create_app(host, insecure=True, start_host=False)) as base:
                [shown] = httpx.get(f"{base}/inbox", timeout=10).json()["ops"]
            assert shown["status"] == "input_required"
            assert shown["status_message"] == "waiting for a human to approve lamp"
            requests = watcher.status(op.op_id)["input_requests"]
            assert requests["approval"]["method"] == "elicitation/create"
            watcher.answer(op.op_id, {"approval": {"action": "accept", "content": {"ok": True}}})
            final = wait_for(lambda: host.status(run_id)["status"] == "ok" and host.status(run_id))
            assert final["result"] == {"approved": True}
        finally:
            watcher.stop()
            host.close()


@pytest.mark.parametrize("how", ["cancel_op", "deadline", "cancel_run"])
def test_ending_the_op_in_the_host_cancels_the_task(tmp_path: Path, http_url: str,
                                                     how: str) -> None:
    with MCPTools(http_url, async_tools=ASYNC) as mcp:
        before = len(cancelled_on_server(mcp))
        host = make_host(tmp_path, mcp, WAIT_FOREVER,
                         deadlines={"forever": 0.5} if how == "deadline" else None)
        watcher = TaskWatcher(mcp).attach(host)
        try:
            run_id = host.submit("buyer", {}, wait=True)
            op = wait_for(lambda: host.inbox() and host.inbox()[0])
            if how != "deadline":
                wait_for(lambda: host.inbox()[0].status == "working")
            if how == "cancel_run":
                assert host.cancel_run(run_id) == "cancelled"
            else:
                if how == "cancel_op":
                    host.cancel_op(op.op_id)
                final = wait_for(lambda: host.status(run_id)["status"] == "ok"
                                 and host.status(run_id))
                assert final["result"] == {"approved": False}  # the next turn handled it
                code = "op_cancelled" if how == "cancel_op" else "timeout"
                assert host.store.get_op(op.op_id).outcome["error"]["code"] == code
            wait_for(lambda: len(cancelled_on_server(mcp)) == before + 1)
        finally:
            watcher.stop()
            host.close()


def test_a_task_result_the_op_type_refuses_is_delivered_as_a_tool_error(
        tmp_path: Path, http_url: str) -> None:
    from ptclisp.subagent import HostError

    script = """```clojure
(return {:approved (= 5 (await (tool/hostile {:mode "wrong_type"})))})
```"""
    with MCPTools(http_url, async_tools=ASYNC) as mcp:
        host = make_host(tmp_path, mcp, script)
        watcher = TaskWatcher(mcp).attach(host)
        try:
            run_id = host.submit("buyer", {}, wait=True)
            op = wait_for(lambda: host.inbox() and host.inbox()[0])
            final = wait_for(lambda: host.status(run_id)["status"] == "ok" and host.status(run_id))
            assert final["result"] == {"approved": False}
            error = host.store.get_op(op.op_id).outcome["error"]
            assert error["code"] == "tool_error" and "does not match" in error["message"]
            with pytest.raises(HostError):
                host.set_op_status(op.op_id, 5)  # type: ignore[arg-type]
            with pytest.raises(HostError):
                host.set_op_status(op.op_id, "working", b"bytes")  # type: ignore[arg-type]
        finally:
            watcher.stop()
            host.close()


def test_server_task_limits_in_process() -> None:
    from mcp.server.mcpserver import MCPServer

    from ptclisp.mcp import ServerTask, TasksExtension

    gate = threading.Event()

    def held(args: dict[str, Any], task: ServerTask) -> int:
        gate.wait(10)
        return int(args["n"])

    tasks = TasksExtension({"hold": held}, poll_ms=10, ttl_s=0, max_tasks=1)
    server = MCPServer("limits", extensions=[tasks])

    @server.tool()
    def hold(n: int) -> int:
        """Hold until released (a task)."""
        return n

    with MCPTools(server, async_tools=["hold"]) as mcp:
        first = ptclisp.start("(await (tool/hold {:n 1}))", tools=mcp.registry())
        assert isinstance(first, PendingStep)
        refused = ptclisp.start("(await (tool/hold {:n 2}))", tools=mcp.registry())
        assert refused.error is not None and "too many tasks" in refused.error.message
        gate.set()
        assert finish(mcp, first).value == 1
        (done_id,) = list(tasks.tasks)
        third = ptclisp.start("(await (tool/hold {:n 3}))", tools=mcp.registry())
        assert finish(mcp, third).value == 3  # the finished task expired (ttl_s=0)
        assert done_id not in tasks.tasks


# ---------------------------------------------------------------- the 2025-11-25 revision


@pytest.fixture(scope="module")
def legacy(http_url: str) -> Iterator[MCPTools]:
    with MCPTools(http_url, mode="legacy", timeout_s=20) as connection:  # no async_tools
        yield connection


def test_tools_the_server_declares_task_capable_are_async_without_being_named(
        legacy: MCPTools, http_url: str) -> None:
    assert legacy.session.protocol_version == "2025-11-25"
    assert legacy.session.server_capabilities.tasks.requests.tools.call is not None
    def check(connection: MCPTools) -> None:
        kinds = {t.name: t.is_async for t in connection.tools}
        assert kinds["slow"] and kinds["approve"] and not kinds["cancelled_tasks"]
        assert connection.task_support["slow"] == "optional"

    check(legacy)
    with MCPTools(http_url) as modern:  # 2026-07-28 reads the same declaration as a hint
        assert modern.session.protocol_version == "2026-07-28"
        check(modern)
        assert not modern.legacy_tasks("slow")


def test_legacy_task_augmented_calls(legacy: MCPTools) -> None:
    assert legacy.legacy_tasks("slow")
    step = ptclisp.start("(+ 2 (await (tool/slow {:seconds 0.2 :value 20})))",
                         tools=legacy.registry())
    (op_id,) = step.awaiting
    assert op_id.startswith(f"mcptask-{legacy.label}-")
    assert finish(legacy, step).value == 42  # completed: the result came from tasks/result
    failed = finish(legacy, ptclisp.start('(await (tool/doomed {:reason "x"}))',
                                          tools=legacy.registry()))
    assert failed.error is not None and "doomed: x" in failed.error.message
    before = len(cancelled_on_server(legacy))
    stuck = finish(legacy, ptclisp.start("(await (tool/forever {}))", tools=legacy.registry()),
                   timeout_s=0.5)
    assert stuck.error is not None and "did not end in time" in stuck.error.message
    wait_for(lambda: len(cancelled_on_server(legacy)) == before + 1)


def test_legacy_input_required_is_visible_and_cancellable(legacy: MCPTools) -> None:
    step = ptclisp.start('(await (tool/approve {:item "desk"}))', tools=legacy.registry())
    (op_id,) = step.awaiting
    watcher = TaskWatcher(legacy)
    wait_for(lambda: watcher.outcome(op_id, timeout=0) is None
             and watcher.status(op_id)["status"] == "input_required")
    assert watcher.status(op_id)["message"] == "waiting for a human to approve desk"
    watcher.cancel(op_id)
    result = watcher.resume(step, tools=legacy.registry(), timeout_s=10)
    assert result.error is not None and result.error.code == "op_cancelled"


def test_a_server_that_dies_fails_the_op() -> None:
    proc, port = start([str(TASK_SERVER)])
    try:
        with MCPTools(f"http://127.0.0.1:{port}/mcp", timeout_s=5) as mcp:
            step = ptclisp.start("(await (tool/slow {:seconds 60 :value 1}))",
                                 tools=mcp.registry())
            stop(proc)  # the server goes away with the task
            started = time.monotonic()
            result = finish(mcp, step, timeout_s=60)
            assert time.monotonic() - started < 30
            assert result.error is not None and result.error.code == "tool_error"
            assert "connection is closed" in result.error.message
    finally:
        stop(proc)


def test_polls_that_fail_are_retried_a_few_times(mcp: MCPTools) -> None:
    flaky = ptclisp.start('(await (tool/hostile {:mode "flaky"}))', tools=mcp.registry())
    assert finish(mcp, flaky, timeout_s=10).value == "steady"  # two errors, then an answer
    broken = finish(mcp, ptclisp.start('(await (tool/hostile {:mode "broken"}))',
                                       tools=mcp.registry()), timeout_s=10)
    assert broken.error is not None and "the task store is busy" in broken.error.message
    assert f"{mcp.max_poll_failures} polls in a row failed" in broken.error.message


def test_closing_the_connection_ends_a_wait_for_a_task() -> None:
    mcp = MCPTools(stdio(sys.executable, [str(TASK_SERVER)]))
    step = ptclisp.start("(await (tool/forever {}))", tools=mcp.registry())
    outcomes: list[Any] = []
    waiting = threading.Thread(target=lambda: outcomes.append(
        TaskWatcher(mcp).outcome(step.awaiting[0])))  # no timeout: until the task ends
    waiting.start()
    time.sleep(0.3)
    mcp.close()
    waiting.join(15)
    assert not waiting.is_alive()
    assert outcomes[0]["error"]["code"] == "tool_error"


def test_many_runs_awaiting_tasks_all_finish(tmp_path: Path, http_url: str) -> None:
    script = """```clojure
(return {:approved (= 4 (await (tool/slow {:seconds 0.3 :value 2})))})
```"""
    with MCPTools(http_url) as mcp:
        host = make_host(tmp_path, mcp, script)
        watcher = TaskWatcher(mcp).attach(host)
        try:
            runs = [host.submit("buyer", {}) for _ in range(20)]
            for run_id in runs:
                final = wait_for(lambda r=run_id: host.status(r)["status"] == "ok"
                                 and host.status(r), timeout=60)
                assert final["result"] == {"approved": True}
            assert host.inbox() == [] and mcp.tasks.records == {}  # delivered and forgotten
        finally:
            watcher.stop()
            host.close()
