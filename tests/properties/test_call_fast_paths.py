"""Issue 15's tool-call fast paths behave as the general paths (hypothesis): flat argument maps
convert and charge as ``to_python`` + ``_charge_expanded``, and a typed result the quick check
accepts is one the output model accepts."""

from __future__ import annotations

from typing import Any

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


def test_flat_argument_maps_take_the_fast_path() -> None:
    """The property above compares two paths only if flat maps take the fast one."""
    assert H._flat_args(from_python({"a": 1, "b": "x", "c": None})) == {"a": 1, "b": "x", "c": None}
    assert H._flat_args(from_python({"a": [1]})) is None


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
