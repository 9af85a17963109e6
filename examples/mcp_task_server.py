"""An MCP server (the official SDK) whose tools answer with MCP Tasks — ptclisp.mcp.TasksExtension.

    python examples/mcp_task_server.py               # stdio
    python examples/mcp_task_server.py --port 8123   # streamable HTTP on 127.0.0.1

``render`` takes a while (a task that reports progress); ``sign_off`` needs a person (a task that
goes ``input_required`` with an elicitation until the client answers).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from mcp.server.mcpserver import MCPServer

from ptclisp.mcp import ServerTask, TasksExtension


def render_task(args: dict[str, Any], task: ServerTask) -> dict[str, Any]:
    frames = int(args["frames"])
    for frame in range(frames):
        task.status(f"frame {frame + 1} of {frames}")
        time.sleep(0.02)
    return {"video": f"{args['scene']}.mp4", "frames": frames}


def sign_off_task(args: dict[str, Any], task: ServerTask) -> dict[str, Any]:
    form = {"method": "elicitation/create", "params": {
        "mode": "form", "message": f"Publish {args['video']}?",
        "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}}
    answer = task.input_required(f"waiting for an editor to sign off {args['video']}",
                                 {"sign-off": form})["sign-off"]
    return {"video": args["video"], "published": bool(answer.get("content", {}).get("ok"))}


tasks = TasksExtension({"render": render_task, "sign_off": sign_off_task}, poll_ms=50)
# tasks.legacy: 2025-11-25 clients too, and the tools' execution.taskSupport declaration
server = MCPServer("studio", extensions=[tasks], middleware=[tasks.legacy])


@server.tool()
def render(scene: str, frames: int) -> dict[str, Any]:
    """Render a scene to a video (a task)."""
    return render_task({"scene": scene, "frames": frames}, ServerTask("sync", "render",
                                                                      poll_ms=0, ttl_s=None))


@server.tool()
def sign_off(video: str) -> dict[str, Any]:
    """Ask an editor to sign a video off (a task that needs input)."""
    return {"video": video, "published": False}  # without tasks nobody can be asked


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--port":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
