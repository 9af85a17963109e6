"""Issue 15's tool-call fast paths behave as the general paths (hypothesis): flat argument maps
convert and charge as ``to_python`` + ``_charge_expanded``, and a typed result the quick check
accepts is one the output model accepts."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ptclisp
from ptclisp._limits import Limits, Meter, use_meter
from ptclisp._tools import host as H
from ptclisp._tools.signature import parse_signature
from ptclisp._values.types import from_python, to_python

atoms = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                  st.text(max_size=3), st.integers(63, 66).map(lambda n: "x" * n))
keys = st.sampled_from(["a", "b", "ns/c", "d e", "x"])
values = st.one_of(atoms, st.lists(atoms, max_size=2), st.dictionaries(keys, atoms, max_size=2))


def _general(args: Any, meter: Meter) -> dict[str, Any]:
    data = to_python(args)
    with use_meter(meter):
        H._charge_expanded(data)
    return data


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values, max_size=4))
def test_flat_argument_maps_convert_and_charge_as_the_general_path(obj: dict[str, Any]) -> None:
    args = from_python(obj)
    fast_meter, plain_meter = Meter(Limits()), Meter(Limits())
    with use_meter(fast_meter):
        fast = H._host_args("t", args, fast_meter)
    plain = _general(args, plain_meter)
    assert fast == plain and list(fast) == list(plain)
    assert fast_meter.steps == plain_meter.steps and fast_meter.memory == plain_meter.memory


def test_flat_argument_maps_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The property above compares two paths only if flat maps take the fast one: with the
    general walk broken, a flat map still converts and a nested one does not."""
    def general_walk(value: Any) -> Any:
        raise AssertionError("the general path")

    monkeypatch.setattr(H, "to_python", general_walk)
    meter = Meter(Limits())
    flat = H._host_args("t", from_python({"a": 1, "b": "x", "c": None}), meter)
    assert flat == {"a": 1, "b": "x", "c": None}
    with pytest.raises(AssertionError, match="the general path"):
        H._host_args("t", from_python({"a": [1]}), meter)


_RETURNS = st.sampled_from(["-> :int", "-> :float", "-> :string", "-> :bool", "-> :map",
                            "-> :int?", "-> :map?", "-> :string?", "-> :any", "-> [:int]",
                            "-> {a :int}"])
_RESULTS = st.one_of(values, st.dictionaries(st.one_of(keys, st.integers()), atoms, max_size=2))


@settings(max_examples=400, deadline=None)
@given(_RETURNS, _RESULTS)
def test_results_accepted_as_is_pass_the_output_model(signature: str, result: Any) -> None:
    sig = parse_signature(signature)
    if sig.accepts_as_is(result):
        sig.validate_return(result)  # raises if the quick check was wrong


def test_typed_tool_results_are_still_checked() -> None:
    bad = ptclisp.Tool("bad", lambda: 1.5, signature="() -> :int")
    result = ptclisp.run("(tool/bad {})", tools=[bad])
    assert result.error is not None and result.error.code == "tool_error"
    good = ptclisp.Tool("good", lambda: {"v": 1}, signature="() -> :map")
    assert ptclisp.run("(:v (tool/good {}))", tools=[good]).value == 1


# ---------------------------------------------------------------- results and typed arguments

_RESULT_KEYS = st.sampled_from(["v", "a", "b", "ns/c", "d e", "fresh-key", ""])
small_results = st.dictionaries(st.one_of(_RESULT_KEYS, st.integers(0, 2)),
                                st.one_of(atoms, st.lists(atoms, max_size=2)), max_size=5)


@settings(max_examples=300, deadline=None)
@given(small_results, st.sampled_from([1_000_000, 3, 1]), st.sampled_from([64 * 2**20, 100]))
def test_small_results_convert_and_charge_as_from_python(
        raw: dict[Any, Any], steps: int, memory: int) -> None:
    """A small flat result (``_small_map``, keys whose keyword is cached) converts and charges
    as ``from_python(raw, meter)``: the same map, steps, bytes and recorded cost, and the same
    limit error when a budget runs out on it."""
    outcomes = []
    for fast in (True, False):
        meter = Meter(Limits(max_steps=steps, max_memory=memory))
        meter.tick(min(steps, 2))  # close to a step limit
        entry: dict[str, Any] = {}
        try:
            with use_meter(meter):
                if fast:
                    value = H._to_value("t", raw, entry, meter)
                else:
                    before = (meter.steps, meter.memory)
                    value = from_python(raw, meter)
                    entry["cost"] = (meter.steps - before[0], meter.memory - before[1])
            outcome: Any = (ptclisp.pr_str(value), type(value), entry.get("cost"))
        except ptclisp.LimitExceeded as exc:
            outcome = exc.to_dict()
        outcomes.append((outcome, meter.steps, meter.memory))
    assert outcomes[0] == outcomes[1]


def test_small_results_take_the_fast_path() -> None:
    """The property above compares two paths only if small flat results take the fast one
    (once their keys' keywords are cached, as after the first such result)."""
    meter = Meter(Limits())
    cached = from_python({"v": 1, "w": "x"})  # caches the keywords (weakly: kept alive here)
    value = H._small_map({"v": 1, "w": "x"}, meter)
    assert value == cached and meter.steps == 1
    assert H._small_map({"v": [1]}, meter) is None and H._small_map({1: 1}, meter) is None


def _typed(a: int, b_c: str = "x", d: float = 0.5, e: bool | None = None) -> dict[str, Any]:
    return {"a": a, "b_c": b_c, "d": d, "e": e}


_ARG_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-1, 1),
                        st.text(max_size=2), st.lists(st.integers(), max_size=1))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b_c", "b-c", "d", "e", "f"]), _ARG_VALUES,
                       max_size=5))
def test_typed_arguments_validate_as_the_signature(args: dict[str, Any]) -> None:
    """``Tool.validate`` with its cached simple-parameter check returns or refuses exactly as
    the signature's general path does (key mapping, then the model)."""
    tool = ptclisp.Tool("t", _typed)
    assert tool._as_is is not None  # the fast check is in use for this tool
    try:
        expected: Any = tool._sig.validate_args(tool.snake_keys(args))  # type: ignore[union-attr]
    except ptclisp.PtclispError as exc:
        expected = exc.to_dict()
    try:
        got: Any = tool.validate(args)
    except ptclisp.PtclispError as exc:
        got = exc.to_dict()
    assert got == expected and (not isinstance(got, dict) or list(got) == list(expected))


def test_typed_tools_whose_names_are_mapped_keep_the_general_check() -> None:
    """A signature naming a parameter the function spells otherwise (kebab-case in the text,
    snake_case in Python) is checked by the general path only."""
    tool = ptclisp.Tool("t", lambda customer_id: customer_id,
                        signature="(customer-id :int) -> :int")
    assert tool._as_is is None
    plain = ptclisp.Tool("p", lambda a: a, signature="(a :int) -> :int")
    assert plain._as_is is not None


def test_tool_call_records_are_built_when_read() -> None:
    """Records (``Result.tool_calls``) are built from the journal entries when read: the same
    records, in call order, a failed call and a replayed one included."""
    def flaky(args: dict[str, Any]) -> Any:
        if args["i"] == 2:
            raise ValueError("two")
        return {"v": args["i"]}

    result = ptclisp.run("(mapv #(:v (tool/f {:i %})) [1 3 2])", tools={"f": flaky})
    assert result.error is not None and result.error.code == "tool_error"
    calls = result.tool_calls
    assert len(calls) == 3 and all(isinstance(c, ptclisp.ToolCall) for c in calls)
    assert [(c.name, c.args, c.result) for c in calls] == [
        ("f", {"i": 1}, {"v": 1}), ("f", {"i": 3}, {"v": 3}), ("f", {"i": 2}, None)]
    assert calls[2].error is not None and "two" in calls[2].error["message"]
    assert all(c.duration_s >= 0 and c.op_id is None for c in calls)
    assert result.tool_calls == calls  # read again: the same records
