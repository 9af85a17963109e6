"""The durable service under load, over real HTTP on 127.0.0.1: SQLite and PostgreSQL.

Run: ``python bench/bench_service.py`` (a few minutes). For each store it starts ``ptclisp serve
examples.serve_app:host`` (a real process, with a webhook secret and a token), submits 1,000 runs
(each suspends on ``request-approval``), then 50 concurrent clients deliver the 1,000 approvals plus
20% duplicates (signed, shuffled). It checks 0 lost runs and 0 double effects (one email per run,
each idempotency key once) and writes delivery->run-finished latency p50/p99 and deliveries/s to
the ``## Durable service`` section of docs/benchmarks.md. ``--quick``: fewer runs, writes nothing.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import queue
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "service"))

import _report  # noqa: E402
import httpx  # noqa: E402

from ptclisp.subagent import open_store, sign  # noqa: E402

SECTION = "## Durable service"
SECRET, TOKEN = "bench-secret", "bench-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


class ServeProcess:
    def __init__(self, store_url: str, tmp: Path) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.outbox = tmp / "outbox.jsonl"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PTCLISP_DEMO_OUTBOX": str(self.outbox)}
        self.log = open(tmp / "serve.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ptclisp", "serve", "examples.serve_app:host", "--store",
             store_url, "--port", str(self.port), "--secret", SECRET, "--token", TOKEN],
            cwd=ROOT, env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/inbox", headers=AUTH, timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("ptclisp serve did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def _parallel(jobs: list[Any], clients: int, work: Any) -> list[Any]:
    todo: queue.Queue[Any] = queue.Queue()
    for job in jobs:
        todo.put(job)
    results: list[Any] = []
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=url_of[0], timeout=120) as client:
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                out = work(client, job)
                with lock:
                    results.append(out)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


url_of: list[str] = [""]


def run_load(store_url: str, *, runs: int = 1000, duplicates: float = 0.2,
             clients: int = 50, seed: int = 1) -> dict[str, Any]:
    """Drive the load against a fresh store; returns the figures and the checks' counts."""
    tmp = Path(tempfile.mkdtemp(prefix="ptclisp-load-"))
    server = ServeProcess(store_url, tmp)
    url_of[0] = server.url
    store = open_store(store_url)
    try:
        def submit(client: httpx.Client, i: int) -> int:
            return client.post("/runs", json={"agent": "approval", "input": {}},
                               headers=AUTH).status_code

        assert set(_parallel(list(range(runs)), clients, submit)) == {202}
        deadline = time.monotonic() + 600
        while (len(store.list_runs("pending")) < runs or store.list_runs("running")) \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        ops = httpx.get(server.url + "/inbox", headers=AUTH, timeout=60).json()["ops"]
        assert len(ops) == runs, len(ops)
        rng = random.Random(seed)
        jobs = [(op["op_id"], op["run_id"]) for op in ops]
        jobs += rng.sample(jobs, int(runs * duplicates))
        rng.shuffle(jobs)
        sent: dict[str, float] = {}

        def deliver(client: httpx.Client, job: tuple[str, str]) -> int:
            op_id, run_id = job
            body = json.dumps({"result": {"approved": True, "by": "bench"}}).encode()
            t0 = time.time()
            r = client.post(f"/ops/{op_id}", content=body, headers={
                "content-type": "application/json", "x-ptclisp-signature": sign(SECRET, body)})
            if r.status_code == 200:
                sent[run_id] = t0
            return r.status_code

        began = time.time()
        codes = collections.Counter(_parallel(jobs, clients, deliver))
        delivered_s = time.time() - began
        deadline = time.monotonic() + 600
        while len(store.list_runs("ok")) < runs and time.monotonic() < deadline:
            time.sleep(0.2)
        finished = {r: store.get_run(r).updated_at for r in store.list_runs("ok")}
        latencies = sorted(finished[r] - sent[r] for r in sent if r in finished)
        outbox = [json.loads(line) for line in server.outbox.read_text().splitlines()]
        keys = collections.Counter(m["idempotency_key"] for m in outbox)
        return {
            "runs": runs, "deliveries": len(jobs), "codes": dict(codes),
            "finished": len(finished), "lost": runs - len(finished),
            "emails": len(outbox), "double_effects": sum(n - 1 for n in keys.values()),
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "deliveries_per_s": len(jobs) / delivered_s,
            "finished_per_s": len(finished) / (max(finished.values()) - began),
        }
    finally:
        server.stop()
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _stores(tmp: Path) -> list[tuple[str, str, Any]]:
    from pgserver import PostgresServer, pg_bindir

    stores: list[tuple[str, str, Any]] = [("SQLite (WAL)", f"sqlite:///{tmp / 'bench.db'}",
                                           None)]
    bindir = pg_bindir()
    if bindir is not None:
        root = Path(tempfile.mkdtemp(prefix="ptclisp-pg-"))
        os.chmod(root, 0o755)
        pg = PostgresServer(root, bindir)
        pg.start()
        stores.append(("PostgreSQL 15 (Unix socket)", pg.new_database(), pg))
    return stores


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="200 runs, write nothing")
    args = parser.parse_args()
    runs = 200 if args.quick else 1000
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, url, pg in _stores(Path(tmp)):
            try:
                out = run_load(url, runs=runs)
            finally:
                if pg is not None:
                    pg.stop()
            print(name, out)
            assert out["lost"] == 0 and out["double_effects"] == 0, out
            rows.append((name, out))
    lines = [SECTION, "",
             (f"`python bench/bench_service.py` — {_report.machine()}. A `ptclisp serve` process "
             "(8 worker threads) on 127.0.0.1; the `approval` agent of examples/serve_app.py "
             "(offline scripted LLM; each resume replays the program, calls `send-email` and "
             f"commits). {runs} suspended runs; {runs} signed deliveries + 20% duplicates from "
             "50 concurrent HTTP clients. Latency: from sending a delivery to the run's final "
             "commit. Checked: 0 runs lost, 0 double effects (one email per run, one "
             "idempotency key each), every duplicate answered 409. The latency is mostly "
             "queueing: deliveries arrive faster than the 8 workers finish runs, so "
             "the last ones wait for the backlog."), "",
             ("| store | deliveries | 200 / 409 | lost | double effects | deliveries/s "
              "| runs finished/s | latency p50 | latency p99 |"),
             "|---|---|---|---|---|---|---|---|---|"]
    for name, o in rows:
        lines.append(f"| {name} | {o['deliveries']} | {o['codes'].get(200, 0)} / "
                     f"{o['codes'].get(409, 0)} | {o['lost']} | {o['double_effects']} | "
                     f"{o['deliveries_per_s']:.0f} | {o['finished_per_s']:.0f} | "
                     f"{o['p50_ms']:.0f} ms | {o['p99_ms']:.0f} ms |")
    section = "\n".join(lines) + "\n"
    print(section)
    if not args.quick:
        _report.write_section(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
