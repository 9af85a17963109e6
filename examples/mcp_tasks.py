"""MCP Tasks: programs await an MCP server's long-running tools (the [mcp] extra).

    python examples/mcp_tasks.py

Starts examples/mcp_task_server.py over stdio. A program starts a render task and suspends at its
`await` (a PendingStep, stored as bytes); `TaskWatcher.resume` polls the task and resumes the
program with the result. Then an AgentHost runs an agent that awaits a sign-off task: the task
goes `input_required`, which shows in the host's inbox; answering it finishes the run.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ptclisp
from ptclisp.mcp import MCPTools, TaskWatcher, stdio
from ptclisp.subagent import AgentHost, ScriptedLLM, SubAgent

SERVER = Path(__file__).resolve().parent / "mcp_task_server.py"

PROGRAM = """
(let [job (tool/render {:scene "intro" :frames 5})]
  (println "rendering…")
  (:video (await job)))
"""

PUBLISH = """```clojure
(let [v (await (tool/render {:scene "outro" :frames 3}))
      s (await (tool/sign_off {:video (:video v)}))]
  (return {:video (:video s) :published (:published s)}))
```"""


def main() -> None:
    with MCPTools(stdio(sys.executable, [str(SERVER)])) as studio:  # declared: async tools
        tools = studio.registry()
        watcher = TaskWatcher(studio)
        step = ptclisp.start(PROGRAM, tools=tools)
        (op_id,) = step.awaiting
        print("pending:", step.status, op_id.split("-")[0], "for", step.pending_ops[op_id]["tool"])
        blob = ptclisp.serialize(step)                   # store it anywhere
        result = watcher.resume(ptclisp.deserialize(blob), tools=tools, timeout_s=30)
        print("result: ", result.status, result.value, repr(result.output))

        agent = SubAgent(name="publisher", prompt="Render the outro and get it signed off.",
                         tools=list(studio.tools), signature="-> {video :string, published :bool}",
                         llm=ScriptedLLM([PUBLISH]))
        with tempfile.TemporaryDirectory() as tmp:
            host = AgentHost([agent], store=f"sqlite:///{tmp}/host.db").start(sweep_s=0.1)
            watcher.attach(host)                          # polls, shows, delivers, cancels
            run_id = host.submit("publisher", {})
            op = wait(lambda: next((o for o in host.inbox() if o.status == "input_required"),
                                   None))
            print("inbox:  ", op.tool, op.status, "-", op.status_message)
            watcher.answer(op.op_id, {"sign-off": {"action": "accept", "content": {"ok": True}}})
            done = wait(lambda: host.status(run_id)["status"] == "ok" and host.status(run_id))
            print("agent:  ", done["status"], done["result"])
            watcher.stop()
            host.close()


def wait(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise SystemExit("timed out")


if __name__ == "__main__":
    main()
