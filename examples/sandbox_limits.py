"""Hard limits: runaway programs end with a precise code, and the sandbox keeps serving.

    python examples/sandbox_limits.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ptclisp
from ptclisp import sandbox

PROGRAMS = {
    "endless loop": "(loop [i 0] (recur (inc i)))",
    "huge vector": "(vec (range 100000000))",
    "deep recursion": "(defn f [n] (+ 1 (f n))) (f 1)",
    "division by zero": "(/ 1 0)",
    # 40 vectors sharing structure: 2**40 leaves for = to walk (charged per element)
    "shared structure": "(let [d (fn [] (loop [x [1] i 0] (if (< i 40) (recur [x x] (inc i)) x)))]"
                        " (= (d) (d)))",
    "big product": "(loop [x 3 i 0] (if (< i 40) (recur (* x x) (inc i)) i))",
    "huge text": '(count (clojure.string/join (apply str (repeat 100000 "x")) (range 10000)))',
    "slow tool": "(tool/slow {})",
}


def slow(args: dict[str, object]) -> int:
    time.sleep(3)  # past the deadline: the run ends with timeout on time, the call is abandoned
    return 1


def main() -> None:
    limits = ptclisp.Limits(timeout_s=1.0, max_steps=200_000)
    with sandbox.ProcessPool(size=1, address_space=512 << 20) as pool:
        for name, source in PROGRAMS.items():
            result = pool.run(source, tools={"slow": slow}, limits=limits)
            print(f"{name:18} -> {result.error.code}: {result.error.message}")
        print("after all that:", pool.run("(+ 1 2)").value)


if __name__ == "__main__":
    main()
