"""docs/core-library.md is generated from the registry and must match it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_library_reference_is_up_to_date():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_core_docs.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_core_coverage_in_the_conformance_doc_is_up_to_date():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "core_coverage.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
