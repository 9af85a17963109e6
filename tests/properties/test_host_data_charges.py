"""Host data is charged as it is converted (issue 11): the metered conversion gives the plain
conversion's values, and every way of charging host data — converting it, walking it unbuilt
(``charge_host_data``, the outer tiers' check), walking the ptclisp value it became
(``charge_value``, data crossing a tier as ptclisp values) — charges the same steps and bytes,
and stops at the same limit."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from support import Endless

from ptclisp import LimitExceeded
from ptclisp._limits import Limits, Meter
from ptclisp._values.types import charge_host_data, charge_value, from_python

atoms = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                  st.text(max_size=4))
# Tuples as keys or set elements are hashed as they go in, which charges steps of its own:
# checked apart (test_hashed_keys_cost_their_hashing_on_top).
keys = st.one_of(st.sampled_from(["a", "b", "ns/c", "d"]), st.integers(0, 3))
rows = st.lists(st.fixed_dictionaries({"a": atoms, "b": atoms}), min_size=2, max_size=5)
host_data = st.recursive(
    st.one_of(atoms, rows),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(keys, inner, max_size=3),
        st.tuples(inner, inner),
        st.frozensets(atoms, max_size=3),
    ),
    max_leaves=20,
)
BIG = Limits(max_steps=10**9, max_memory=2**40, timeout_s=60)


def _charges(fn: Any, value: Any, limits: Limits = BIG) -> tuple[str | None, int, int]:
    meter = Meter(limits)
    try:
        fn(value, meter)
    except LimitExceeded as exc:
        return exc.code, meter.steps, meter.memory
    return None, meter.steps, meter.memory


@settings(max_examples=300, deadline=None)
@given(host_data)
def test_metered_conversion_gives_the_plain_values(data: Any) -> None:
    assert from_python(data, Meter(BIG)) == from_python(data)


@settings(max_examples=300, deadline=None)
@given(host_data)
def test_every_way_of_charging_host_data_charges_the_same(data: Any) -> None:
    converting = _charges(from_python, data)
    assert _charges(charge_host_data, data) == converting
    assert _charges(charge_value, from_python(data)) == converting


@settings(max_examples=300, deadline=None)
@given(host_data, st.integers(1, 40), st.integers(60, 3_000))
def test_converting_and_walking_stop_at_the_same_limit(data: Any, steps: int,
                                                       memory: int) -> None:
    limits = Limits(max_steps=steps, max_memory=memory, timeout_s=60)
    assert _charges(charge_host_data, data, limits) == _charges(from_python, data, limits)


def test_hashed_keys_cost_their_hashing_on_top() -> None:
    data = {(0, (1, 2)): [1], "s": {(1, 2), (3, 4)}}
    code, steps, memory = _charges(from_python, data)
    assert _charges(charge_host_data, data)[::2] == (code, memory)
    assert steps > _charges(charge_host_data, data)[1]


def test_heavy_sharing_is_charged_expanded_and_stops() -> None:
    x: Any = [1]
    for _ in range(40):
        x = [x, x]
    limits = Limits(max_steps=10**9, max_memory=1 << 20, timeout_s=60)
    assert _charges(from_python, x, limits)[0] == "memory_limit"
    assert _charges(charge_host_data, x, limits)[0] == "memory_limit"
    level3: Any = [1]
    for _ in range(3):
        level3 = [level3, level3]  # 7 lists of 2 and 8 lists of 1, by sharing
    # each appearance charged: a step and 56 + 32 bytes a slot per list
    assert _charges(from_python, [level3] * 3) == (None, 1 + 3 * 15,
                                                   (56 + 3 * 32) + 3 * (7 * 120 + 8 * 88))


class _EndlessMap(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        i = 0
        while True:
            i += 1
            yield str(i), i


def test_a_container_whose_iteration_never_ends_stops_at_the_memory_limit() -> None:
    limits = Limits(max_steps=10**9, max_memory=1 << 20, timeout_s=60)
    for endless in (Endless(), _EndlessMap(), {"a": [Endless()]}):
        assert _charges(from_python, endless, limits)[0] == "memory_limit"
        assert _charges(charge_host_data, endless, limits)[0] == "memory_limit"


# ---------------------------------------------------------------- strings inside host data

texts = st.one_of(st.none(), st.integers(), st.text(max_size=12))
table_rows = st.lists(st.fixed_dictionaries({"a": texts, "b": st.text(max_size=8), "c": atoms}),
                      min_size=2, max_size=6)


def _general_path(fn: Any, data: Any, limits: Limits = BIG) -> tuple[str | None, int, int]:
    """``_charges`` with the table fast path turned off (every row converted on its own)."""
    import ptclisp._values.types as T

    saved, saved_text = T._flat_records, T._table_text
    T._flat_records = lambda *_: None  # type: ignore[assignment]
    T._table_text = lambda *_: None  # type: ignore[assignment]
    try:
        return _charges(fn, data, limits)
    finally:
        T._flat_records, T._table_text = saved, saved_text  # type: ignore[assignment]


@settings(max_examples=200, deadline=None)
@given(table_rows)
def test_the_table_path_charges_what_the_general_path_charges(rows: list[Any]) -> None:
    """Strings in a table (all-string, mixed and string-free columns) cost their length, on
    the fast path as row by row."""
    general = _general_path(from_python, rows)
    assert _charges(from_python, rows) == general
    assert _charges(charge_host_data, rows) == general
    assert _charges(charge_value, from_python(rows)) == general
    text = sum(len(v) for row in rows for v in row.values() if isinstance(v, str))
    assert general[2] == (56 + 32 * len(rows)) + len(rows) * (56 + 32 * 3) + text


def test_a_string_nested_in_host_data_is_charged_its_length() -> None:
    limits = Limits(max_steps=10**9, max_memory=16 << 20, timeout_s=60)
    huge = "x" * (17 << 20)
    for data in ({"doc": huge}, [huge], [{"id": 1, "doc": "a"}, {"id": 2, "doc": huge}],
                 ({"a": [1, (huge,)]},), {"s": frozenset({huge})}):
        assert _charges(from_python, data, limits)[0] == "memory_limit", data.__class__
        assert _charges(charge_host_data, data, limits)[0] == "memory_limit"
    small = {"doc": "x" * 1000, "rows": ["y" * 10] * 3}
    assert _charges(from_python, small)[2] == (56 + 2 * 32) + 1000 + (56 + 3 * 32) + 30


def test_a_long_key_is_charged_its_length_and_never_cached() -> None:
    import ptclisp._values.types as T

    key = "k" * (T.LONG_KEY + 1)
    data = [{key: 1}, {key: 2}]  # not a table (a long key): converted row by row
    assert _charges(from_python, data) == (None, 3, 56 + 2 * 32 + 2 * (88 + len(key)))
    assert _charges(charge_host_data, data) == _charges(from_python, data)
    assert _charges(charge_value, from_python(data)) == _charges(from_python, data)
    assert key not in T.KEYWORD_CACHE
    limits = Limits(max_steps=10**9, max_memory=1 << 20, timeout_s=60)
    assert _charges(from_python, {"k" * (2 << 20): 1}, limits)[0] == "memory_limit"


def test_a_small_tool_result_charges_its_strings_as_the_general_path() -> None:
    """The small-result fast path of tool calls (``_small_map``) charges a string its length,
    as ``from_python`` does: a 17 MiB document in ``{"doc": ...}`` ends with memory_limit."""
    import ptclisp

    limits = Limits(max_memory=16 << 20, timeout_s=60)
    result = ptclisp.run("(count (tool/t {}))", tools={"t": lambda args: {"doc": "x" * (17 << 20)}},
                         limits=limits)
    assert result.error is not None and result.error.code == "memory_limit"
    small = {"a": 1, "b": "xyz"}
    ok = ptclisp.run("(tool/t {}) (tool/t {})", tools={"t": lambda args: small})
    assert ok.ok
    assert ok.tool_calls and _charges(from_python, small)[2] == 56 + 2 * 32 + 3
