"""The agent examples run offline (scripted LLM) and print what their docs promise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def run_example(name: str) -> str:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "ANTHROPIC_", "SUBAGENT_"))}
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("agent_data_analysis.py", ['answer: {"region": "east", "growth": 645.0, "product": "desk"}',
                                    "--- turn 3: error", "evidence (hidden from the LLM): 15 rows"]),
        ("agent_human_approval.py", ["[host] run suspended on approval-42",
                                     "[webhook] delivered approval-42: 200",
                                     ('result: {"approved": true, "by": "Ada (manager)", '
                                      '"expense_id": 42}')]),
        ("agents_stack.py", [("suspended on ['call-555-0100'] | tools bound: ['lookup', "
                              "'place-call']"),
                             ("result: {'who': 'Ada', 'confirmed': True, 'refund': "
                              "{'refunded': 100}}"),
                             ("supervised run: ok 3 | turns: ['continue', 'returned'] | "
                              "process: Pid | restarts: 1"),
                             "majority: ship"]),
        ("agent_orchestrator.py", [('result: {"can_fulfil": false, "short": ["chair"], '
                                    '"total": 818.0}'),
                                   "      invoke_agent inventory", "      invoke_agent pricing"]),
    ],
)
def test_example_runs_offline(name: str, expected: list[str]) -> None:
    out = run_example(name)
    for line in expected:
        assert line in out, out
