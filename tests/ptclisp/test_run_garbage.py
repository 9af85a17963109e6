"""A finished run leaves no cyclic garbage holding its data: a program fn refers back to its
namespace (through its compiler), so the namespace is cleared when the run's code is given
back, kept for the next run or not."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

import ptclisp
from ptclisp import Map

ROWS = [{"id": i, "region": ["eu", "us"][i % 2], "amount": i + 0.5} for i in range(300)]
PROGRAM = """(def orders (tool/orders {}))
(defn amount-of [{:keys [amount]}] amount)
(reduce + (map amount-of orders))
; RUN"""


def _maps() -> int:
    return sum(type(o) is Map for o in gc.get_objects())


@pytest.fixture
def paused() -> Iterator[None]:
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    yield
    if was:
        gc.enable()


@pytest.mark.parametrize("runs", [1, 3])
def test_a_runs_table_dies_with_its_result_without_the_collector(paused: None,
                                                                  runs: int) -> None:
    """First run of a text (code not kept) and later runs (code kept, namespace reused)."""
    before = _maps()
    for _ in range(runs):
        result = ptclisp.run(PROGRAM.replace("RUN", str(runs)), tools={"orders": lambda args: ROWS})
        assert result.ok and result.value == sum(r["amount"] for r in ROWS)
        del result
    assert _maps() - before < len(ROWS)


def test_the_value_and_output_survive_the_cleared_namespace() -> None:
    source = '(def x [1 2])\n(defn f [] (println "f") x)\n{:x x :f (f)}'
    for _ in range(2):  # the text's first run (code not kept), then a kept one
        result = ptclisp.run(source)
        assert result.ok and result.output == "f\n"
        assert ptclisp.to_python(result.value) == {"x": [1, 2], "f": [1, 2]}
