"""ptclisp as a "code mode" MCP tool: the MCP SDK's client calls `run_program` on
`ptclisp mcp serve` (a subprocess over stdio) and reads the language reference resource.

    python examples/mcp_code_mode.py
"""

from __future__ import annotations

import asyncio
import json
import sys

from mcp import Client, StdioServerParameters

TOOLS = json.dumps({"fx-rate": {"rate": 1.1}})
ORDERS = {"orders": [{"id": 1, "usd": 120}, {"id": 2, "usd": 80}, {"id": 3, "usd": 300}]}


async def main() -> None:
    server = StdioServerParameters(command=sys.executable, args=[
        "-m", "ptclisp", "mcp", "serve", "--tools", TOOLS, "--limits", '{"timeout_s": 5}'])
    async with Client(server) as client:
        print("tools:", [t.name for t in (await client.list_tools()).tools])
        reference = await client.read_resource("ptclisp://reference")
        print("reference:", len(reference.contents[0].text), "characters")
        ok = await client.call_tool("run_program", {
            "program": "(let [r (:rate (tool/fx-rate {}))]\n"
                       "  (->> data/orders (filter #(> (:usd %) 100))\n"
                       "       (map #(* r (:usd %))) (reduce +)))",
            "data": ORDERS})
        print("ok:   ", ok.structured_content["status"], ok.structured_content["value"])
        bad = await client.call_tool("run_program", {"program": "(reduce + data/nope)"})
        error = bad.structured_content["error"]
        print("error:", bad.is_error, error["code"], "-", error["message"])


if __name__ == "__main__":
    asyncio.run(main())
