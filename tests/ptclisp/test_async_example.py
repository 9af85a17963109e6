"""The async phone call example runs end to end: real HTTP webhook, real SQLite, resumed."""

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "async_phone_call.py"


def test_phone_call_example_suspends_stores_and_resumes_from_the_webhook():
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "calling Ada Lovelace at +44 20 7946 0001"
    assert lines[1].startswith("suspended: step ") and "waits for ['call-" in lines[1]
    assert lines[2:] == [
        "call ended: completed",
        'final: ok {:customer "Ada Lovelace", :delivery "09:00-11:00"}',
        "stored as: done",
    ]
