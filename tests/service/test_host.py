"""AgentHost on both stores: runs, deliveries, nested ops, deadlines, cancellation, typed results,
and recovery after a crash in flight (in-process: a BaseException stands for the process dying)."""

from __future__ import annotations

import time

import pytest

from ptclisp.subagent import AgentHost, HostError, HostStoreError

from .hosted_agents import Crash, Tools, make_host


@pytest.fixture
def tools() -> Tools:
    return Tools()


def _only_op(host: AgentHost, run_id: str) -> str:
    ops = [o for o in host.inbox() if o.run_id == run_id]
    assert len(ops) == 1, ops
    return ops[0].op_id


def test_submit_suspend_deliver_finish(store_url: str, tools: Tools) -> None:
    host = make_host(store_url, tools)
    run_id = host.submit("approval", {}, wait=True)
    assert host.store.get_run(run_id).status == "pending"
    op_id = _only_op(host, run_id)
    body = host.status(run_id)
    assert body["status"] == "pending" and body["pending_ops"][0]["tool"] == "request-approval"
    done = host.deliver(op_id, {"approved": True, "by": "Ada"}, wait=True)
    assert done["accepted"] and done["status"] == "ok"
    final = host.status(run_id)
    assert final["result"]["approved"] is True and final["result"]["by"] == "Ada"
    assert tools.calls == {"get-request": 1, "request-approval": 1, "send-email": 1}
    email_key = dict(tools.keys)["send-email"]
    assert email_key is not None and email_key.startswith(run_id + ":")
    assert final["result"]["email"] == f"msg-{email_key}"
    dup = host.deliver(op_id, {"approved": False, "by": "Bob"})
    assert not dup["accepted"] and dup["outcome"] == {"value": {"approved": True, "by": "Ada"}}
    assert tools.calls["send-email"] == 1
    host.close()


def test_typed_delivery_is_refused_and_the_op_stays_pending(store_url: str, tools: Tools
                                                            ) -> None:
    host = make_host(store_url, tools)
    run_id = host.submit("approval", {}, wait=True)
    op_id = _only_op(host, run_id)
    for bad in ({"approved": "yes", "by": "x"}, {"approved": True}, [1], None):
        with pytest.raises(HostError) as err:
            host.deliver(op_id, bad)
        assert err.value.code == "pending_invalid_result"
    assert host.store.get_op(op_id).state == "pending"
    assert host.status(run_id)["status"] == "pending"
    with pytest.raises(HostError) as err:
        host.deliver(op_id, error={"code": 5})
    assert err.value.code == "invalid_delivery"
    with pytest.raises(HostStoreError) as unknown:
        host.deliver("no-such-op", {"approved": True, "by": "x"})
    assert unknown.value.code == "pending_unknown_op"
    with pytest.raises(HostError) as err:
        host.submit("nobody", {})
    assert err.value.code == "unknown_agent"
    host.close()


def test_a_nested_subagents_op_is_addressable(store_url: str, tools: Tools) -> None:
    host = make_host(store_url, tools)
    run_id = host.submit("nested", {}, wait=True)
    [op] = host.inbox()
    assert (op.run_id, op.tool, op.agent) == (run_id, "request-approval", "approver")
    with pytest.raises(HostError):  # typed by the child's tool
        host.deliver(op.op_id, {"approved": 1})
    assert host.deliver(op.op_id, {"approved": True, "by": "Ada"}, wait=True)["status"] == "ok"
    assert host.status(run_id)["result"] == {"approved": True, "by": "child",
                                             "email": f"msg-{dict(tools.keys)['send-email']}"}
    host.close()


def test_deadline_delivers_timeout_into_the_program(store_url: str, tools: Tools) -> None:
    host = make_host(store_url, tools, deadline_s=0.2)
    run_id = host.submit("approval", {}, wait=True)
    op = host.store.get_op(_only_op(host, run_id))
    assert op.deadline is not None and op.deadline - op.since == pytest.approx(0.2, abs=0.05)
    assert host.expire() == []
    time.sleep(0.3)
    assert host.expire() == [op.op_id]
    final = host.wait(run_id, 10)
    assert final["status"] == "ok" and final["result"]["by"] == "timeout"
    assert host.store.get_op(op.op_id).outcome["error"]["code"] == "timeout"
    assert tools.calls["send-email"] == 0  # the program's timeout path sent nothing
    host.close()


def test_cancel_run_and_cancel_op(store_url: str, tools: Tools) -> None:
    host = make_host(store_url, tools)
    first = host.submit("approval", {}, wait=True)
    op1 = _only_op(host, first)
    assert host.cancel_run(first) == "cancelled"
    assert host.status(first)["status"] == "cancelled"
    assert not host.deliver(op1, {"approved": True, "by": "late"})["accepted"]
    second = host.submit("approval", {}, wait=True)
    op2 = _only_op(host, second)
    host.cancel_op(op2, wait=True)
    final = host.wait(second, 10)
    assert final["status"] == "ok" and final["result"]["by"] == "timeout"  # handled the error
    assert host.store.get_op(op2).outcome["error"]["code"] == "op_cancelled"
    host.close()


@pytest.mark.parametrize("crash_in", ["get-request", "request-approval", "send-email"])
def test_recovery_repeats_only_the_call_in_flight(store_url: str, tools: Tools,
                                                  crash_in: str) -> None:
    dead = make_host(store_url, tools, lease_s=0.5)
    tools.crash_after[crash_in] = 1
    if crash_in != "send-email":  # crashes in the first run
        with pytest.raises(Crash):
            dead.submit("approval", {}, wait=True)
        [run_id] = dead.store.list_runs()
    else:
        run_id = dead.submit("approval", {}, wait=True)
        with pytest.raises(Crash):
            dead.deliver(_only_op(dead, run_id), {"approved": True, "by": "Ada"}, wait=True)
    assert dead.store.get_run(run_id).lease_owner == dead.owner  # held by the dead worker
    survivor = make_host(store_url, tools, lease_s=0.5)
    assert survivor.recover() == []  # the lease has not expired yet
    time.sleep(0.6)
    assert survivor.recover() == [run_id]
    body = survivor.wait(run_id, 10)
    if crash_in != "send-email":
        assert body["status"] == "pending"
        survivor.deliver(_only_op(survivor, run_id), {"approved": True, "by": "Ada"})
        body = survivor.wait(run_id, 10)
    assert body["status"] == "ok"
    assert tools.calls[crash_in] == 2 and all(
        n == 1 for name, n in tools.calls.items() if name != crash_in)
    keys = [k for name, k in tools.keys if name == crash_in]
    assert len(keys) == 2 and keys[0] == keys[1]  # the repeat carried the same key
    survivor.close()
    dead.close()


def test_a_long_resume_keeps_its_lease_and_a_second_host_waits(store_url: str) -> None:
    tools = Tools()
    slow = tools.send_email

    def send_email(to: str, subject: str) -> dict[str, object]:
        time.sleep(1.5)  # three lease periods: only renewal keeps the lease
        return slow(to=to, subject=subject)

    tools.send_email = send_email  # type: ignore[method-assign]
    worker = make_host(store_url, tools, lease_s=0.5).start(sweep_s=0.1)
    rival = make_host(store_url, tools, lease_s=0.5).start(sweep_s=0.1)
    run_id = worker.submit("approval", {}, wait=True)
    worker.deliver(_only_op(worker, run_id), {"approved": True, "by": "Ada"})
    assert worker.wait(run_id, 20)["status"] == "ok"
    assert tools.calls["send-email"] == 1  # the rival never took the run over
    rival.close()
    worker.close()


def test_recovery_at_start_up_finishes_a_run_submitted_but_never_started(store_url: str
                                                                         ) -> None:
    tools = Tools()
    host = make_host(store_url, tools, lease_s=0.2)
    host.store.create_run("orphan", "approval", {}, "a-dead-process", 0.2)  # crashed at once
    time.sleep(0.3)
    host.start(sweep_s=0.1)
    assert host.wait("orphan", 20)["status"] == "pending"
    host.deliver(_only_op(host, "orphan"), {"approved": False, "by": "Bob"})
    assert host.wait("orphan", 20)["result"] == {"approved": False, "by": "Bob",
                                                 "email": "msg-orphan:3"}
    host.close()


def test_an_llm_call_in_flight_at_a_crash_is_asked_again_then_recorded_once(store_url: str
                                                                            ) -> None:
    from ptclisp.subagent import LLMResponse

    tools = Tools()
    dead = make_host(store_url, tools, lease_s=0.2)
    agent = dead.agents["approval"]
    scripted = agent.llm
    asked: list[int] = []

    class CrashingLLM:
        name = "crashing"

        def complete(self, messages: list[dict[str, object]], *, on_token: object = None
                     ) -> LLMResponse:
            asked.append(len(messages))
            if len(asked) == 1:
                raise Crash("llm")
            return scripted.complete(messages)  # type: ignore[no-any-return]

    crashing = CrashingLLM()
    agent.llm = crashing
    with pytest.raises(Crash):
        dead.submit("approval", {}, wait=True)
    [run_id] = dead.store.list_runs()
    assert dead.store.effects(run_id, 0) == {}  # nothing completed, nothing recorded
    survivor = make_host(store_url, tools, lease_s=0.2)
    survivor.agents["approval"].llm = crashing
    time.sleep(0.3)
    assert survivor.recover() == [run_id]
    body = survivor.wait(run_id, 10)
    assert body["status"] == "pending" and len(asked) == 2
    [(kind, name, _, _)] = [e for e in survivor.store.effects(run_id, 0).values()
                            if e[0] == "llm"]
    assert (kind, name) == ("llm", "approval")
    survivor.deliver(_only_op(survivor, run_id), {"approved": True, "by": "Ada"})
    assert survivor.wait(run_id, 10)["status"] == "ok"
    assert len(asked) == 2  # the resume went on from the checkpoint: no new LLM call
    survivor.close()
    dead.close()


def test_live_op_status_shows_in_the_inbox_until_the_op_ends(store_url: str,
                                                             tools: Tools) -> None:
    host = make_host(store_url, tools)
    run_id = host.submit("approval", {}, wait=True)
    op_id = _only_op(host, run_id)
    assert host.inbox()[0].status is None and host.op_status(op_id) is None
    host.set_op_status(op_id, "input_required", "waiting for Ada", {"form": 1})
    [op] = host.inbox()
    assert (op.status, op.status_message) == ("input_required", "waiting for Ada")
    assert host.status(run_id)["pending_ops"][0]["status_message"] == "waiting for Ada"
    assert host.op_status(op_id) == {"status": "input_required", "message": "waiting for Ada",
                                     "detail": {"form": 1}}
    with pytest.raises(HostError):
        host.set_op_status(op_id, None)  # type: ignore[arg-type]
    host.deliver(op_id, {"approved": True, "by": "Ada"}, wait=True)
    assert host.inbox() == [] and host.op_status(op_id) is None  # pruned with the op
    host.close()
