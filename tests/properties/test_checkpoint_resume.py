"""Resuming from a checkpoint (skipping the top-level forms that finished before the await) ends
exactly as a resume that replays the program from the top: value, error, output, steps, memory,
tool calls — and every intermediate step alike."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ptclisp
from ptclisp import PendingStep, Result

_FORMS = [
    "(def a{i} {i})",
    "(def m{i} {{:k {i} :v [1 2 {i}]}})",
    "(defn f{i} [x] (+ x {i}))",
    "(defn g{i} [{{:keys [v]}}] (count v))",
    "(def r{i} (await (tool/slow {{:i {i}}})))",
    "(def h{i} (tool/slow {{:i {i}}}))",
    "(def w{i} (:v (tool/fetch {{:i {i}}})))",
    "(def t{i} (tool/fetch {{:i {i}}}))",
    "(def u{i} (await (tool/slow {{:i {i}}})))\n(def uu{i} u{i})",
    "(println \"form\" {i})",
    "(def z{i} (let [t (await (tool/slow {{:i {i}}}))] (println :got t) t))",
    "(do (def d{i} {i}) (await (tool/slow {{:i {i}}})))",
    "(def q{i} (fn [x] (* x {i})))",
    "(def lz{i} (map inc (range 3)))",
    "(defn f0 [x] (- x))",
    "(def f0 {i})",
    "(def s{i} (reduce + (range 100)))",
    "(try (tool/boom {{}}) (catch Exception e (def caught{i} (ex-message e))))",
]


def _tail(choices: list[int]) -> str:
    parts = []
    for i, c in enumerate(choices):
        if c in (3,):
            parts.append(f"(g{i} {{:v [1 2]}})")
        elif c == 2:
            parts.append(f"(f{i} 1)")
        elif c == 10:
            parts.append(f"(q{i} 2)")
        elif c == 5:
            parts.append(f"(:x (await h{i}))")
    return "(vector " + " ".join(parts) + ")"


def _tools() -> dict[str, Any]:
    def boom(args: dict[str, Any]) -> Any:
        raise RuntimeError("boom")

    return {"slow": ptclisp.Tool("slow", lambda **kw: None, is_async=True,
                                 signature="(i :int) -> :any"),
            "fetch": lambda args: {"v": [args["i"]] * 3},
            "boom": boom}


def _drive(source: str, checkpoints: bool, serialize: bool) -> list[Any]:
    tools = _tools()
    seen: list[Any] = []
    step = ptclisp.start(source, tools=tools, limits=ptclisp.Limits(max_steps=100_000))
    n = 0
    while isinstance(step, PendingStep):
        seen.append(("pending", len(step.pending_ops), step.output, step.steps_spent))
        if not checkpoints:
            step.checkpoint = None
        if serialize:
            step = ptclisp.deserialize(ptclisp.serialize(step))
        ops = step.pending_ops
        op_id = min(ops, key=lambda o: ops[o]["args"]["i"])  # ids are random: order by args
        n += 1
        step = ptclisp.resume(step, op_id, {"x": n, "n": [n, n]}, tools=tools)
    assert isinstance(step, Result)
    seen.append((step.status, ptclisp.pr_str(step.value), step.output, step.steps,
                 step.memory, step.error and step.error.to_dict(),
                 [(c.name, c.args, c.result, c.error and c.error["code"], c.op_id is not None)
                  for c in step.tool_calls]))
    return seen


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(choices=st.lists(st.integers(0, len(_FORMS) - 1), min_size=1, max_size=10),
       serialize=st.booleans())
def test_checkpointed_resume_equals_full_replay(choices: list[int], serialize: bool) -> None:
    source = "\n".join(_FORMS[c].format(i=i) for i, c in enumerate(choices)) + "\n" + \
        _tail(choices)
    fast = _drive(source, checkpoints=True, serialize=serialize)
    slow = _drive(source, checkpoints=False, serialize=serialize)
    assert fast == slow


def test_checkpoints_are_taken_and_skip_forms() -> None:
    source = ("(defn f [x] (* 2 x))\n(def a (await (tool/slow {:i 1})))\n(def b (f (:x a)))\n"
              "(def c (await (tool/slow {:i 2})))\n[b (:x c) (f 5)]")
    tools = _tools()
    step = ptclisp.start(source, tools=tools)
    assert isinstance(step, PendingStep) and step.checkpoint is not None
    assert step.checkpoint["form"] == 1 and step.checkpoint["fn_forms"] == [0]
    step = ptclisp.resume(step, sorted(step.pending_ops)[0], {"x": 3}, tools=tools)
    assert isinstance(step, PendingStep) and step.checkpoint["form"] == 3
    assert ptclisp.to_python(step.checkpoint["values"]["b"]) == 6
    done = ptclisp.resume(ptclisp.deserialize(ptclisp.serialize(step)),
                          sorted(step.pending_ops)[0], {"x": 4}, tools=tools)
    assert isinstance(done, Result) and ptclisp.to_python(done.value) == [6, 4, 10]


def test_no_checkpoint_when_the_namespace_cannot_be_rebuilt() -> None:
    tools = _tools()
    for source in ["(def f (let [k 2] (fn [x] (* k x))))\n(await (tool/slow {:i 1}))",
                   "(def xs (iterate inc 0))\n(await (tool/slow {:i 1}))",
                   "(defn f [] 1)\n(when true (defn f [] 2))\n(await (tool/slow {:i 1}))"]:
        step = ptclisp.start(source, tools=tools)
        assert isinstance(step, PendingStep) and step.checkpoint is None, source


@pytest.mark.parametrize("damage", [
    {"form": -1}, {"form": "1"}, {"values": []}, {"fn_forms": [5]}, {"extra": 1},
    {"values": {"a": {"~nope": 1}}}, {"output": 3}, {"calls": 99}, {"refs": {"a": [99]}},
    {"refs": {"a": "no-such-op"}}, {"refs": []}, {"refs": {"a": 5}}])
def test_a_damaged_checkpoint_is_refused(damage: dict[str, Any]) -> None:
    from ptclisp._async import pending as P

    tools = _tools()
    source = "(defn f [x] x)\n(def a 1)\n(def b (await (tool/slow {:i 1})))\n[a (:x b)]"
    step = ptclisp.start(source, tools=tools)
    assert isinstance(step, PendingStep) and step.checkpoint is not None
    body = step.to_dict()
    body["checkpoint"] = {**body["checkpoint"], **damage}
    op_id = sorted(step.pending_ops)[0]
    try:
        restored = P.PendingStep.from_dict(body)
    except ptclisp.PendingError as exc:
        assert exc.code == "pending_corrupt"
        return
    try:
        outcome = ptclisp.resume(restored, op_id, {"x": 1}, tools=tools)
    except ptclisp.PendingError as exc:
        assert exc.code in ("pending_corrupt", "pending_diverged")
        return
    assert isinstance(outcome, Result) and outcome.error is not None
    assert outcome.error.code in ("pending_corrupt", "pending_diverged")
