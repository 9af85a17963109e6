"""Calls of program fns (issue 15, branch fib4): each row runs ``ptclisp.run`` on a NEW program
text, next to the same computation in idiomatic Python, batches alternating (``best_pair``).

    python bench/bench_calls.py            # print the table
    python bench/bench_calls.py --quick    # fewer batches

For before/after figures run it in two checkouts' venvs in turn: the machine's speed drifts,
so compare ratios, not milliseconds.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_language import best_pair, table  # noqa: E402

import ptclisp  # noqa: E402

REPEAT = 3 if "--quick" in sys.argv else 7
LIMITS = ptclisp.Limits(max_steps=10**8, timeout_s=600)
_counter = itertools.count()


def ptc(source: str) -> Callable[[], Any]:
    def go() -> Any:
        # a discarded form #_N: a new text in its forms too (a new comment alone would reuse
        # the cached analysis and compiled code)
        result = ptclisp.run(f"{source}\n#_{next(_counter)}", limits=LIMITS)
        assert result.ok, result
        return ptclisp.to_python(result.value)
    return go


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def even_fib(n: int) -> int:
    return n if n < 2 else odd_fib(n - 1) + odd_fib(n - 2)


def odd_fib(n: int) -> int:
    return n if n < 2 else even_fib(n - 1) + even_fib(n - 2)


def square(x: int) -> int:
    return x * x


def inc(x: int) -> int:
    return x + 1


def loop_calling_square() -> int:
    i = acc = 0
    while i < 100_000:
        acc += square(i)
        i += 1
    return acc


ROWS: list[tuple[str, str, Callable[[], Any], int]] = [
    ("naive fib(25)", "(defn fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))) (fib 25)",
     lambda: fib(25), 1),
    ("mutual recursion, fib(22) through two fns",
     ("(defn a [n] (if (< n 2) n (+ (b (- n 1)) (b (- n 2))))) "
      "(defn b [n] (if (< n 2) n (+ (a (- n 1)) (a (- n 2))))) (a 22)"), lambda: even_fib(22), 1),
    ("loop/recur calling a defn 100,000 times",
     ("(defn sq [x] (* x x)) "
      "(loop [i 0 acc 0] (if (< i 100000) (recur (inc i) (+ acc (sq i))) acc))"),
     loop_calling_square, 1),
    ("(reduce + (map f (range 100000))), f a defn",
     "(defn f [x] (+ x 1)) (reduce + (map f (range 100000)))",
     lambda: sum(map(inc, range(100_000))), 3),
    ("(reduce + (map #(* % %) (range 100000)))", "(reduce + (map #(* % %) (range 100000)))",
     lambda: sum(map(square, range(100_000))), 3),
]


def main() -> None:
    rows = []
    for name, source, native, number in ROWS:
        ours = ptc(source)
        assert ours() == native(), name
        rows.append((name, *best_pair(ours, native, repeat=REPEAT, number=number), ""))
    print(table(rows))


if __name__ == "__main__":
    main()
