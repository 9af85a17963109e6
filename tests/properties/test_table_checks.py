"""The table check (``_is_table``) decides exactly as the row-by-row predicate (hypothesis)."""

from __future__ import annotations

from itertools import chain
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp._values import types as T


def row_by_row(obj: list[Any]) -> bool:
    """The predicate as first written: every row a dict whose key tuple is the first row's."""
    if len(obj) < 2 or type(obj[0]) is not dict:
        return False
    names = tuple(obj[0])
    if not all(type(r) is dict and tuple(r) == names for r in obj):
        return False
    if not all(type(k) is str for k in names):
        return False
    return all(type(v) in T._JSON_ATOMS for v in chain.from_iterable(r.values() for r in obj))


names = st.sampled_from(["a", "b", "c", "d"])
values = st.one_of(st.integers(0, 3), st.sampled_from(["x", None, 1.5, True]), st.just([1]))


@st.composite
def tables(draw: Any) -> list[Any]:
    """Rows that mostly share one key order; some drop, add or reorder a key, or are no dict."""
    first = draw(st.lists(names, unique=True, max_size=4))
    rows: list[Any] = []
    for _ in range(draw(st.integers(0, 6))):
        keys = list(first)
        change = draw(st.integers(0, 9))
        if change == 0 and keys:
            keys.pop(draw(st.integers(0, len(keys) - 1)))
        elif change == 1:
            keys.append(draw(names))
        elif change == 2:
            keys = draw(st.permutations(keys))
        elif change == 3:
            rows.append(draw(st.sampled_from([1, "r", [1], None])))
            continue
        rows.append({k: draw(values) for k in keys})
    return rows


@settings(max_examples=400, deadline=None)
@given(tables())
def test_the_concatenated_key_check_decides_as_row_by_row(rows: list[Any]) -> None:
    assert T._is_table(rows) == row_by_row(rows)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(names, unique=True, max_size=4), min_size=2, max_size=5))
def test_rows_that_split_the_repeated_keys_elsewhere_are_not_a_table(orders: list[Any]) -> None:
    """Rows whose keys concatenate to a repetition of some order but not row by row."""
    rows = [dict.fromkeys(keys, 1) for keys in orders]
    assert T._is_table(rows) == row_by_row(rows)


def test_a_wide_first_row_over_many_narrow_rows_is_refused_without_repeating_its_keys() -> None:
    """The key count is compared first: 10,000 keys times 100,000 rows is never built."""
    rows: list[Any] = [{f"k{i}": i for i in range(10_000)}] + [{"a": 1}] * 99_999
    assert not T._is_table(rows)
