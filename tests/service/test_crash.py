"""Crash safety: a real server process (``ptclisp serve``) SIGKILLed at random points while 110
runs start, suspend and are resumed over HTTP; after restarts every run finishes, none is lost,
no completed tool call runs again, and a call repeated after a crash carried the same key."""

from __future__ import annotations

import collections
import concurrent.futures
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ptclisp.subagent import open_store

from ._server import free_port

ROOT = Path(__file__).resolve().parents[2]
RUNS = 110


class Server:
    """``ptclisp serve crash_app:host`` as a subprocess that can be killed and restarted."""

    def __init__(self, store_url: str, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), str(ROOT / "tests" / "service")]),
            "PTCLISP_DEMO_OUTBOX": str(tmp / "outbox.jsonl"),
            "PTCLISP_CRASH_LOG": str(tmp / "calls.jsonl"), "PTCLISP_CRASH_LEASE_S": "1.0"}
        self.cmd = [sys.executable, "-m", "ptclisp", "serve", "crash_app:host", "--insecure",
                    "--port", str(self.port), "--store", store_url]
        self.log = open(tmp / "server.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=self.log,
                                     stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/inbox", timeout=1)
                return
            except httpx.HTTPError:
                if self.proc.poll() is not None:
                    raise RuntimeError("the server exited; see server.log") from None
                time.sleep(0.05)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _call(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Retry through server restarts (connection refused/reset) until an answer."""
    for _ in range(600):
        try:
            return httpx.request(method, url, timeout=10, **kwargs)
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{method} {url}: no answer")


KILLS = {"submit": 5, "deliver": 7}  # at most: kills while runs start / while they resume


def _killer(server: Server, phase: list[str], stop: threading.Event, store: Any,
            seen: collections.Counter[str], rng: random.Random) -> None:
    """Kill the server at random moments *while work is in flight*: polling every 10-50 ms,
    a kill lands at a random poll that finds runs driving (a fast machine may otherwise finish
    every first run between two kills). Between kills the restarted server makes progress."""
    budget = dict(KILLS)
    while not stop.wait(rng.uniform(0.01, 0.05)):
        if budget.get(phase[0], 0) <= 0:
            continue
        running = len(store.list_runs("running"))
        resuming = sum(1 for r in store.list_runs("pending") if store.next_delivered(r))
        if not (running or resuming) or rng.random() < 0.5:
            continue
        budget[phase[0]] -= 1
        seen["first_run" if running else "idle"] += 1
        seen["resume" if resuming or (running and phase[0] == "deliver") else "no_resume"] += 1
        server.kill()
        time.sleep(rng.uniform(0.0, 0.2))
        server.start()
        stop.wait(rng.uniform(0.2, 0.6))


def _deliver_all(server: Server, pool: concurrent.futures.ThreadPoolExecutor) -> None:
    def deliver(op: dict[str, Any]) -> None:
        r = _call("POST", server.url + f"/ops/{op['op_id']}",
                  json={"result": {"approved": True, "by": op["run_id"]}})
        assert r.status_code in (200, 409), r.text  # 409: delivered before a kill

    list(pool.map(deliver, _call("GET", server.url + "/inbox").json()["ops"]))


@pytest.mark.slow
def test_sigkill_at_random_points(store_url: str, tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("PTCLISP_CRASH_SEED", "12")))
    server = Server(store_url, tmp_path)
    store = open_store(store_url)
    server.start()
    seen: collections.Counter[str] = collections.Counter()
    stop, phase = threading.Event(), ["submit"]
    killer = threading.Thread(target=_killer, args=(server, phase, stop, store, seen, rng))
    killer.start()
    run_ids = [f"run-{i:03d}" for i in range(RUNS)]
    pool = concurrent.futures.ThreadPoolExecutor(8)

    def submit(run_id: str) -> None:  # a retried submission of the same id: no second run
        r = _call("POST", server.url + "/runs",
                  json={"agent": "approval", "input": {}, "run_id": run_id})
        assert r.status_code == 202, r.text

    try:
        list(pool.map(submit, run_ids))
        phase[0] = "deliver"
        deadline = time.monotonic() + 240
        while len(store.list_runs("ok")) < RUNS and time.monotonic() < deadline:
            _deliver_all(server, pool)
            time.sleep(0.1)
    finally:
        stop.set()
        killer.join()
        pool.shutdown()
        server.stop()
    print(f"kills: {server.kills}; at kill time: {dict(seen)}")
    assert server.kills >= 4  # the budget is an upper bound: the work may finish first
    assert seen["first_run"] >= 1 and seen["resume"] >= 1  # kills landed in both phases
    repeats = _check(store, run_ids, tmp_path, server.kills)
    assert repeats >= 1  # some kill landed after a tool ran and before it was recorded
    store.close()


def _check(store: Any, run_ids: list[str], tmp: Path, kills: int) -> int:
    assert sorted(store.list_runs()) == run_ids  # none lost, none doubled
    assert sorted(store.list_runs("ok")) == run_ids  # every run finished
    calls = [json.loads(line) for line in (tmp / "calls.jsonl").read_text().splitlines()]
    starts = [c for c in calls if c["phase"] == "start"]
    by_key: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for c in starts:
        by_key[c["key"]].append(c)
    keys_per_call: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for key, executions in by_key.items():
        run_id, _, _index = key.rpartition(":")
        keys_per_call[(run_id, executions[0]["tool"])].add(key)
        assert len({e["tool"] for e in executions}) == 1
        pids = [e["pid"] for e in executions]
        # a repeat happens only in a later process: the earlier one was killed mid-call
        assert len(set(pids)) == len(pids), (key, executions)
    for run_id in run_ids:
        for tool in ("get-request", "request-approval", "send-email"):
            assert len(keys_per_call[(run_id, tool)]) == 1, (run_id, tool)  # one logical call
    repeats = sum(len(e) - 1 for e in by_key.values())
    assert repeats <= kills * 8  # at most the calls in flight (8 workers) per kill
    outbox = [json.loads(line) for line in (tmp / "outbox.jsonl").read_text().splitlines()]
    sent = collections.Counter(m["idempotency_key"] for m in outbox)
    assert set(sent) == {next(iter(keys_per_call[(r, "send-email")])) for r in run_ids}
    for run_id in run_ids:
        result = store.get_run(run_id).result["return_value"]
        key = next(iter(keys_per_call[(run_id, "send-email")]))
        assert result == {"request": 7, "approved": True, "by": run_id, "email": f"msg-{key}"}
    print(f"tool executions: {len(starts)}, repeated in-flight calls: {repeats}, "
          f"emails sent twice (same key): {sum(n > 1 for n in sent.values())}")
    return repeats
