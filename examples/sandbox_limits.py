"""Hard limits: runaway programs end with a precise code, and the sandbox keeps serving.

    python examples/sandbox_limits.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ptclisp
from ptclisp import sandbox

PROGRAMS = {
    "endless loop": "(loop [i 0] (recur (inc i)))",
    "huge vector": "(vec (range 100000000))",
    "deep recursion": "(defn f [n] (+ 1 (f n))) (f 1)",
    "division by zero": "(/ 1 0)",
}


def main() -> None:
    limits = ptclisp.Limits(timeout_s=1.0, max_steps=200_000)
    with sandbox.ProcessPool(size=1, address_space=512 << 20) as pool:
        for name, source in PROGRAMS.items():
            result = pool.run(source, limits=limits)
            print(f"{name:18} -> {result.error.code}: {result.error.message}")
        print("after all that:", pool.run("(+ 1 2)").value)


if __name__ == "__main__":
    main()
