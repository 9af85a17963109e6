"""Properties: sort/sort-by's fast paths (native sort, NaN screening, nil split off, keywords
by tuple, keys handed out in order) order exactly as a stable sort by Clojure ``compare``;
group-by and frequencies keep first-seen key order and item order."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp._core import BUILTINS
from ptclisp._core._numbers import compare_values
from ptclisp._limits import Limits, Meter, use_meter
from ptclisp._values.types import Keyword, List, Map, Vector

K = Keyword
ASC, DESC = K("asc"), K("desc")

numbers = st.one_of(
    st.integers(-3, 3),
    st.integers(-(2**1100), 2**1100),  # too big for a float: sum() overflows
    st.floats(),  # NaN, infinities, -0.0 included
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1.0]),
)
key_lists = st.one_of(
    st.lists(numbers, max_size=25),
    st.lists(st.floats(), max_size=25),
    st.lists(st.one_of(st.none(), numbers), max_size=25),
    st.lists(st.sampled_from([None, 1, 2, 0.5, 3, math.nan]), max_size=25),  # NaN is not total
    st.lists(st.text(max_size=2), max_size=25),
    st.lists(st.sampled_from([K("a"), K("b"), K("b", "x"), K("a", "y")]), max_size=25),
    st.lists(st.one_of(st.none(), st.text(max_size=2)), max_size=25),
    st.lists(st.sampled_from([K("a"), K("b", "x"), K("a", "y"), K("a", "")]), max_size=25)
    .map(lambda ks: [*ks[:3], None, *ks[3:]]),  # with nil: (keyword "" "a") sorts as compare says
    st.lists(st.lists(st.one_of(st.integers(-2, 2), st.floats(), st.none(), st.text(max_size=1)),
                      min_size=2, max_size=2).map(Vector), max_size=25),
    st.lists(st.lists(st.integers(-2, 2), max_size=3).map(Vector), max_size=25),
)


@pytest.fixture(autouse=True)
def _meter() -> Iterator[Meter]:
    with use_meter(Meter(Limits())) as m:
        yield m


def _compare_order(keys: list, descending: bool) -> list[int]:
    """The reference: indices stably sorted by compare_values (the slow, exact path)."""
    cmp = functools.cmp_to_key(compare_values)
    return sorted(range(len(keys)), key=lambda i: cmp(keys[i]), reverse=descending)


def _outcome(fn, *args):
    try:
        return fn(*args), None
    except Exception as e:
        return None, (type(e), str(e))


@settings(max_examples=300, deadline=None)
@given(keys=key_lists, order=st.sampled_from([None, ASC, DESC]))
def test_sort_by_orders_as_a_stable_sort_by_compare(keys, order):
    records = Vector(Map({K("k"): k, K("i"): i}) for i, k in enumerate(keys))
    args = (K("k"), records) if order is None else (K("k"), order, records)
    got, error = _outcome(BUILTINS["sort-by"], *args)
    want, want_error = _outcome(_compare_order, keys, order is DESC)
    assert error == want_error
    if error is None:
        assert type(got) is List
        assert [r[K("i")] for r in got] == want


@settings(max_examples=300, deadline=None)
@given(keys=key_lists, order=st.sampled_from([None, ASC, DESC]))
def test_sort_orders_as_a_stable_sort_by_compare(keys, order):
    args = (Vector(keys),) if order is None else (order, Vector(keys))
    got, error = _outcome(BUILTINS["sort"], *args)
    want, want_error = _outcome(_compare_order, keys, order is DESC)
    assert error == want_error
    if error is None:
        assert all(g is keys[i] for g, i in zip(got, want, strict=True))


@settings(max_examples=200, deadline=None)
@given(keys=st.lists(st.one_of(numbers, st.none()), max_size=25),
       descending=st.booleans())
def test_sort_with_lt_or_gt_on_numbers_matches_compare(keys, descending):
    records = Vector(Map({K("k"): k, K("i"): i}) for i, k in enumerate(keys))
    comparator = BUILTINS[">"] if descending else BUILTINS["<"]
    got, error = _outcome(BUILTINS["sort-by"], K("k"), comparator, records)
    if None in keys and len(keys) > 1:
        assert error is not None  # < and > refuse nil
        return
    assert error is None
    assert [r[K("i")] for r in got] == _compare_order(keys, descending)


@settings(max_examples=300, deadline=None)
@given(keys=st.lists(st.one_of(st.integers(-3, 3), st.sampled_from([1.0, math.nan, True, None]),
                               st.sampled_from([K("a"), K("b")]), st.text(max_size=1)),
                     max_size=30))
def test_group_by_and_frequencies_keep_first_seen_order(keys):
    items = Vector(keys)
    groups = BUILTINS["group-by"](BUILTINS["identity"], items)
    counts = BUILTINS["frequencies"](items)
    want: dict = {}
    for x in keys:
        want.setdefault(x, []).append(x)
    assert type(groups) is Map and type(counts) is Map
    assert list(groups) == list(want) == list(counts)
    assert all(type(g) is Vector for g in groups.values())
    assert [list(g) for g in groups.values()] == list(want.values())
    assert list(counts.values()) == [len(g) for g in want.values()]
