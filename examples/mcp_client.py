"""An MCP server's tools in ptclisp programs and in an agent (the [mcp] extra).

    python examples/mcp_client.py

Starts examples/mcp_weather_server.py (written with the MCP SDK) as a subprocess over stdio,
turns its tools into ptclisp tools — signatures from their JSON Schemas — and runs a program and
an agent (offline: a scripted LLM) against them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import ptclisp
from ptclisp.mcp import MCPTools, stdio
from ptclisp.subagent import ScriptedLLM, SubAgent

SERVER = Path(__file__).resolve().parent / "mcp_weather_server.py"

PROGRAM = """
(for [city (tool/cities {})]
  (let [f (tool/forecast {:city city :days 3})]
    [city (apply max (:temps f))]))
"""

REPLY = """```clojure
(return (->> (tool/cities {})
             (map (fn [c]
                    (let [temps (:temps (tool/forecast {:city c :days 3}))]
                      {:city c :avg (/ (reduce + temps) 3.0)})))
             (sort-by :avg >)
             first))
```"""


def main() -> None:
    with MCPTools(stdio(sys.executable, [str(SERVER)])) as weather:
        for t in weather.tools:
            print(f"tool/{t.name} {t.signature_text} — {t.description}")
        result = ptclisp.run(PROGRAM, tools=weather.registry())
        print("program:", ptclisp.pr_str(result.value))
        missing = ptclisp.run('(tool/forecast {:city "Atlantis"})', tools=weather.registry())
        assert missing.error is not None
        print("error:  ", missing.error.code, "-", missing.error.message)
        agent = SubAgent(name="warmest", prompt="Which city will be warmest on average?",
                         tools=weather.registry(), signature="-> {city :string, avg :float}")
        step = agent.run(llm=ScriptedLLM([REPLY]))
        print("agent:  ", step.status, step.return_value)


if __name__ == "__main__":
    main()
