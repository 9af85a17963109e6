"""The examples of issue 16 run and print what their docs say (real subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str) -> str:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "ANTHROPIC_", "SUBAGENT_"))}
    proc = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_agent_events() -> None:
    out = run_example("agent_events.py")
    assert "turn 1 of stock" in out and "done: ok {'desk': 5, 'chair': 1}" in out
    assert "LLM calls made: 1 of 3" in out
    assert "gen_ai.client.token.usage input: count=3" in out
    assert "cost of 120000 in / 8000 out: $0.0152" in out


def test_mcp_examples() -> None:
    pytest.importorskip("mcp")
    client = run_example("mcp_client.py")
    assert 'program: (["Cairo" 33] ["Lisbon" 22] ["Oslo" 5])' in client
    assert "error:   tool_error" in client and "unknown city 'Atlantis'" in client
    assert "agent:   ok {'city': 'Cairo'" in client
    code_mode = run_example("mcp_code_mode.py")
    assert "tools: ['run_program']" in code_mode and "ok:    ok 462.0" in code_mode
    assert "error: True unbound_symbol" in code_mode


def test_mcp_tasks_example() -> None:
    pytest.importorskip("mcp")
    out = run_example("mcp_tasks.py")
    assert "pending: pending mcptask for render" in out
    assert "result:  ok intro.mp4 'rendering…\\n'" in out
    assert "inbox:   sign_off input_required - waiting for an editor to sign off outro.mp4" in out
    assert "agent:   ok {'published': True, 'video': 'outro.mp4'}" in out
