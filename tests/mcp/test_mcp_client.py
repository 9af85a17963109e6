"""The MCP client against a real SDK server: over stdio (a subprocess) and streamable HTTP."""

from __future__ import annotations

import sys

import pytest
from conftest import SDK_SERVER

import ptclisp
from ptclisp import ToolError
from ptclisp.mcp import MCPTools, stdio

PROGRAM = """
[(tool/forecast {:city "Oslo" :days 2})
 (tool/add {:a 40 :b 2})
 (tool/shout {:text "hi"})]
"""


def check_tools(mcp: MCPTools) -> None:
    by_name = {t.name: t for t in mcp.tools}
    assert set(by_name) >= {"w-forecast", "w-add", "w-shout", "w-explode"}
    assert by_name["w-forecast"].signature_text == "(city :string, days :int?) -> :map"
    assert by_name["w-add"].signature_text == "(a :int, b :int) -> :int"
    assert by_name["w-forecast"].description == "The forecast for a city."
    result = ptclisp.run(PROGRAM.replace("tool/", "tool/w-"), tools=mcp.registry())
    assert result.status == "ok", result.error
    assert ptclisp.pr_str(result.value) == \
        '[{:city "Oslo", :days 2, :temps [10 11]} 42 "HI"]'
    failed = ptclisp.run('(tool/w-explode {:reason "boom"})', tools=mcp.registry())
    assert failed.error is not None and failed.error.code == "tool_error"
    assert "exploded: boom" in failed.error.message
    bad = ptclisp.run('(tool/w-add {:a "one" :b 2})', tools=mcp.registry())
    assert bad.error is not None and bad.error.code == "invalid_args"  # checked before the call


def test_tools_of_an_sdk_server_over_stdio() -> None:
    with MCPTools(stdio(sys.executable, [str(SDK_SERVER)]), prefix="w-") as mcp:
        check_tools(mcp)
        assert mcp.call("add", {"a": 1, "b": 1}, unwrap=True) == 2
    with pytest.raises(ToolError, match="closed"):
        mcp.call("add", {"a": 1, "b": 1})


def test_tools_of_an_sdk_server_over_streamable_http(sdk_http_server: str) -> None:
    with MCPTools(sdk_http_server, prefix="w-") as mcp:
        check_tools(mcp)


def test_concurrent_runs_share_one_connection(sdk_http_server: str) -> None:
    import concurrent.futures

    with MCPTools(sdk_http_server) as mcp:
        registry = mcp.registry()

        def one(i: int) -> object:
            return ptclisp.run(f"(tool/add {{:a {i} :b 1}})", tools=registry).value

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            assert sorted(pool.map(one, range(8))) == list(range(1, 9))


def test_an_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(ToolError, match="cannot connect to the MCP server"):
        MCPTools(stdio(sys.executable, ["-c", "import sys; sys.exit(3)"]), timeout_s=20)


def test_a_bad_prefix_names_the_argument() -> None:
    with pytest.raises(ptclisp.HostInputError, match="prefix: expected a string"):
        MCPTools("http://127.0.0.1:1/mcp", prefix=3)  # type: ignore[arg-type]
