"""Tools and the tool host, driven directly (no evaluator): signatures, validation, errors,
``async def`` tools, op handles, journal replay and the await semantics."""

import asyncio
import threading

import pydantic
import pytest

from ptclisp._async.journal import Journal
from ptclisp._errors import EvalError, LimitExceeded, ToolError
from ptclisp._limits import Limits, Meter, use_meter
from ptclisp._tools.host import OpHandle, Suspend, ToolHost
from ptclisp._tools.registry import Tool, ToolRegistry, tool
from ptclisp._values.types import Keyword, List, Map, Vector


def kw_map(**items):
    return Map((Keyword(k.replace("_", "-")), v) for k, v in items.items())


@pytest.fixture(autouse=True)
def meter():
    with use_meter(Meter(Limits(timeout_s=10))) as m:
        yield m


# ---------------------------------------------------------------- Tool and signatures


def test_signature_from_type_hints_and_description_from_docstring():
    @tool
    def get_orders(customer_id: int, status: str | None = None, limit: int = 10) -> list[dict]:
        """Orders of one customer.

        Longer text that is not part of the description.
        """
        return []

    assert get_orders.name == "get-orders"
    assert get_orders.signature_text == "(customer_id :int, status :string?, limit :int?) -> [:map]"
    assert get_orders.description == "Orders of one customer."


def test_pydantic_model_parameter_gets_a_model_instance():
    class Query(pydantic.BaseModel):
        text: str
        limit: int = 5

    seen = []

    @tool
    def search(q: Query) -> list[str]:
        seen.append(q)
        return [q.text] * q.limit

    assert search.signature_text == "(text :string, limit :int?) -> [:string]"
    host = ToolHost({"search": search})
    assert host.call("search", kw_map(text="x", limit=2)) == Vector(["x", "x"])
    assert isinstance(seen[0], Query)


def test_string_signature_validates_before_the_call():
    calls = []
    sig = "(query :string, limit :int?) -> :map"
    t = Tool("find", lambda **kw: calls.append(kw) or kw, signature=sig)
    host = ToolHost({"find": t})
    with pytest.raises(ToolError) as info:
        host.call("find", kw_map(limit="3"))
    assert info.value.code == "invalid_args"
    assert "query: missing" in info.value.message
    assert "limit: expected an integer" in info.value.message
    assert info.value.hint == "tool/find takes (query :string, limit :int?) -> :map"
    assert calls == []
    assert host.call("find", kw_map(query="a")) == kw_map(query="a")


def test_kebab_case_keys_reach_snake_case_parameters():
    @tool
    def lookup(customer_id: int) -> int:
        return customer_id * 2

    assert ToolHost({"lookup": lookup}).call("lookup", kw_map(customer_id=21)) == 42


def test_registry_describes_its_tools_and_refuses_duplicates():
    reg = ToolRegistry()

    @reg.register
    def ping() -> str:
        """Answer pong."""
        return "pong"

    @reg.register(is_async=True, name="call-phone")
    def call(number: str) -> None:
        """Place a phone call."""

    assert list(reg) == ["ping", "call-phone"] and len(reg) == 2
    assert reg.describe().splitlines() == [
        "tool/ping () -> :string — Answer pong.",
        ("tool/call-phone (number :string) -> :any? [async: returns a handle, use await]"
         " — Place a phone call."),
    ]
    with pytest.raises(Exception) as info:
        reg.add(Tool("ping", ping.fn))
    assert "already registered" in str(info.value)


# ---------------------------------------------------------------- host errors


def test_unknown_tool_suggests_the_closest_name():
    host = ToolHost({"get-orders": lambda a: 1, "get-users": lambda a: 2})
    with pytest.raises(ToolError) as info:
        host.call("get-order", None)
    assert info.value.code == "tool_not_found"
    assert info.value.hint.startswith("did you mean tool/get-orders? available tools:")


def test_tool_exception_becomes_tool_error_with_its_message():
    def boom(args):
        raise ValueError("no such customer")

    with pytest.raises(ToolError) as info:
        ToolHost({"boom": boom}).call("boom", None)
    assert info.value.code == "tool_error"
    assert "ValueError: no such customer" in info.value.message


def test_plain_callable_gets_one_dict_and_nil_means_no_arguments():
    got = []
    host = ToolHost({"t": lambda args: got.append(args) or len(got)})
    assert host.call("t", None) == 1
    assert host.call("t", kw_map(a_b=Vector([1, Keyword("x")]))) == 2
    assert got == [{}, {"a-b": [1, "x"]}]
    with pytest.raises(ToolError) as info:
        host.call("t", Vector([1]))
    assert info.value.code == "invalid_args"


def test_calls_are_recorded_with_results_errors_and_the_meter_counts_them(meter):
    host = ToolHost({"ok": lambda a: {"x": 1}, "bad": lambda a: 1 / 0})
    host.call("ok", None)
    with pytest.raises(ToolError):
        host.call("bad", None)
    assert [c.name for c in host.calls] == ["ok", "bad"]
    assert host.calls[0].result == {"x": 1} and host.calls[1].error["code"] == "tool_error"
    assert meter.tool_calls == 2


# ---------------------------------------------------------------- async def tools


async def doubled(x: int) -> int:
    await asyncio.sleep(0.001)
    return 2 * x


def test_async_def_tool_runs_to_completion():
    assert ToolHost({"d": Tool("d", doubled)}).call("d", kw_map(x=21)) == 42
    assert ToolHost({"d": lambda a: doubled(a["x"])}).call("d", kw_map(x=4)) == 8


def test_async_def_tool_from_code_running_inside_an_event_loop():
    async def main():  # the interpreter called synchronously from async code
        return ToolHost({"d": Tool("d", doubled)}).call("d", kw_map(x=5))

    assert asyncio.run(main()) == 10


def test_async_def_tool_on_the_application_loop_in_another_thread():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:

        async def where() -> bool:
            return asyncio.get_running_loop() is loop

        assert ToolHost({"w": Tool("w", where, loop=loop)}).call("w", None) is True
        assert ToolHost({"w": Tool("w", where)}, loop=loop).call("w", None) is True
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def test_async_def_tool_on_the_loop_running_the_program_is_a_clear_error():
    async def main():
        loop = asyncio.get_running_loop()
        with pytest.raises(ToolError) as info:
            ToolHost({"d": Tool("d", doubled)}, loop=loop).call("d", kw_map(x=1))
        return info.value.hint

    assert "worker thread" in asyncio.run(main())


def test_slow_async_def_tool_hits_the_run_deadline():
    async def forever() -> None:
        await asyncio.sleep(60)

    with use_meter(Meter(Limits(timeout_s=0.2))):
        with pytest.raises(LimitExceeded) as info:
            ToolHost({"f": Tool("f", forever)}).call("f", None)
    assert info.value.code == "timeout"


# ---------------------------------------------------------------- op handles and await


def phone_tool(started):
    @tool(is_async=True)
    def phone(number: str) -> None:
        started.append(number)

    return phone


def test_async_tool_returns_a_handle_and_await_suspends():
    started = []
    host = ToolHost({"phone": phone_tool(started)})
    handle = host.call("phone", kw_map(number="555"))
    assert isinstance(handle, OpHandle) and repr(handle) == f'#op["{handle.op_id}"]'
    assert started == ["555"]
    assert host.pending_ops() == {handle.op_id: {"tool": "phone", "args": {"number": "555"}}}
    with pytest.raises(Suspend) as info:
        host.await_(handle)
    assert info.value.op_ids == (handle.op_id,) and host.awaiting == (handle.op_id,)
    assert host.calls[0].op_id == handle.op_id


def test_start_function_may_choose_the_op_id():
    host = ToolHost({"p": Tool("p", lambda: "call-77", is_async=True)})
    assert host.call("p", None) == OpHandle("call-77", "p")
    with pytest.raises(ToolError):
        host.call("p", None)  # the same id twice


def test_await_of_a_plain_value_returns_it():
    host = ToolHost({})
    assert host.await_(5) == 5
    assert host.await_all(Vector([1, 2])) == Vector([1, 2])
    assert host.await_any(List([3, 4])) == 3
    with pytest.raises(EvalError) as info:
        host.await_any(Vector())
    assert info.value.code == "invalid_args"
    with pytest.raises(EvalError) as info:
        host.await_all(7)
    assert info.value.code == "type_error"


def test_replay_answers_from_the_journal_without_calling():
    calls = []
    tools = {"count": lambda a: calls.append(a) or len(calls), "phone": phone_tool([])}
    first = ToolHost(tools)
    assert first.call("count", kw_map(n=1)) == 1
    handle = first.call("phone", kw_map(number="1"))
    journal = first.journal
    journal.op_results[handle.op_id] = {"value": "answered"}
    again = ToolHost(tools, journal=journal)
    assert again.call("count", kw_map(n=1)) == 1
    assert again.call("phone", kw_map(number="1")) == handle
    assert again.await_(handle) == "answered"
    assert again.call("count", kw_map(n=2)) == 2  # past the journal: a real call
    assert len(calls) == 2
    assert [c.result for c in again.calls] == [1, "answered", 2]


def test_replayed_errors_are_raised_again_not_re_executed():
    calls = []

    def flaky(args):
        calls.append(1)
        raise RuntimeError("down")

    first = ToolHost({"f": flaky})
    with pytest.raises(ToolError):
        first.call("f", None)
    with pytest.raises(ToolError) as info:
        ToolHost({"f": flaky}, journal=first.journal).call("f", None)
    assert "down" in info.value.message and len(calls) == 1


def test_await_all_and_await_any_follow_delivery_order():
    host = ToolHost({"p": Tool("p", lambda: None, is_async=True)})
    a, b = host.call("p", None), host.call("p", None)
    with pytest.raises(Suspend) as info:
        host.await_all(Vector([a, b]))
    assert info.value.op_ids == (a.op_id, b.op_id)
    host.journal.op_results[b.op_id] = {"value": "B"}
    with pytest.raises(Suspend) as info:
        host.await_all(Vector([a, b]))
    assert info.value.op_ids == (a.op_id,)
    assert host.await_any(Vector([a, b])) == "B"
    host.journal.op_results[a.op_id] = {"error": ToolError("line busy").to_dict()}
    assert host.await_any(Vector([a, b])) == "B"  # B was delivered first
    with pytest.raises(ToolError) as err:
        host.await_all(Vector([a, b]))
    assert err.value.message == "line busy"


def test_journal_pending_ops_exclude_delivered():
    j = Journal(
        calls=[
            {"tool": "p", "args": {}, "value": None, "error": None, "op_id": "x"},
            {"tool": "p", "args": {}, "value": None, "error": None, "op_id": "y"},
        ],
        op_results={"x": {"value": 1}},
    )
    assert j.pending_ops() == {"y": {"tool": "p", "args": {}}}
