"""A tool's arguments are copied to host data and kept by the call's record for the run: each
container of the copy is charged as a value's (``Meter.alloc_items``), every time it is sent."""

from __future__ import annotations

import ptclisp
from ptclisp._limits import OBJECT_BYTES, SLOT_BYTES

TOOLS = {"f": lambda args: None}


def _memory(items: int, argument: str, calls: int = 1) -> int:
    source = (f"(let [v (mapv (fn [j] {{:id j}}) (range {items}))] "
              f"(dotimes [_ {calls}] (tool/f {{:b {argument}}})) nil)")
    result = ptclisp.run(source, tools=TOOLS)
    assert result.ok, result.error
    return result.memory


def test_each_nested_container_of_the_arguments_is_charged() -> None:
    building = _memory(200, "0") - _memory(100, "0")  # the vector and its maps themselves
    sent = _memory(200, "v") - _memory(100, "v")
    # 100 more maps of one slot, and 100 more slots in the vector
    assert sent - building == 100 * (OBJECT_BYTES + SLOT_BYTES) + 100 * SLOT_BYTES


def test_the_copy_is_charged_on_every_call() -> None:
    once = _memory(100, "v", calls=1) - _memory(100, "0", calls=1)
    assert _memory(100, "v", calls=3) - _memory(100, "0", calls=3) == 3 * once


def test_a_loop_sending_the_same_maps_ends_at_the_memory_limit_early() -> None:
    source = ('(let [v (mapv (fn [j] {:id j :name "abcdefgh"}) (range 2000))] '
              "(loop [i 0] (tool/f {:a i :b v}) (recur (inc i))))")
    result = ptclisp.run(source, tools=TOOLS,
                         limits=ptclisp.Limits(max_memory=32 << 20, timeout_s=30))
    assert result.error is not None and result.error.code == "memory_limit"
    # each call's copy: 2,000 maps of two slots and the vector, ~232 KB charged a call
    assert len(result.tool_calls) < 150
