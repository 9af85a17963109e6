"""Hostile input to the MCP entry points: run_program arguments and programs, `mcp serve`
command lines, a server whose tools misbehave."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest
from mcp import Client

from ptclisp.mcp import build_server

SERVER = build_server({"echo": lambda args: args}, limits={"max_steps": 20_000, "timeout_s": 2,
                                                          "max_output": 1000})


def call(arguments: dict[str, Any]) -> Any:
    async def main() -> Any:
        async with Client(SERVER) as client:
            return await client.call_tool("run_program", arguments)

    return asyncio.run(main())


@pytest.mark.parametrize("arguments", [{}, {"program": 5}, {"program": "1", "data": [1, 2]},
                                       {"program": None}, {"data": {}}])
def test_bad_arguments_are_tool_errors(arguments: dict[str, Any]) -> None:
    result = call(arguments)
    assert result.is_error
    assert "validation" in result.content[0].text.lower() or "program" in result.content[0].text


@pytest.mark.parametrize(("program", "code"), [
    ("(" * 5000, "parse_error"),
    ("(defn f [n] (f (inc n))) (f 0)", "depth_limit"),
    ("(loop [] (recur))", "step_limit"),
    ('(dotimes [i 1000] (println "xxxxxxxxxxxxxxxxxxxx"))', "output_limit"),
    ('(tool/nope {})', "tool_not_found"),
    ("\x00\x01(+ 1", "parse_error"),
])
def test_hostile_programs_end_with_their_error_code(program: str, code: str) -> None:
    result = call({"program": program})
    assert result.is_error and result.structured_content["error"]["code"] == code


def test_values_that_are_not_data_come_back_printed() -> None:
    result = call({"program": "(fn [x] x)"})
    assert not result.is_error and result.structured_content["value"].startswith("#function")
    echoed = call({"program": '(tool/echo {:a [1 "b" nil]})'})
    assert echoed.structured_content["value"] == {"a": [1, "b", None]}


@pytest.mark.parametrize("args", [
    ("mcp",), ("mcp", "nope"), ("mcp", "serve", "--port", "0"), ("mcp", "serve", "--port", "x"),
    ("mcp", "serve", "--registry", "no_such_module_xyz:reg"),
    ("mcp", "serve", "--registry", "json:dumps"), ("mcp", "serve", "--limits", '{"max_steps": 0}'),
])
def test_bad_mcp_serve_command_lines_exit_2(args: tuple[str, ...]) -> None:
    done = subprocess.run([sys.executable, "-m", "ptclisp", *args], capture_output=True,
                          text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1 and "error: " in done.stderr


def test_serve_a_registry_module_by_name(tmp_path: Any) -> None:
    import os

    from mcp import StdioServerParameters

    (tmp_path / "shop_tools.py").write_text(
        "from ptclisp import ToolRegistry\n"
        "registry = ToolRegistry()\n\n"
        "@registry.register\n"
        "def price(sku: str) -> float:\n"
        "    \"\"\"The price of a product.\"\"\"\n"
        "    return {'desk': 240.0}.get(sku, 0.0)\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    server = StdioServerParameters(command=sys.executable, env=env, args=[
        "-m", "ptclisp", "mcp", "serve", "--registry", "shop_tools:registry"])

    async def main() -> Any:
        async with Client(server) as client:
            result = await client.call_tool("run_program", {
                "program": '(* 2 (tool/price {:sku "desk"}))'})
            docs = await client.read_resource("ptclisp://tools")
        return result, docs.contents[0].text

    result, docs = asyncio.run(main())
    assert result.structured_content["value"] == 480.0
    assert "tool/price (sku :string) -> :float — The price of a product." in docs
