"""Replay under concurrent ``pmap``: whatever order calls complete in — in the first run and in
every resume — each logical call is executed once and the final value holds exactly the results
the tools gave, item by item (hypothesis draws the completion orders)."""

from __future__ import annotations

import collections
import itertools
import random
import threading
import time
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import ptclisp
from ptclisp.runtime import parallel_map

PROGRAM = """
(let [rs (pmap (fn [x]
                 (let [a (tool/f {:x x})
                       r (await (tool/op {:x x}))
                       b (tool/f {:x (+ x 100)})]
                   [x a r b]))
               data/xs)]
  {:rs rs :after (tool/f {:x -1})})
"""


class World:
    """Tools whose answers depend on call order (a global sequence), logged per call."""

    def __init__(self) -> None:
        self.seq = itertools.count()
        self.lock = threading.Lock()
        self.f_calls: dict[int, list[int]] = collections.defaultdict(list)
        self.ops: dict[str, int] = {}

    def tools(self) -> dict[str, Any]:
        def f(args: dict[str, Any]) -> int:
            with self.lock:
                n = next(self.seq)
                self.f_calls[args["x"]].append(n)
            return n

        def op(**args: Any) -> str:
            with self.lock:
                op_id = f"op-{next(self.seq)}"
                self.ops[op_id] = args["x"]
            return op_id

        return {"f": f, "op": ptclisp.Tool("op", op, signature="(x :int) -> :any",
                                           is_async=True)}


def shuffled(rng: random.Random) -> Any:
    """A parallel_map completing items in a random order (one at a time)."""

    def run(fn: Any, items: list[Any], max_concurrency: int) -> list[Any]:
        items = list(items)
        order = list(range(len(items)))
        rng.shuffle(order)
        results: list[Any] = [None] * len(items)
        for index in order:
            results[index] = fn(items[index])
        return results

    return run


def threaded(rng: random.Random) -> Any:
    """Real threads whose tool calls finish after random small delays."""

    def run(fn: Any, items: list[Any], max_concurrency: int) -> list[Any]:
        delays = [rng.random() * 0.002 for _ in items]

        def slow(pair: Any) -> Any:
            time.sleep(delays[pair[0]])
            return fn(pair[1])

        return parallel_map(slow, list(enumerate(items)), max_concurrency)

    return run


@settings(max_examples=40, deadline=None)
@given(xs=st.lists(st.integers(0, 4), min_size=1, max_size=6),
       seed=st.integers(0, 2**32), use_threads=st.booleans(),
       pick=st.lists(st.integers(0, 10), min_size=30, max_size=30))
def test_replay_is_order_independent(xs: list[int], seed: int, use_threads: bool,
                                     pick: list[int]) -> None:
    rng = random.Random(seed)
    world = World()
    tools = world.tools()

    def pmap_now() -> Any:
        return (threaded if use_threads else shuffled)(rng)

    outcome = ptclisp.start(PROGRAM, tools=tools, data={"xs": xs}, parallel_map=pmap_now())
    rounds = 0
    while isinstance(outcome, ptclisp.PendingStep):
        rounds += 1
        assert rounds <= 3 * len(xs) + 2
        awaiting = sorted(outcome.awaiting)
        op_id = awaiting[pick[rounds % len(pick)] % len(awaiting)]
        outcome = ptclisp.resume(ptclisp.deserialize(ptclisp.serialize(outcome)), op_id,
                                 {"for": op_id}, tools=tools, parallel_map=pmap_now())
    assert outcome.status == "ok", outcome.error
    value = ptclisp.to_python(outcome.value)
    # exactly once: two f calls per item and one at the end, one op per item
    assert sum(map(len, world.f_calls.values())) == 2 * len(xs) + 1
    assert sorted(world.ops.values()) == sorted(xs)
    # the value holds what the tools really answered, each answer used exactly once
    answered = collections.Counter((x, n) for x, ns in world.f_calls.items() for n in ns)
    used = collections.Counter()
    for x, a, r, b in value["rs"]:
        used[(x, a)] += 1
        used[(x + 100, b)] += 1
        assert world.ops[r["for"]] == x
    used[(-1, value["after"])] += 1
    assert used == answered
    assert len({r["for"] for _, _, r, _ in value["rs"]}) == len(xs)  # one op per item


FORMS = """
(def pre (pmap (fn [x] (tool/f {:x x})) data/xs))
(def r1 (await (tool/op {:x 99})))
(def mid (pmap (fn [x] (tool/f {:x (+ x 10)})) data/xs))
(def r2 (await (tool/op {:x 98})))
(def post (pmap (fn [x] (tool/f {:x (+ x 20)})) data/xs))
{:pre pre :mid mid :post post}
"""


@settings(max_examples=25, deadline=None)
@given(xs=st.lists(st.integers(0, 3), min_size=1, max_size=5), seed=st.integers(0, 2**32))
def test_checkpointed_resumes_keep_pmap_positions(xs: list[int], seed: int) -> None:
    """Resumes skip finished top-level forms (checkpoints); the pmaps after them still get the
    positions of the first run: every call once, each item its own answer."""
    rng = random.Random(seed)
    world = World()
    tools = world.tools()
    step = ptclisp.start(FORMS, tools=tools, data={"xs": xs}, parallel_map=shuffled(rng))
    for _ in range(2):
        assert isinstance(step, ptclisp.PendingStep)
        assert step.checkpoint is not None and step.checkpoint["cursor"][1] >= 1
        (op_id,) = step.awaiting
        step = ptclisp.resume(ptclisp.deserialize(ptclisp.serialize(step)), op_id, {"ok": 1},
                              tools=tools, parallel_map=shuffled(rng))
    assert step.status == "ok", step.error
    value = ptclisp.to_python(step.value)
    assert sum(map(len, world.f_calls.values())) == 3 * len(xs)
    for key, offset in (("pre", 0), ("mid", 10), ("post", 20)):
        for x, answer in zip(xs, value[key]):
            assert answer in world.f_calls[x + offset]
