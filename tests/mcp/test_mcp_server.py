"""``ptclisp mcp serve`` called by the SDK's own client, over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest
from conftest import start, stop
from mcp import Client, StdioServerParameters

from ptclisp.mcp import build_server

TOOLS = json.dumps({"rate": {"eur": 2}})
SERVE = ["-m", "ptclisp", "mcp", "serve", "--tools", TOOLS, "--limits", '{"max_steps": 5000}']


async def exercise(server: Any) -> dict[str, Any]:
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        ok = await client.call_tool("run_program", {
            "program": "(* (:eur (tool/rate {})) (reduce + data/xs))", "data": {"xs": [1, 2, 3]}})
        printed = await client.call_tool("run_program", {"program": '(println "hi") :done'})
        broken = await client.call_tool("run_program", {"program": "(+ 1 nil)"})
        looping = await client.call_tool("run_program", {"program": "(loop [] (recur))"})
        failing = await client.call_tool("run_program", {"program": "(fail {:why 1})"})
        hostile = await client.call_tool("run_program", {"program": "(((("})
        resources = {str(r.uri) for r in (await client.list_resources()).resources}
        reference = await client.read_resource("ptclisp://reference")
        tool_docs = await client.read_resource("ptclisp://tools")
    return {"tools": tools, "ok": ok, "printed": printed, "broken": broken,
            "looping": looping, "failing": failing, "hostile": hostile,
            "resources": resources, "reference": reference.contents[0].text,
            "tool_docs": tool_docs.contents[0].text}


def check(seen: dict[str, Any]) -> None:
    run_program = seen["tools"]["run_program"]
    assert set(run_program.input_schema["properties"]) == {"program", "data"}
    assert run_program.input_schema["required"] == ["program"]
    ok = seen["ok"]
    assert not ok.is_error and ok.structured_content["value"] == 12
    assert ok.structured_content["status"] == "ok" and ok.content[0].text == "12"
    printed = seen["printed"].structured_content
    assert printed["output"] == "hi\n" and printed["value"] == "done"  # keywords go as names
    broken = seen["broken"]
    assert broken.is_error and broken.structured_content["error"]["code"] == "type_error"
    assert broken.structured_content["error"]["hint"]
    assert seen["looping"].structured_content["error"]["code"] == "step_limit"  # --limits held
    failing = seen["failing"]
    assert failing.is_error and failing.structured_content["status"] == "failed"
    assert failing.structured_content["value"] == {"why": 1}
    assert seen["hostile"].structured_content["error"]["code"] == "parse_error"
    assert seen["resources"] == {"ptclisp://reference", "ptclisp://tools"}
    assert "Special forms:" in seen["reference"] and "reduce" in seen["reference"]
    assert "tool/rate" in seen["tool_docs"]


def test_the_sdk_client_calls_run_program_over_stdio() -> None:
    server = StdioServerParameters(command=sys.executable, args=SERVE)
    check(asyncio.run(exercise(server)))


def test_the_sdk_client_calls_run_program_over_streamable_http() -> None:
    proc, port = start(SERVE)
    try:
        check(asyncio.run(exercise(f"http://127.0.0.1:{port}/mcp")))
    finally:
        stop(proc)


def test_build_server_in_process_with_a_registry() -> None:
    from ptclisp import tool

    @tool
    def double(n: int) -> int:
        """Double a number."""
        return 2 * n

    server = build_server([double], data={"n": 4}, limits={"timeout_s": 5})

    async def main() -> Any:
        async with Client(server) as client:
            result = await client.call_tool("run_program", {"program": "(tool/double {:n data/n})"})
            docs = await client.read_resource("ptclisp://tools")
        return result, docs.contents[0].text

    result, docs = asyncio.run(main())
    assert result.structured_content["value"] == 8
    assert "tool/double (n :int) -> :int — Double a number." in docs


def test_build_server_checks_its_arguments() -> None:
    from ptclisp import HostInputError

    with pytest.raises(HostInputError, match="limits: "):
        build_server({}, limits=3)  # type: ignore[arg-type]
