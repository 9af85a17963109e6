"""The runtime examples run and print what their docs promise."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

EXPECTED = {
    "runtime_actors.py": ["total: 55", "selective receive picks: ('high', 2)", "done"],
    "runtime_supervision.py": ["restarted: cache", "supervisor gave up: True restart_intensity"],
    "runtime_tools.py": ["first completed: fast", "crash surfaced as: tool_crashed", "restarted and serving"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for line in EXPECTED[name]:
        assert line in result.stdout
