"""Every ```clojure example in docs/language.md runs and prints what its ;; => line says."""

import re
from pathlib import Path

import pytest

import ptclisp

DOC = Path(__file__).resolve().parents[2] / "docs" / "language.md"
BLOCK = re.compile(r"```clojure\n(.*?)\n;; => (.*?)\n```", re.S)
EXAMPLES = BLOCK.findall(DOC.read_text())


def test_the_reference_has_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize(("source", "expected"), EXAMPLES, ids=[s[:40] for s, _ in EXAMPLES])
def test_example(source, expected):
    result = ptclisp.run(source)
    assert result.status == "ok", result.error
    assert ptclisp.pr_str(result.value) == expected
