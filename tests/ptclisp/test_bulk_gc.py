"""``bulk``: the collector is paused while a big table is built, then the young objects are
promoted to the oldest generation unscanned (``gc.freeze`` + ``gc.unfreeze``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ptclisp._values import types as T


@pytest.fixture
def collector() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()
    if not was:
        gc.disable()


def _rows(n: int) -> list[dict[str, object]]:
    return [{"id": i, "name": f"n{i}", "x": i / 2} for i in range(n)]


def test_a_big_table_lands_in_the_oldest_generation_and_the_collector_runs_again(
        collector: None) -> None:
    table = T.from_python(_rows(T.BULK_MIN))
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert gc.get_count()[0] < 50  # the count was reset: no scan of the table is pending
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(table[0]) in oldest and id(table[-1]) in oldest
    assert list(table[3].items()) == [(T.Keyword("id"), 3), (T.Keyword("name"), "n3"),
                                      (T.Keyword("x"), 1.5)]


def test_a_host_that_froze_objects_keeps_them_frozen(collector: None) -> None:
    keep = [object() for _ in range(3)] + [[1], [2]]
    gc.freeze()
    frozen = gc.get_freeze_count()
    T.from_python(_rows(T.BULK_MIN))
    assert gc.get_freeze_count() == frozen
    assert gc.isenabled()
    del keep


def test_a_paused_collector_stays_paused(collector: None) -> None:
    gc.disable()
    T.from_python(_rows(T.BULK_MIN))
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_cycles_made_during_a_bulk_build_are_still_collected(collector: None) -> None:
    import weakref

    class Node:
        pass

    with T.bulk:
        a, b = Node(), Node()
        a.other, b.other = b, a  # type: ignore[attr-defined]
        ref = weakref.ref(a)
    del a, b
    gc.collect()
    assert ref() is None
