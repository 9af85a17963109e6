"""Two SubAgents run concurrently as runtime processes; their tools run as supervised processes.

Offline: the LLM replies are scripted. The weather agent's tool crashes on its first call; the
tool's supervisor restarts it, the agent's program gets a clear ``tool_crashed`` error, and the
(scripted) LLM retries on its next turn.

Run: python examples/runtime_agents.py
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ptclisp import Tool
from ptclisp import runtime as rt
from ptclisp.subagent import ScriptedLLM, SubAgent

TEMPERATURES = {"oslo": -3.5, "lima": 19.0, "cairo": 24.5}
PRICES = {"ACME": [10.0, 10.5, 11.25], "INITECH": [3.0, 2.5]}
_failed_once = []


def temperature(city: str) -> float:
    """Today's temperature in a city, in °C (the first call hits a bug)."""
    time.sleep(0.1)  # a network call
    if not _failed_once:
        _failed_once.append(city)
        raise ConnectionResetError("weather service dropped the connection")
    return TEMPERATURES[city]


def prices(ticker: str) -> list[float]:
    """Closing prices of a ticker, oldest first."""
    time.sleep(0.1)
    return PRICES[ticker]


def clj(program: str) -> str:
    return f"```clojure\n{program}\n```"


weather = SubAgent(
    name="weather",
    prompt="What is the warmest of {{cities}}?",
    tools=[Tool("temperature", temperature)],
    signature="(cities [:string]) -> {city :string, celsius :float}",
    max_turns=3,
)
weather_llm = ScriptedLLM([
    clj("(def temps (mapv #(tool/temperature {:city %}) data/cities))"),
    clj("(def temps (mapv #(tool/temperature {:city %}) data/cities))\n"
        "(let [[city t] (last (sort-by second (map vector data/cities temps)))]\n"
        "  (return {:city city :celsius t}))"),
])

stocks = SubAgent(
    name="stocks",
    prompt="How much did {{ticker}} change over the period, in percent?",
    tools=[Tool("prices", prices)],
    signature="(ticker :string) -> {ticker :string, change :float}",
    max_turns=2,
)
stocks_llm = ScriptedLLM([
    clj("(let [p (tool/prices {:ticker data/ticker})]\n"
        "  (return {:ticker data/ticker :change (* 100.0 (/ (- (last p) (first p)) (first p)))}))"),
])


def main() -> None:
    with rt.Runtime(max_threads=4) as runtime:
        runs = [
            (rt.supervise_tools(weather, runtime=runtime, timeout=5), weather_llm,
             {"cities": ["oslo", "lima", "cairo"]}),
            (rt.supervise_tools(stocks, runtime=runtime, timeout=5), stocks_llm,
             {"ticker": "ACME"}),
        ]
        started = time.monotonic()
        steps = rt.run_agents(runtime, runs, max_concurrency=2, timeout=30)
        elapsed = time.monotonic() - started
    for (agent, _, _), step in zip(runs, steps):
        print(f"{agent.name}: {step.status} {step.return_value}")
        for turn in step.turns:
            error = f" [{turn.error['code']}] {turn.error['message']}" if turn.error else ""
            print(f"  turn {turn.number}: {turn.status}{error}")
    print(f"both agents finished in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
