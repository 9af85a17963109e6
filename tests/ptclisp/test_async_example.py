"""The async phone call example runs end to end on an AgentHost: real HTTP webhook (signed),
real SQLite, resumed; the provider's duplicate delivery is answered 409."""

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
    assert lines[0].startswith("[provider] dialing +44 20 7946 0001 (call-")
    assert lines[1].startswith("[host] run ") and "['place-call']" in lines[1]
    assert lines[2:] == [
        "[provider] webhook answers: [200, 409]",
        'final: ok {"customer": "Ada Lovelace", "delivery": "09:00-11:00"}',
    ]
