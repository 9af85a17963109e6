"""``ptclisp.compile``: parse once, run many — the same outcomes as ``run``, runs isolated."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

import ptclisp

CORPUS = Path(__file__).resolve().parents[1] / "conformance" / "extra_cases.jsonl"


def _outcome(result: Any) -> tuple[Any, ...]:
    assert isinstance(result, ptclisp.Result)
    error = result.error.to_dict() if result.error is not None else None
    value = ptclisp.pr_str(result.value) if not callable(result.value) else "fn"
    return (result.status, value, result.output, error, result.steps, result.memory)


def test_a_compiled_program_runs_again_with_new_data() -> None:
    total = ptclisp.compile("(reduce + (map :amount data/orders))")
    assert total.run(data={"orders": [{"amount": 2}, {"amount": 3}]}).value == 5
    assert total.run(data={"orders": []}).value == 0
    assert "reduce" in repr(total) and total.source.startswith("(reduce")


def test_definitions_of_one_run_are_not_seen_by_the_next() -> None:
    program = ptclisp.compile("(def seen (if (nil? data/x) :second data/x)) [seen *1]")
    assert ptclisp.to_python(program.run(data={"x": 1}).value) == [1, None]
    second = program.run(data={"x": None})
    assert second.ok and ptclisp.to_python(second.value) == ["second", None]


def test_errors_of_the_text_are_raised_at_compile() -> None:
    with pytest.raises(ptclisp.ReadError) as read:
        ptclisp.compile("(+ 1")
    assert read.value.code == "parse_error" and read.value.hint
    with pytest.raises(ptclisp.AnalysisError) as analysis:
        ptclisp.compile("(no-such-fn 1)")
    assert analysis.value.code == "unbound_symbol"
    for hostile in [42, None, b"(+ 1 2)", ["(+ 1 2)"]]:
        with pytest.raises(ptclisp.PtclispError) as bad:
            ptclisp.compile(hostile)  # type: ignore[arg-type]
        assert bad.value.code == "parse_error"


def test_hostile_programs_end_in_the_result_as_with_run() -> None:
    limits = ptclisp.Limits(max_steps=10_000, max_memory=2**20, timeout_s=5)
    for source in ["(loop [] (recur))", "(defn f [x] (f x)) (f 1)",
                   "(vec (repeat 1000000 \"xxxxxxxx\"))", "(count (range))",
                   "(reduce str (range 100000))", "(/ 1 0)", "(fail :no)"]:
        program = ptclisp.compile(source)
        expected = _outcome(ptclisp.run(source, limits=limits))
        for _ in range(2):
            assert _outcome(program.run(limits=limits)) == expected, source
        assert expected[0] in ("error", "failed"), source


def test_every_corpus_program_runs_the_same_compiled_and_twice() -> None:
    """Reused compiled code (kept between runs) gives each run's outcome unchanged."""
    checked = 0
    for line in CORPUS.read_text().splitlines():
        source = json.loads(line)["program"]
        first = ptclisp.run(source)
        if first.status == "error" and first.error is not None and \
                first.error.code in ("parse_error", "unbound_symbol", "invalid_form"):
            continue
        program = ptclisp.compile(source)
        want = _outcome(first)
        assert _outcome(program.run()) == want, source
        assert _outcome(program.run()) == want, source
        assert _outcome(ptclisp.run(source)) == want, source
        checked += 1
    assert checked > 200


def test_concurrent_runs_of_one_program_do_not_share_a_namespace() -> None:
    program = ptclisp.compile("(def me data/n) (reduce + (range 2000)) me")
    seen: dict[int, Any] = {}

    def worker(n: int) -> None:
        for _ in range(20):
            result = program.run(data={"n": n})
            assert isinstance(result, ptclisp.Result)
            seen.setdefault(n, set()).add(result.value)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {n: {n} for n in range(4)}


def test_start_suspends_and_resumes_like_start() -> None:
    tools = {"slow": ptclisp.Tool("slow", lambda **kw: None, is_async=True,
                                  signature="(i :int) -> :any"),
             "base": lambda args: 10}
    program = ptclisp.compile("(def b (tool/base {})) (+ b (:v (await (tool/slow {:i 1}))))")
    for _ in range(2):
        step = program.start(tools=tools)
        assert isinstance(step, ptclisp.PendingStep) and step.source == program.source
        (op_id,) = step.pending_ops
        done = ptclisp.resume(ptclisp.deserialize(ptclisp.serialize(step)), op_id, {"v": 5},
                              tools=tools)
        assert isinstance(done, ptclisp.Result) and done.value == 15
    plain = program.run(tools={"base": lambda args: 1, "slow": lambda args: {"v": 2}})
    assert plain.ok and plain.value == 3
