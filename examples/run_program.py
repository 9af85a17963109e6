"""Run a ptclisp program from Python with tools, data and limits, and read the Result.

    python examples/run_program.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ptclisp

HERE = Path(__file__).resolve().parent


def fx_rate(args: dict[str, str]) -> dict[str, float]:
    """A host tool: called with the program's argument map (string keys)."""
    assert (args["from"], args["to"]) == ("USD", "EUR")
    return {"rate": 1.1}


def main() -> None:
    source = (HERE / "orders.clj").read_text()
    data = json.loads((HERE / "orders.json").read_text())
    result = ptclisp.run(
        source,
        tools={"fx-rate": fx_rate},
        data=data,
        limits=ptclisp.Limits(max_steps=100_000, timeout_s=2.0),
    )
    print("status:", result.status)
    print("value: ", ptclisp.pr_str(result.value))
    print("tools: ", [(c.name, c.args, c.result) for c in result.tool_calls])
    print(f"steps:  {result.steps}, memory: {result.memory} bytes")

    # Errors come back as data, with a position and a hint for the LLM that wrote the program.
    broken = ptclisp.run('(->> data/orders (map :amount) (reduce +) (str/upper-case))',
                         data=data)
    error = broken.error
    assert error is not None
    print(f"error:  {error.code} at {error.line}:{error.column}: {error.message}")
    print(f"hint:   {error.hint}")

    # Parse once, run many: the same program over other data, without reading it again.
    total = ptclisp.compile("(reduce + (map :amount (tool/orders {})))")
    for batch in ([{"amount": 2}, {"amount": 3}], [{"amount": 10}]):
        print("total: ", total.run(tools={"orders": lambda args, b=batch: b}).value)

    # Limits hold: an infinite loop ends with step_limit, never hangs the host.
    looping = ptclisp.run("(loop [i 0] (recur (inc i)))", limits=ptclisp.Limits(max_steps=10_000))
    print("loop:  ", looping.error.code if looping.error else looping.status)


if __name__ == "__main__":
    main()
