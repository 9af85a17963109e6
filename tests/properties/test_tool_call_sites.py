"""Issue 15, branch ``calls3``: a tool call whose argument is a map literal of keyword keys
(``(tool/t {:a x :b 1})``) builds the tool's argument dict at its call site instead of the
map (``tool_keys_caller``, ``ToolHost.call_keys``), and a first run's top-level calls run in one
pass (``ToolHost._call_here``). Properties: programs behave exactly as through the general path
(a ``Map`` walked by ``_host_args``, every call through ``_call_anywhere``) — values, errors with
positions, steps, memory, tool-call counts and records, the journal a suspended run keeps, and
the replay of that journal on resume — in every compile mode, near every limit."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ptclisp
from ptclisp import PendingStep, Result
from ptclisp._async.journal import entry_value
from ptclisp._compiler import compiler as _compiler
from ptclisp._compiler import emitter as _emitter
from ptclisp._compiler import source as _source
from ptclisp._tools import host as H

_counter = itertools.count()

# ---------------------------------------------------------------- tools


def _echo(args: dict[str, Any]) -> Any:
    return dict(args)


def _shaped(args: dict[str, Any]) -> Any:
    """Results of every kind, chosen by the argument ``:a`` (or its absence)."""
    a = args.get("a")
    if a == 3:
        raise ValueError("three")
    if a == 4:
        return [{"v": 1}, {"v": 2}]
    if a == 5:
        return "y" * 70
    if a == 6:
        return {"v": "w" * 70, "fresh": 1.5}
    if a == 7:
        return {(1, 2): 1}  # no ptclisp value: a tool error
    if isinstance(a, int) and a > 7:
        return a
    return {"v": a, "n": len(args)}


def _typed_map(a: int, b: str = "-") -> dict[str, Any]:
    """A typed tool whose arguments pass as they are (``Tool._plain_args``)."""
    if a == 3:
        raise ValueError("typed three")
    return {"v": a, "b": b}


def _typed_int(a: int) -> int:
    return "not an int" if a == 2 else a  # type: ignore[return-value]  # a tool's bug


def _tools() -> dict[str, Any]:
    return {"echo": _echo, "shaped": _shaped,
            "typed": ptclisp.Tool("typed", _typed_map),
            "typed-int": ptclisp.Tool("typed-int", _typed_int),
            "slow": ptclisp.Tool("slow", lambda **kw: None, is_async=True,
                                 signature="(i :int) -> :any")}


# ---------------------------------------------------------------- programs

_KEYS = st.sampled_from([":a", ":b", ":ns/c", ":d-e", ":a"])
_VALUES = st.sampled_from([
    "i", "i", "(* i 2)", '"s"', "nil", "true", "2.5", "(str i)", "(apply str (repeat 70 i))",
    "[i]", "{:x i}", ":kw", "(if (odd? i) i \"odd\")", "3", "4", "5", "6", "7", "9",
])
_TOOLS = st.sampled_from(["echo", "shaped", "shaped", "typed", "typed", "typed-int"])


@st.composite
def _calls_of(draw: st.DrawFn) -> str:
    tool = draw(_TOOLS)
    pairs = draw(st.lists(st.tuples(_KEYS, _VALUES), max_size=3))
    if draw(st.booleans()) and pairs:  # a constant map (a Const node, no charge)
        pairs = [(k, v if v.isdigit() or v[0] in '"n' else "1") for k, v in pairs]
    body = " ".join(f"{k} {v}" for k, v in pairs)
    return f"(tool/{tool} {{{body}}})"


_USES = [
    "(loop [i 0 acc []] (if (< i {n}) (recur (inc i) (conj acc {call})) acc))",
    ("(loop [i 0 acc []] (if (< i {n}) (recur (inc i) (conj acc (try {call} "
     "(catch Exception e (ex-message e))))) acc))"),
    "(mapv (fn [i] {call}) (range {n}))",
    "(defn f [i] {call}) (mapv f (range {n}))",
    "(let [i {n}] {call})",
    "(vec (pmap (fn [i] {call}) (range {n})))",
    "(vec (for [i (range {n})] {call}))",
]
_LIMITS = st.sampled_from([
    {"max_steps": 100_000}, {"max_steps": 40}, {"max_steps": 90}, {"max_memory": 3_000},
    {"max_memory": 6_000}, {"max_tool_calls": 2}, {"max_tool_calls": 5}])


@contextmanager
def _general_path(general: bool) -> Iterator[None]:
    """Every tool call through the general path: no keyword-key call sites, no first-run
    pass (``_call_here`` is ``_call_anywhere``)."""
    if not general:
        yield
        return
    with patch.object(_compiler, "keyword_keys", lambda arg: None), \
            patch.object(_emitter, "keyword_keys", lambda arg: None), \
            patch.object(H.ToolHost, "_call_here", H.ToolHost._call_anywhere):
        yield


@contextmanager
def _mode(mode: str) -> Iterator[None]:
    if mode == "hot":  # loops and fns hand over to source after 2 iterations or calls
        with patch.object(_source, "HOT_CALLS", 2), patch.object(_source, "HOT_LOOPS", 2):
            yield
        return
    compile_mode = partial(_compiler.compile_program, source_fns=mode)
    with patch.object(_compiler, "compile_program", compile_mode):
        yield


def _text(source: str, general: bool) -> str:
    """A new text per run, new in its forms (a discarded form: a comment alone would reuse
    the cached analysis and code, so the two paths would share one compile), naming the
    result keys as keywords (so they are cached: small results take ``_small_map``)."""
    return f"[:v :n :fresh :b]\n{source}\n#_{'g' if general else 's'}{next(_counter):09d}"


def _outcome(result: Result | PendingStep) -> Any:
    assert isinstance(result, Result), result
    error = result.error.to_dict() if result.error is not None else None
    return (result.status, ptclisp.pr_str(result.value), error, result.steps, result.memory,
            [(c.name, c.args, c.result, c.error, c.op_id is not None)  # op ids are random
             for c in result.tool_calls])


def _run(source: str, mode: str, limits: dict[str, Any], general: bool) -> Any:
    with _general_path(general), _mode(mode):
        return _outcome(ptclisp.run(_text(source, general), tools=_tools(),
                                    limits=ptclisp.Limits(timeout_s=30, **limits)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=_calls_of(), use=st.sampled_from(_USES), n=st.integers(0, 5), limits=_LIMITS,
       mode=st.sampled_from(["never", "eager", "hot"]))
def test_call_sites_agree_with_the_general_path(call: str, use: str, n: int,
                                                limits: dict[str, Any], mode: str) -> None:
    source = use.format(call=call, n=n)
    assert _run(source, mode, limits, False) == _run(source, mode, limits, True)


# ---------------------------------------------------------------- journal and replay


def _entries(step: PendingStep) -> list[Any]:
    """The journaled calls as a resume reads them (timings and random op ids aside)."""
    restored = ptclisp.deserialize(ptclisp.serialize(step))
    return [(entry["tool"], entry["args"], ptclisp.pr_str(entry_value(entry)), entry["error"],
             entry.get("cost"), entry.get("pos"), entry["op_id"] is not None)
            for entry in restored.journal.calls]


def _drive(source: str, mode: str, general: bool, checkpoints: bool) -> list[Any]:
    tools = _tools()
    seen: list[Any] = []
    with _general_path(general), _mode(mode):
        step = ptclisp.start(_text(source, general), tools=tools,
                             limits=ptclisp.Limits(max_steps=100_000, timeout_s=30))
        while isinstance(step, PendingStep):
            seen.append((step.steps_spent, _entries(step)))
            if not checkpoints:
                step.checkpoint = None  # the resume replays every call from the journal
            step = ptclisp.deserialize(ptclisp.serialize(step))
            op_id = sorted(step.pending_ops)[0]
            step = ptclisp.resume(step, op_id, {"x": 1}, tools=tools)
    seen.append(_outcome(step))
    return seen


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=_calls_of(), use=st.sampled_from(_USES), n=st.integers(0, 4),
       mode=st.sampled_from(["never", "hot"]), checkpoints=st.booleans())
def test_journal_and_replay_agree_with_the_general_path(call: str, use: str, n: int, mode: str,
                                                       checkpoints: bool) -> None:
    """A run that suspends after its calls journals the same entries (args, value, cost,
    error, position) and its resume — replaying them from the journal, then calling on —
    ends the same, through the call sites as through the general path."""
    calls = use.format(call=call, n=n)
    source = (f"(def r {calls})\n(def w (await (tool/slow {{:i 1}})))\n"
              f"[r (:x w) {calls}]")
    assert _drive(source, mode, False, checkpoints) == _drive(source, mode, True, checkpoints)


# ---------------------------------------------------------------- the paths are taken


def test_literal_keyword_maps_take_the_call_site() -> None:
    """The properties compare two paths only if the literal maps reach ``call_keys`` (in
    closures and in a source loop) and the first-run calls ``_call_here``'s one pass."""
    seen: list[str] = []
    real_keys, real_here = H.ToolHost.call_keys, H.ToolHost._execute

    def keys(self: H.ToolHost, *args: Any) -> Any:
        seen.append("keys")
        return real_keys(self, *args)

    def execute(self: H.ToolHost, *args: Any) -> Any:
        seen.append("execute")
        return real_here(self, *args)

    loop = "(loop [i 0 acc 0] (if (< i 5) (recur (inc i) (+ acc (:v (tool/echo {:v i})))) acc))"
    with patch.object(H.ToolHost, "call_keys", keys), \
            patch.object(H.ToolHost, "_execute", execute), _mode("hot"):
        result = ptclisp.run(loop, tools=_tools())
        assert result.value == 10 and seen == ["keys"] * 5, seen
        seen.clear()
        typed = ptclisp.run("(:v (tool/typed {:a 2 :b \"x\"}))", tools=_tools())
        assert typed.value == 2 and seen == ["keys"], seen
        seen.clear()
        general = ptclisp.run("(let [m {:v 1}] (tool/echo m))", tools=_tools())
        assert general.ok and seen == [], seen  # not a literal: the general call
        seen.clear()
        nested = ptclisp.run("(let [i 1] (tool/echo {:v [i]}))", tools=_tools())
        assert nested.ok and seen == ["keys"], seen  # a non-atom: call_keys hands over to call
        seen.clear()
        ptclisp.run("(tool/shaped {:a 4})", tools=_tools())
        assert seen == ["keys"], seen  # a list result: converted by _finish, not _execute
    emitted = []
    real_compile = _source._compiled

    def spy(text: str, name: str) -> Any:
        emitted.append(text)
        return real_compile(text, name)

    with patch.object(_source, "_compiled", spy), _mode("hot"):  # a loop not compiled yet
        assert ptclisp.run(loop.replace("5", "6"), tools=_tools()).value == 15
    assert any("({'v': v1})" in text for text in emitted), emitted  # the dict, no Map


def test_a_small_result_records_the_cost_of_its_strings() -> None:
    """A replay charges the recorded cost: a small result's strings are in it, as the first
    run charged them (the one-pass conversion recorded only the slots before ``calls3``)."""
    tools = _tools()
    source = ('(def ks [:v :fresh])\n(def r (tool/shaped {:a 6}))\n'
              '(def w (await (tool/slow {:i 1})))\n(:fresh r)')
    step = ptclisp.start(source, tools=tools)
    assert isinstance(step, PendingStep)
    (entry,) = [e for e in step.journal.calls if e["tool"] == "shaped"]
    assert entry["cost"] == (1, 56 + 32 * 2 + 70)
    step.checkpoint = None  # replay the call: charged its recorded cost
    replayed = ptclisp.resume(step, sorted(step.pending_ops)[0], {"x": 1}, tools=tools)
    assert isinstance(replayed, Result) and replayed.value == 1.5


@pytest.mark.parametrize("source", [
    "(tool/echo {:a 1 :a 2})", "(tool/echo {:a 1 \"a\" 2})", '(tool/echo {"a" 1})',
    "(tool/echo {:a/b 1 :c 2})", "(tool/echo {})"])
def test_odd_literal_maps_keep_their_meaning(source: str) -> None:
    """Repeated keys, string keys, qualified keys, an empty map: the same arguments (or the
    same error) as through the general path."""
    assert _run(source, "never", {}, False) == _run(source, "never", {}, True)
    assert _run(source, "eager", {}, False) == _run(source, "eager", {}, True)


def _typed_params(a: int, b_c: str = "x", d: float = 0.5, e: bool | None = None) -> None:
    return None


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b_c", "b-c", "d", "e", "f"]),
                       st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-1, 1),
                                 st.text(max_size=2), st.lists(st.integers(), max_size=1)),
                       max_size=5))
def test_plain_typed_arguments_are_what_validate_passes(args: dict[str, Any]) -> None:
    """``Tool._plain_args`` (the one-pass call's check) accepts exactly the arguments that
    ``validate`` passes as they are, and they are the same arguments."""
    from ptclisp._tools.signature import _passed_as_is

    tool = ptclisp.Tool("t", _typed_params)
    passed = _passed_as_is(tool._as_is, args)
    plain = tool._plain_args(args)
    assert (plain is None) == (passed is None)
    if plain is not None:
        assert plain == passed == tool.validate(args)
    model = ptclisp.Tool("m", _typed_params, is_async=True)
    assert model._plain_args(args) is None  # an op start: the general steps
