"""LLM client benchmark: pooled connections vs a new connection per call, over local HTTP.

Run: ``python bench/bench_llm_clients.py`` (about 10 s); writes the "LLM clients" section of
docs/benchmarks.md. The server is the tests' scripted OpenAI-format server on 127.0.0.1 (it
answers at once), so the figures are the client's own cost per call: what pooling saves is the
TCP connect and the client set-up that ``acomplete`` paid on every call before.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "subagent"))
sys.path.insert(0, str(ROOT / "bench"))

from _report import machine, write_section  # noqa: E402
from wire_servers import WireServer  # noqa: E402

from ptclisp.runtime import Retry  # noqa: E402
from ptclisp.subagent import OpenAIClient  # noqa: E402

MESSAGES = [{"role": "user", "content": "add 1 and 2"}]
REPLY = "```clojure\n(+ 1 2)\n```"
CALLS = 200


async def pooled(server: WireServer) -> float:
    async with OpenAIClient("m", base_url=server.base_url, retry=Retry(attempts=1)) as llm:
        await llm.acomplete(MESSAGES)  # warm: the pool's first connection
        started = time.perf_counter()
        for _ in range(CALLS):
            await llm.acomplete(MESSAGES)
        return (time.perf_counter() - started) / CALLS


async def fresh(server: WireServer) -> float:
    """The old behaviour: a new httpx.AsyncClient (and connection) for each call."""
    started = time.perf_counter()
    for _ in range(CALLS):
        async with OpenAIClient("m", base_url=server.base_url, retry=Retry(attempts=1)) as llm:
            await llm.acomplete(MESSAGES)
    return (time.perf_counter() - started) / CALLS


def raw_httpx(server: WireServer) -> float:
    """Native baseline: plain httpx.Client posts, one pooled connection."""
    body = {"model": "m", "messages": MESSAGES}
    with httpx.Client() as client:
        client.post(server.base_url + "/chat/completions", json=body)
        started = time.perf_counter()
        for _ in range(CALLS):
            client.post(server.base_url + "/chat/completions", json=body).json()
        return (time.perf_counter() - started) / CALLS


def sync_pooled(server: WireServer) -> float:
    with OpenAIClient("m", base_url=server.base_url, retry=Retry(attempts=1)) as llm:
        llm.complete(MESSAGES)
        started = time.perf_counter()
        for _ in range(CALLS):
            llm.complete(MESSAGES)
        return (time.perf_counter() - started) / CALLS


def best(samples: list[float]) -> float:
    return min(samples) * 1e6


def main() -> None:
    runs: dict[str, list[float]] = {"pooled": [], "fresh": [], "sync": [], "raw": []}
    with WireServer("openai") as server:
        for _ in range(3):
            server.add(*[REPLY] * (4 * CALLS + 4))
            runs["pooled"].append(asyncio.run(pooled(server)))
            runs["fresh"].append(asyncio.run(fresh(server)))
            runs["sync"].append(sync_pooled(server))
            runs["raw"].append(raw_httpx(server))
    raw = best(runs["raw"])
    rows = [("acomplete, pooled AsyncClient", best(runs["pooled"])),
            ("acomplete, new AsyncClient per call (before issue 16)", best(runs["fresh"])),
            ("complete, pooled Client", best(runs["sync"])),
            ("native: httpx.Client.post + .json(), pooled", raw)]
    lines = [f"| {name} | {us:,.0f} us | {us / raw:.1f}x |" for name, us in rows]
    section = "\n".join([
        "## LLM clients",
        "",
        (f"`python bench/bench_llm_clients.py` ({machine()}); per call against the scripted "
        f"OpenAI-format server on 127.0.0.1, best of 3 x {CALLS} calls, wall time. The ratio is "
        "to plain httpx posting the same body."),
        "",
        "| benchmark | per call | ratio |",
        "|---|---:|---:|",
        *lines,
        (f"| pooling saves per async call | {best(runs['fresh']) - best(runs['pooled']):,.0f} us "
        "| |"),
    ])
    print(section)
    write_section(section)


if __name__ == "__main__":
    main()
