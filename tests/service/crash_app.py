"""The host a crash test serves (``ptclisp serve crash_app:host``): the example's agent with tools
that log every execution — tool, idempotency key, pid, start/end — to ``PTCLISP_CRASH_LOG``, and
sleep a little so a SIGKILL often lands while a tool runs."""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

from examples import serve_app
from ptclisp import Tool
from ptclisp.subagent import AgentHost, SubAgent, idempotency_key

LOG = os.environ.get("PTCLISP_CRASH_LOG", "crash-log.jsonl")


def _log(tool: str, phase: str) -> None:
    line = json.dumps({"tool": tool, "key": idempotency_key(), "pid": os.getpid(),
                       "phase": phase})
    with open(LOG, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def _logged(name: str, fn: Any) -> Any:
    def run(**kwargs: Any) -> Any:
        _log(name, "start")
        time.sleep(random.uniform(0.0, 0.02))
        result = fn(**kwargs)
        time.sleep(random.uniform(0.0, 0.02))
        _log(name, "end")
        return result

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    run.__signature__ = __import__("inspect").signature(fn)  # type: ignore[attr-defined]
    return run


def _agent() -> SubAgent:
    base = serve_app.build_agent()
    tools = [Tool(t.name, _logged(t.name, t.fn), description=t.description,
                  signature=t.signature_text, is_async=t.is_async)
             for t in base.tool_map().values()]
    base.tools = tools  # assignment resets the agent's tool map
    return base


host = AgentHost({"approval": _agent()}, store="sqlite:///crash.db",
                 lease_s=float(os.environ.get("PTCLISP_CRASH_LEASE_S", "1.0")), workers=8)
