"""Issue 11: every resource a program can size is bounded and charged before it is spent.

Hostile inputs for each new guard: walks over shared structure (``=``, hashing, ordering,
printing, the codec), big-integer products, text built from parts, program text, synchronous
tools past the deadline, malformed pending steps and resume results. The cross-tier corpus is in
``tests/hostile``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ptclisp
from ptclisp import Limits, PtclispError, Tool, pr_str
from ptclisp._async.journal import PendingError
from ptclisp._async.pending import (
    _HEADER,
    _MAGIC,
    _SHA256,
    FORMAT_VERSION,
    _digest,
    deserialize,
    serialize,
)
from ptclisp._async.resume import resume, start
from ptclisp._run import _CACHE_MAX_CHARS, SOURCE_BYTES_PER_CHAR, load
from ptclisp._tools import threads
from ptclisp._values.codec import decode, encode
from ptclisp._values.types import Keyword, List, Map, Set, Vector

D = "(loop [x [1] i 0] (if (< i 40) (recur [x x] (inc i)) x))"
D2 = "(loop [x [1] i 0] (if (< i 40) (recur [x x] (inc i)) x))"
SMALL = Limits(timeout_s=2.0, max_steps=200_000, max_memory=16 * 2**20)


def code_of(source: str, limits: Limits = SMALL, **kwargs: Any) -> str:
    result = ptclisp.run(source, limits=limits, **kwargs)
    return "ok" if result.status == "ok" else result.error.code  # type: ignore[union-attr]


# ---------------------------------------------------------------- walks over shared structure


@pytest.mark.parametrize("form", [
    f"(= {D} {D2})", f"(compare {D} {D2})", f"(count (conj #{{{D}}} {D2}))",
    f"(count (distinct [{D} {D2}]))", f"(count (frequencies [{D} {D2}]))",
    f"(count (group-by identity [{D} {D2}]))", f"(contains? #{{{D}}} {D2})",
    f"(count (sort [{D} {D2}]))", f"(count (pr-str {D}))", f"(get {{{D} 1}} {D2})",
    f"(count (set [{{:a {D}}} {{:a {D2}}}]))",
])
def test_walking_shared_structure_is_charged_per_element(form: str) -> None:
    """A step budget spent in ~20 ms, under a clock 1,000x longer: the walk must end with
    step_limit — never timeout, however loaded the machine (an uncharged walk of its 2**40
    leaves would not end in time)."""
    started = time.monotonic()
    assert code_of(form, Limits(timeout_s=20.0, max_steps=20_000, max_memory=16 * 2**20)) \
        == "step_limit"
    assert time.monotonic() - started < 10


def test_equality_of_scalars_and_small_collections_is_unchanged() -> None:
    assert ptclisp.run("[(= 1 1) (= [1 2] '(1 2)) (= {:a [1]} {:a [1]}) (= 1 1.0)]").value == \
        Vector([True, True, True, False])


def test_a_cached_map_hash_charges_the_same_steps_in_every_run() -> None:
    source = "(count (set [{:k [1 2 3] :v {:x [4 5]}} {:k [1 2 3] :v {:x [4 5]}}]))"
    steps = {ptclisp.run(source).steps for _ in range(3)}
    assert len(steps) == 1


def test_printing_a_shared_value_outside_a_run_ends_with_output_limit() -> None:
    result = ptclisp.run(D)
    assert result.ok
    started = time.monotonic()
    with pytest.raises(PtclispError) as info:
        pr_str(result.value)
    assert info.value.code == "output_limit"
    assert time.monotonic() - started < 15
    assert pr_str(Vector([1, "a"])) == '[1 "a"]'  # small values print as before


# ---------------------------------------------------------------- the codec keeps sharing


def test_the_codec_keeps_shared_structure_shared() -> None:
    value = ptclisp.run(D).value
    encoded = encode(value)
    assert len(repr(encoded)) < 2_000
    back = decode(encoded)
    assert back[0] is back[1]


@pytest.mark.parametrize("bad", [
    {"~ref": 0}, {"~ref": -1}, {"~ref": True}, {"~ref": "0"}, [1, {"~ref": 5}],
    {"~m": 3}, {"~l": "x"},
])
def test_malformed_references_are_value_errors(bad: Any) -> None:
    with pytest.raises(ValueError):
        decode(bad)


_atoms = st.one_of(st.integers(), st.text(max_size=300), st.booleans(), st.none(),
                   st.sampled_from([Keyword("a"), Keyword("b", "ns")]))


@st.composite
def _shared_values(draw: st.DrawFn) -> Any:
    pool = [draw(_atoms)]
    for _ in range(draw(st.integers(1, 8))):
        parts = draw(st.lists(st.sampled_from(pool), max_size=4))
        kind = draw(st.sampled_from(["v", "l", "m", "s"]))
        if kind == "v":
            pool.append(Vector(parts))
        elif kind == "l":
            pool.append(List(parts))
        elif kind == "m":
            pool.append(Map(zip([Keyword(f"k{i}") for i in range(len(parts))], parts)))
        else:
            with contextlib.suppress(TypeError):
                pool.append(Set(parts))
    return pool[-1]


@settings(max_examples=200, deadline=None)
@given(_shared_values())
def test_codec_round_trip_with_shared_parts(value: Any) -> None:
    back = decode(encode(value))
    assert back == value
    assert pr_str(back) == pr_str(value)


# ---------------------------------------------------------------- big integers, text


@pytest.mark.parametrize("source", [
    "(loop [x 3 i 0] (if (< i 40) (recur (* x x) (inc i)) i))",
    "(defn sq [x] (* x x)) (loop [x 3 i 0] (if (< i 40) (recur (sq x) (inc i)) i))",
    "(loop [x 3 i 0] (if (< i 40) (recur (apply * [x x]) (inc i)) i))",
    "(count (str (reduce * (range 1 100000))))",
])
def test_big_products_are_charged_before_they_are_computed(source: str) -> None:
    started = time.monotonic()
    assert code_of(source) in ("step_limit", "memory_limit")
    assert time.monotonic() - started < 5


def test_a_product_too_large_for_the_budget_is_refused_up_front() -> None:
    limits = Limits(max_memory=2**20, max_steps=10**9, timeout_s=5)
    source = "(let [x (bit-shift-left 1 64)] (loop [x x i 0] (if (< i 30) (recur (* x x) (inc i)) i)))"
    assert code_of(source, limits) == "memory_limit"


def test_small_and_float_products_are_exact() -> None:
    assert ptclisp.run("[(* 3 4) (* 2.5 2.0) (* 99999999999999999999 3) (* 3 4 5)]").value == \
        Vector([12, 5.0, 299999999999999999997, 60])


@pytest.mark.parametrize("source", [
    '(count (clojure.string/join (apply str (repeat 100000 "x")) (range 1000)))',
    '(count (apply str (repeat 20000 (apply str (repeat 10000 "x")))))',
    '(count (clojure.string/split (apply str (repeat 3000000 "a,")) ","))',
])
def test_text_is_charged_before_it_is_built(source: str) -> None:
    limits = Limits(max_memory=16 * 2**20, timeout_s=5)
    assert code_of(source, limits) == "memory_limit"


# ---------------------------------------------------------------- program text


def test_program_text_is_charged_before_it_is_read() -> None:
    source = "(def a 1)\n" * 800_000
    started = time.monotonic()
    result = ptclisp.run(source, limits=Limits(timeout_s=1))
    assert result.error is not None and result.error.code == "memory_limit"
    assert time.monotonic() - started < 1
    assert result.memory == 0
    assert ptclisp.run("(+ 1 2)").memory >= 7 * SOURCE_BYTES_PER_CHAR


def test_the_analysis_cache_is_bounded_by_source_size() -> None:
    from ptclisp import _run

    for i in range(40):
        load(f"(def x{i} 1)\n" * 9_000)  # 40 distinct 90 KB programs
    assert _run._cache_chars <= _CACHE_MAX_CHARS
    assert sum(len(k[0]) for k in _run._cache) == _run._cache_chars


@pytest.mark.parametrize("source", ["(+ 1 \x00 2)", ":a\x00", "(def a\x00b 1)"])
def test_nul_outside_a_string_is_a_parse_error(source: str) -> None:
    result = ptclisp.run(source)
    assert result.error is not None and result.error.code == "parse_error"
    assert result.error.line == 1 and result.error.column is not None


def test_nul_inside_a_string_is_a_character() -> None:
    assert ptclisp.run('(count "a\x00b")').value == 3


# ---------------------------------------------------------------- synchronous tools


def test_a_tool_running_past_the_deadline_is_abandoned_on_time() -> None:
    finished = threading.Event()

    def slow(args: dict[str, Any]) -> int:
        time.sleep(1.5)
        finished.set()
        return 1

    started = time.monotonic()
    result = ptclisp.run("(tool/slow {})", tools={"slow": slow}, limits=Limits(timeout_s=0.5))
    elapsed = time.monotonic() - started
    assert result.error is not None and result.error.code == "timeout"
    assert elapsed < 1.2
    assert not finished.is_set()  # still running in the background
    assert finished.wait(5)  # ... and it does end; its result is dropped


def test_no_tool_call_starts_after_the_deadline() -> None:
    calls: list[float] = []

    def quick(args: dict[str, Any]) -> int:
        calls.append(time.monotonic())
        time.sleep(0.05)
        return 1

    started = time.monotonic()
    limits = Limits(timeout_s=0.5)
    result = ptclisp.run("(loop [] (tool/quick {}) (recur))", tools={"quick": quick},
                         limits=limits)
    assert result.error is not None and result.error.code == "timeout"
    assert calls and max(calls) <= started + limits.timeout_s + 0.05
    assert time.monotonic() - started < 1.0


def test_tool_errors_and_values_cross_the_worker_thread() -> None:
    def boom(args: dict[str, Any]) -> Any:
        raise RuntimeError("no")

    tools = {"ok": lambda a: a["a"] + 1, "boom": boom}
    assert ptclisp.run("(tool/ok {:a 1})", tools=tools).value == 2
    result = ptclisp.run("(tool/boom {})", tools=tools)
    assert result.error is not None and result.error.code == "tool_error"
    assert "RuntimeError: no" in result.error.message


def test_tool_threads_are_capped() -> None:
    assert threads.MAX_WORKERS <= 64
    assert threads._busy <= threads.MAX_WORKERS


# ---------------------------------------------------------------- pending steps and resume


def _signed_body(body: dict[str, Any]) -> bytes:
    packed = msgpack.packb(body, use_bin_type=True)
    digest = _digest(FORMAT_VERSION, _SHA256, packed, None)
    return _HEADER.pack(_MAGIC, FORMAT_VERSION, _SHA256, digest) + packed


def _pending() -> Any:
    tools = {"phone": Tool("phone", lambda number: None, is_async=True,
                           signature="(number :string)")}
    step = start('(await (tool/phone {:number "1"}))', tools=tools)
    assert step.status == "pending"
    return step, tools


@pytest.mark.parametrize("damage", [
    lambda b: {**b, "journal": {**b["journal"], "calls": [[]]}},
    lambda b: {**b, "data": {"x": {"~ref": 3}}},
    lambda b: {**b, "response": {"~m": [1]}},
    lambda b: {**b, "awaiting": [1]},
    lambda b: {**b, "journal": {"calls": "x"}},
    lambda b: {**b, "journal": {**b["journal"], "calls": [
        {**b["journal"]["calls"][0], "cost": [-1, 5]}]}},
    lambda b: {**b, "journal": {**b["journal"], "calls": [
        {**b["journal"]["calls"][0], "cost": "x"}]}},
    lambda b: {**b, "journal": {**b["journal"], "op_results": [["x", {"value": 1, "cost": [1]}]]}},
])
def test_a_checksummed_but_malformed_body_is_pending_corrupt(damage: Any) -> None:
    step, _ = _pending()
    body = step.to_dict()
    with pytest.raises(PendingError) as info:
        deserialize(_signed_body(damage(body)))
    assert info.value.code == "pending_corrupt"


@pytest.mark.parametrize("key", [b"", bytearray(), "secret", 7])
def test_an_empty_or_non_bytes_key_is_refused(key: Any) -> None:
    step, _ = _pending()
    with pytest.raises(PendingError) as info:
        serialize(step, key=key)
    assert info.value.code == "invalid_args" and "key" in info.value.message
    with pytest.raises(PendingError):
        deserialize(serialize(step), key=key)


def test_resume_with_a_deep_or_self_referential_result_is_a_clean_error() -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    looped: dict[str, Any] = {}
    looped["self"] = looped
    for bad in (deep, looped):
        step, tools = _pending()
        op_id = next(iter(step.pending_ops))
        with pytest.raises(PendingError) as info:
            resume(step, op_id, bad, tools=tools)
        assert info.value.code == "pending_error"


def test_self_referential_data_is_invalid_args() -> None:
    looped: dict[str, Any] = {}
    looped["self"] = looped
    result = ptclisp.run("1", data={"x": looped})
    assert result.error is not None and result.error.code == "invalid_args"


# ---------------------------------------------------------------- host-side rendering


def test_the_cli_reports_a_value_too_large_to_print() -> None:
    import json
    import subprocess
    import sys

    for source in (D, f"(fail {D})"):
        done = subprocess.run([sys.executable, "-m", "ptclisp", "eval", "-"], input=source,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 1
        report = json.loads(done.stderr.strip().splitlines()[-1])
        assert report["code"] == "output_limit"


def test_to_python_and_redact_keep_shared_parts_shared() -> None:
    from ptclisp import to_python
    from ptclisp.host import redact

    value = ptclisp.run(D).value
    plain = to_python(value)
    assert plain[0] is plain[1]
    hidden = redact(value)
    assert hidden[0] is hidden[1]
    assert to_python(ptclisp.run("{:a [1 2] :b #{3}}").value) == {"a": [1, 2], "b": [3]}


def test_agent_feedback_of_a_value_too_large_to_print_is_a_note() -> None:
    from ptclisp.subagent._feedback import result_feedback

    text = result_feedback(ptclisp.run(D).value, "", 3, 2_000)
    assert "cannot be shown" in text


# ---------------------------------------------------------------- host data charged as converted


def test_a_replayed_tool_result_charges_what_converting_it_cost() -> None:
    phone = Tool("phone", lambda number: None, is_async=True, signature="(number :string)")
    rows = [{"id": i, "tags": [i, i]} for i in range(50)]
    tools = {"phone": phone, "rows": lambda args: rows}
    source = '(def r (tool/rows {})) (def a (await (tool/phone {:number "1"}))) [(count r) a]'
    sync = ptclisp.run(source, tools={**tools, "phone": lambda args: {"v": 1}})
    step = start(source, tools=tools)
    assert step.status == "pending"
    assert step.journal.calls[0]["cost"] == (101, 50 * (56 + 64) * 2 + 56 + 32 * 50)
    again = deserialize(serialize(step))  # the cost crosses processes with the journal
    assert again.journal.calls[0]["cost"] == step.journal.calls[0]["cost"]
    (op_id,) = again.pending_ops
    done = resume(again, op_id, {"v": 1}, tools=tools)
    assert done.ok and list(done.value) == [50, Map({Keyword("v"): 1})]
    assert done.steps == sync.steps


def test_an_op_result_too_large_to_deliver_ends_the_run_with_a_limit() -> None:
    shared: Any = [1]
    for _ in range(40):
        shared = [shared, shared]
    step, tools = _pending()
    (op_id,) = step.pending_ops
    started = time.monotonic()
    done = resume(step, op_id, shared, tools=tools)
    assert done.status == "error" and done.error is not None
    assert done.error.code in ("memory_limit", "step_limit", "timeout")
    assert time.monotonic() - started < 8
    with pytest.raises(PendingError):
        resume(step, op_id, 1, tools=tools)


# ---------------------------------------------------------------- regex compilation


@pytest.mark.parametrize("pattern", ["a{1000000000}", "((a{1000}){1000}){1000}", "(ab){60000}",
                                     "[a-z]{100001}", "(?:x{400}|y){300}"])
def test_a_pattern_whose_repeat_counts_unroll_too_far_is_refused_at_once(pattern: str) -> None:
    """The regex engine unrolls ``x{n}`` when it compiles (uninterruptible: a{1000000000} never
    finished): such a pattern is invalid_args before it is compiled."""
    started = time.monotonic()
    result = ptclisp.run(f'(re-find (re-pattern "{pattern}") "a")', limits=SMALL)
    assert result.error is not None and result.error.code == "invalid_args"
    assert "repeat counts" in result.error.message
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(("source", "value"), [
    ('(re-find #"a{3}" "aaaa")', "aaa"), ('(re-find #"(ab){2,}" "ababab")', ["ababab", "ab"]),
    ('(re-find #"x{1,99999999}" "xx")', "xx"),
    ('(count (re-find #"[0-9]{50000}" (apply str (repeat 50000 "7"))))', 50000),
    ('(re-find #"\\{5}" "{5}")', "{5}"), ('(re-find #"[{]{2}" "{{")', "{{"),
])
def test_patterns_with_reasonable_repeat_counts_still_work(source: str, value: Any) -> None:
    result = ptclisp.run(source, limits=SMALL)
    assert result.ok, result.error
    assert ptclisp.to_python(result.value) == value


# ---------------------------------------------------------------- more hostile shapes


def test_a_result_of_shared_sets_renders_at_once() -> None:
    """Ordering a set keys each shared part once: to_dict of 40 levels of ``#{x [x]}`` (never
    ordered during the run) took minutes, key by key."""
    for source in ("(loop [x #{1} i 0] (if (< i 40) (recur #{x [x]} (inc i)) x))",
                   "(loop [x #{1} i 0] (if (< i 40) (recur #{x {:k x}} (inc i)) x))"):
        result = ptclisp.run(source, limits=SMALL)
        assert result.ok, result.error
        started = time.monotonic()
        assert len(repr(result.to_dict())) < 10_000
        assert time.monotonic() - started < 5


def test_keywords_no_one_holds_are_not_kept_after_the_run() -> None:
    """Keywords are interned weakly: a program's (or a tool's) 110,000 new keywords do not stay
    in the host's memory once the run is over (only the bounded lookup cache keeps some)."""
    import gc

    from ptclisp._values.types import KEYWORD_CACHE

    def live() -> int:
        return sum(1 for ref in list(Keyword._table.values()) if ref() is not None)

    before = live()
    source = '(count (doall (map #(keyword (str "lim3-kw-" %)) (range 110000))))'
    assert ptclisp.run(source, limits=Limits(max_steps=10**7, timeout_s=60)).value == 110_000
    rows = {f"lim3-key-{i}": i for i in range(110_000)}
    assert ptclisp.run("(count (tool/t {}))", tools={"t": lambda args: rows},
                       limits=Limits(max_memory=2**30, timeout_s=60)).value == 110_000
    # (a tool worker holds its last call's journal entry until its next call)
    assert ptclisp.run("(tool/t {})", tools={"t": lambda args: 1}).value == 1
    gc.collect()
    assert live() - before <= 100_000 + 1_000  # at most what the lookup cache holds
    kept = Keyword("lim3-kept")
    assert Keyword("lim3-kept") is kept and Keyword.parse("lim3-kept") is kept
    assert len(KEYWORD_CACHE) <= 100_000


@pytest.mark.parametrize("source", ["(count (str data/x))", "(count (pr-str data/x))"])
def test_printing_a_huge_integer_is_charged_before_it_is_converted(source: str) -> None:
    """Decimal conversion of a million-digit integer is one quadratic C call (~9 s): charged in
    steps up front, and refused at once by the clock when it could not finish in time."""
    huge = 10**1_000_000
    started = time.monotonic()
    by_steps = ptclisp.run(source, data={"x": huge}, limits=Limits(timeout_s=1))
    assert by_steps.error is not None and by_steps.error.code == "step_limit"
    by_clock = ptclisp.run(source, data={"x": huge},
                           limits=Limits(timeout_s=1, max_steps=10**12))
    assert by_clock.error is not None and by_clock.error.code == "timeout"
    assert "would take" in by_clock.error.message
    assert time.monotonic() - started < 1.5  # neither conversion ran
    small = ptclisp.run(source, data={"x": 10**5000 + 1}, limits=Limits(timeout_s=1))
    assert small.value == 5001


@pytest.mark.parametrize("op", ["quot", "rem", "mod", "/"])
def test_dividing_huge_integers_is_charged_before_it_is_computed(op: str) -> None:
    """A 2-million-digit number divided by a 700,000-digit one is ~19 s of one C call: charged
    up front in steps, and refused at once by the clock when it could not end in time."""
    data = {"a": 10**2_000_000, "b": 7**800_000 + 1}
    source = f"({op} data/a data/b) 1"
    started = time.monotonic()
    by_steps = ptclisp.run(source, data=data, limits=Limits(timeout_s=1))
    assert by_steps.error is not None and by_steps.error.code == "step_limit"
    by_clock = ptclisp.run(source, data=data, limits=Limits(timeout_s=1, max_steps=10**12))
    assert by_clock.error is not None and by_clock.error.code == "timeout"
    assert time.monotonic() - started < 1.5  # no division ran
    assert ptclisp.run(f"({op} data/a 8)", data=data).ok  # a small divisor: linear, allowed


@given(st.integers(), st.integers().filter(bool))
def test_rem_keeps_the_sign_of_the_dividend(x: int, y: int) -> None:
    want = abs(x) % abs(y) * (1 if x >= 0 else -1)
    assert ptclisp.run("(rem data/x data/y)", data={"x": x, "y": y}).value == want
    assert want == x - y * int(ptclisp.run("(quot data/x data/y)",
                                           data={"x": x, "y": y}).value)
