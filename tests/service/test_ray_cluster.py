"""Runs on a real two-node Ray cluster (``ray.cluster_utils.Cluster``), PostgreSQL as the shared
store, webhooks through two fronts' HTTP apps — with the worker node killed mid-way: every run
finishes, execution was spread over both nodes, no completed tool call ran twice.

The cluster must listen on loopback only, and Ray advertises the machine's interface address, so
the test re-runs itself in a network namespace of its own (``unshare -n``, lo up) where 127.0.0.1
is the only address. It skips only if ray is not installed or ``unshare -n`` is not permitted."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import bench_ray  # noqa: E402

RUNS = int(os.environ.get("PTCLISP_RAY_TEST_RUNS", "200"))
IN_NETNS = os.environ.get(bench_ray.NETNS_FLAG) == "1"


@pytest.mark.slow
@pytest.mark.skipif(IN_NETNS, reason="the outer test")
def test_two_node_cluster_in_own_network_namespace() -> None:
    pytest.importorskip("ray")
    why = bench_ray.netns_available()
    if why:
        pytest.skip(why)
    env = {**os.environ, bench_ray.NETNS_FLAG: "1", **bench_ray.worker_env()}
    here = str(Path(__file__))
    cmd = bench_ray.netns_command([sys.executable, "-m", "pytest", "-q", "-x", "-p",
                                   "no:cacheprovider", "-s", here + "::test_node_killed_midway",
                                   here + "::test_serve_with_ray_flag"])
    proc = subprocess.run(cmd, check=False, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    print(proc.stdout[-4000:], proc.stderr[-2000:])
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "2 passed" in proc.stdout and "skipped" not in proc.stdout


@pytest.mark.slow
@pytest.mark.skipif(not IN_NETNS, reason="runs inside the network namespace (test above)")
def test_node_killed_midway(postgres: Any, tmp_path: Path) -> None:
    log, spans = tmp_path / "tools.jsonl", tmp_path / "spans.jsonl"
    os.environ["PTCLISP_RAY_SPANS"] = str(spans)  # the workers inherit it (trace_to_file)
    store_url = postgres.new_database()
    killed: dict[str, Any] = {}
    traced: dict[str, Any] = {}

    def kill_midway(finished: int, cluster: Any, hosts: list[Any]) -> None:
        if killed or finished < RUNS * 0.3:
            return
        worker = cluster.list_all_nodes()[1]
        owners = {h.backend.owners[worker.node_id] for h in hosts
                  if worker.node_id in h.backend.owners}
        leased = _leased_by(store_url, owners)
        if not leased and finished < RUNS * 0.6:
            return  # wait until the node is driving runs
        cluster.remove_node(worker, allow_graceful=False)
        killed.update(node=worker.node_id, leased=leased, at=finished,
                      recorded=_recorded_after_death(store_url, log, worker.node_id))

    out = bench_ray.run_scenario(store_url, nodes=2, runs=RUNS, log=str(log), lease_s=2.0,
                                 delay_s=0.02, on_progress=kill_midway, batch=10,
                                 after=lambda c, hosts: traced.update(_traced_run(hosts),
                                                                      **_budget_runs(hosts)))
    print(f"result: {out['finished']}/{RUNS} in {out['elapsed_s']:.1f} s; killed at "
          f"{killed.get('at')} finished, the node held {len(killed.get('leased', []))} leases")
    assert killed, "the node was never killed"
    assert killed["leased"], "the node held no run when it was killed"
    assert RUNS * 0.25 <= killed["at"] <= RUNS * 0.75, killed["at"]  # mid-way
    assert out["finished"] == RUNS  # every run finished
    assert set(out["submit_codes"]) == {202}
    _check_tools(log, store_url, killed)
    _check_trace(spans, traced)
    # budgets travel with the run: one turn spent before the suspension counts after the resume
    assert traced["budget-1"]["status"] == "error", traced["budget-1"]
    assert traced["budget-1"]["error"]["code"] == "max_turns"
    assert traced["budget-2"]["status"] == "ok"  # the control: a second turn was allowed
    assert traced["budget-2"]["result"]["by"] == "turn 2"


@pytest.mark.slow
@pytest.mark.skipif(not IN_NETNS, reason="runs inside the network namespace (test above)")
def test_serve_with_ray_flag(postgres: Any, tmp_path: Path) -> None:
    """``ptclisp serve examples.serve_app:host --ray ADDRESS``: the example, unchanged, served
    with its runs driven by a Ray worker (another process), resumed by webhooks over HTTP."""
    import httpx
    from _server import free_port

    outbox = tmp_path / "outbox.jsonl"
    os.environ["PTCLISP_DEMO_OUTBOX"] = str(outbox)  # send-email writes it, on the workers
    store_url, port = postgres.new_database(), free_port()
    with bench_ray.cluster(1) as c:
        env = {**os.environ, **bench_ray.worker_env()}
        cmd = [sys.executable, "-m", "ptclisp", "serve", "examples.serve_app:host", "--insecure",
               "--port", str(port), "--store", store_url, "--ray", c.address,
               "--ray-workers", "4"]
        with open(tmp_path / "serve.log", "wb") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_up(base, proc, tmp_path / "serve.log")
            with httpx.Client(timeout=30) as client:
                ids = [client.post(base + "/runs", json={"agent": "approval"}).json()["run_id"]
                       for _ in range(3)]
                deadline = time.monotonic() + 60
                ops: list[Any] = []
                while len(ops) < 3 and time.monotonic() < deadline:
                    ops = client.get(base + "/inbox").json()["ops"]
                    time.sleep(0.05)
                for op in ops:
                    r = client.post(base + f"/ops/{op['op_id']}",
                                    json={"result": {"approved": True, "by": "Ada"}})
                    assert r.status_code == 200, r.text
                for run_id in ids:
                    body = client.get(base + f"/runs/{run_id}?wait=30").json()
                    assert body["status"] == "ok", body
                    assert body["result"]["by"] == "Ada" and body["result"]["approved"]
            mails = [json.loads(x) for x in outbox.read_text().splitlines() if x.strip()]
            for pid in {m["pid"] for m in mails}:  # the tools ran in a Ray worker process
                assert pid != proc.pid
                assert b"ray::" in Path(f"/proc/{pid}/cmdline").read_bytes(), pid
        finally:
            proc.terminate()
            proc.wait(20)
    assert sorted(m["idempotency_key"].rpartition(":")[0] for m in mails) == sorted(ids)


def _wait_up(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            httpx.get(base + "/inbox", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("ptclisp serve --ray did not come up: " + log.read_text()[-3000:])


def _leased_by(store_url: str, owners: set[str]) -> list[str]:
    from ptclisp.subagent import open_store

    store = open_store(store_url)
    try:
        leased = []
        for run_id in store.list_runs("running") + store.list_runs("pending"):
            run = store.get_run(run_id)
            if run.lease_owner in owners and (run.lease_expires or 0) > time.time():
                leased.append(run_id)
        return leased
    finally:
        store.close()


def _recorded_after_death(store_url: str, log: Path, node: str) -> set[str]:
    """Once every process of the killed node is gone: the keys of the tool calls recorded in
    the store (completed calls). None of them may run again."""
    pids = {json.loads(x)["pid"] for x in log.read_text().splitlines()
            if x.strip() and json.loads(x)["node"] == node}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids), "the killed node's workers still run"
    from ptclisp.subagent import open_store

    store = open_store(store_url)
    try:
        return {f"{run_id}:{idx}" for run_id in store.list_runs()
                for idx, (kind, *_rest) in store.effects(run_id, 0).items() if kind == "tool"}
    finally:
        store.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _check_tools(log: Path, store_url: str, killed: dict[str, Any]) -> None:
    from ptclisp.subagent import open_store

    lines = [json.loads(x) for x in log.read_text().splitlines() if x.strip()]
    starts = [x for x in lines if x["phase"] == "start"]
    nodes = collections.Counter(x["node"] for x in starts)
    assert len(nodes) == 2 and min(nodes.values()) >= RUNS // 10, nodes  # spread over both
    by_key: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for x in starts:
        by_key[x["key"]].append(x)
    per_call: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for key, execs in by_key.items():
        per_call[(key.rpartition(":")[0], execs[0]["tool"])].add(key)
        if key in killed["recorded"]:  # completed (in the store) when the node died
            assert len(execs) == 1, (key, execs)  # ... never executed again
        # any repeat: a call in flight on the killed node, run once more elsewhere, same key
        assert all(e["node"] == killed["node"] for e in execs[:-1]), (key, execs)
        assert len(execs) <= 2, (key, execs)
    assert killed["recorded"] <= set(by_key)  # the journal and the log agree
    repeated = {k: v for k, v in by_key.items() if len(v) > 1}
    store = open_store(store_url)
    try:
        run_ids = [r for r in store.list_runs() if r.startswith("run-")]
        assert len(run_ids) == RUNS
        for run_id in run_ids:
            for tool in ("get-request", "request-approval", "send-email"):
                assert len(per_call[(run_id, tool)]) == 1, (run_id, tool)  # one logical call
            result = store.get_run(run_id).result
            assert result is not None and result["return_value"]["by"] == run_id
            assert result["return_value"]["email"] == \
                f"msg-{next(iter(per_call[(run_id, 'send-email')]))}"
        taken_over = [r for r in killed["leased"]
                      if store.get_run(r).status == "ok"]
        assert taken_over == killed["leased"]  # the dead node's runs were finished elsewhere
    finally:
        store.close()
    print(f"tool executions {len(starts)} on nodes {sorted(nodes.values())}; completed calls "
          f"at the kill: {len(killed['recorded'])}; calls in flight repeated (same key): "
          f"{len(repeated)}; runs taken over from the dead node: {len(killed['leased'])}")
    assert len(repeated) <= 2 * 8  # at most what was in flight on that node (2 fronts x 8)


def _traced_run(hosts: list[Any]) -> dict[str, Any]:
    """A run submitted and resumed under a span of this process: its trace id."""
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("client") as span:
        run_id = hosts[0].submit("approval", {}, run_id="traced")
        deadline = time.monotonic() + 60
        while not hosts[0].status(run_id)["pending_ops"] and time.monotonic() < deadline:
            time.sleep(0.05)
        [op] = hosts[0].status(run_id)["pending_ops"]
        hosts[1].deliver(op["op_id"], {"approved": True, "by": "traced"})
        while hosts[1].status(run_id)["status"] != "ok" and time.monotonic() < deadline:
            time.sleep(0.05)
    assert hosts[1].status(run_id)["status"] == "ok"
    return {"trace_id": span.get_span_context().trace_id,
            "span_id": span.get_span_context().span_id}


def _budget_runs(hosts: list[Any]) -> dict[str, Any]:
    """Runs that suspend in their first turn and need a second one after the resume, submitted
    to one front and resumed through the other; their final status."""
    out = {}
    for agent in ("budget-1", "budget-2"):
        run_id = hosts[0].submit(agent, {})
        deadline = time.monotonic() + 60
        while not hosts[0].status(run_id)["pending_ops"] and time.monotonic() < deadline:
            time.sleep(0.05)
        [op] = hosts[0].status(run_id)["pending_ops"]
        hosts[1].deliver(op["op_id"], {"approved": True, "by": "budget"})
        while hosts[1].status(run_id)["status"] not in ("ok", "error", "failed") and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        out[agent] = hosts[1].status(run_id)
    return out


def _check_trace(spans: Path, traced: dict[str, Any]) -> None:
    """The run's spans, made on the workers, are children of the submitting span."""
    rows = [json.loads(x) for x in spans.read_text().splitlines() if x.strip()]
    mine = [r for r in rows if r["trace_id"] == traced["trace_id"]]
    runs = [r for r in mine if r["name"] == "invoke_agent approval"]
    assert len(runs) >= 2, mine  # the first drive and the resume, both under the client span
    assert all(r["parent_id"] == traced["span_id"] for r in runs), runs
    assert {"execute_tool get-request", "execute_tool send-email"} <= {r["name"] for r in mine}
    assert all(r["pid"] != os.getpid() for r in mine)  # made on the workers
