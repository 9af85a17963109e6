"""Core library under the meter: huge requests fail fast, infinite seqs hit a limit, work is
charged, and the registry documents every builtin the spec lists."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from ptclisp._core import BUILTINS, DOCS
from ptclisp._errors import LimitExceeded
from ptclisp._limits import Limits, Meter, use_meter
from ptclisp._values.types import Keyword, Vector

K = Keyword
SMALL = Limits(max_steps=200_000, max_memory=8 * 2**20, timeout_s=10.0)


def limit_code(fn: Any, *args: Any, limits: Limits = SMALL) -> str:
    with use_meter(Meter(limits)):
        with pytest.raises(LimitExceeded) as e:
            fn(*args)
    return e.value.code


def call(name: str, *args: Any) -> Any:
    return BUILTINS[name](*args)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("range", (10**8,)),
        ("repeat", (10**8, K("x"))),
        ("range", (0, 10**12, 3)),
    ],
)
def test_huge_requests_fail_fast_with_memory_limit(name: str, args: tuple[Any, ...]) -> None:
    started = time.monotonic()
    assert limit_code(BUILTINS[name], *args) == "memory_limit"
    assert time.monotonic() - started < 1.0  # refused before building anything


def test_huge_strings_are_refused() -> None:
    big = "x" * 100_000
    assert limit_code(call, "clojure.string/replace", big, "x", big) == "memory_limit"
    limits = Limits(max_memory=2**20)
    assert limit_code(call, "format", "%900000d|%900000d", 1, 2, limits=limits) == "memory_limit"


@pytest.mark.parametrize(
    "realise",
    [
        lambda: call("count", call("range")),
        lambda: call("vec", call("iterate", BUILTINS["inc"], 0)),
        lambda: call("last", call("cycle", Vector((1, 2)))),
        lambda: call("reduce", BUILTINS["+"], call("repeat", 1)),
        lambda: call("sort", call("map", BUILTINS["inc"], call("range"))),
        lambda: call("doall", call("filter", BUILTINS["even?"], call("range"))),
        lambda: call("every?", BUILTINS["number?"], call("range")),
        lambda: call("distinct", call("repeat", 1)) and call("count", call("distinct", call("repeat", 1))),
    ],
)
def test_realising_an_infinite_seq_hits_a_limit(realise: Any) -> None:
    assert limit_code(realise) in ("step_limit", "memory_limit")


def test_sliding_partition_of_a_large_range_is_charged_per_window() -> None:
    xs = None
    with use_meter(Meter(Limits(max_steps=10**7))):
        xs = call("range", 100_000)
    assert limit_code(call, "partition", 1000, 1, xs) in ("step_limit", "memory_limit")


def test_native_work_is_charged_in_steps() -> None:
    with use_meter(Meter(Limits())) as m:
        before = m.steps
        call("sort", call("range", 1000))
        assert m.steps - before >= 1000 * 9


def test_conj_loop_of_ten_thousand_fits_the_default_budget() -> None:
    with use_meter(Meter(Limits())):
        v = Vector()
        for i in range(10_000):
            v = call("conj", v, i)
        assert len(v) == 10_000


# ---------------------------------------------------------------- registry and docs

SPEC = Path(__file__).resolve().parents[2] / ".." / "shared" / "spec.md"
RUN_LEVEL = {"println", "prn", "print", "pmap", "pcalls", "return", "fail", "await",
             "await-all", "await-any"}


def _spec_core_names() -> set[str]:
    """The function names the spec's "Core library" section lists, namespace-qualified."""
    text = SPEC.read_text()
    section = text[text.index("## Core library"):text.index("## Beyond the reference")]
    names: set[str] = set()
    for chunk in re.findall(r"`([^`]+)`", section):
        chunk = re.sub(r"\([^)]*\)", " ", chunk)  # prose and examples in parentheses
        namespace = ""  # once `clojure.x/f` appears, the following bare names belong to it
        for w in chunk.split():
            if w.startswith("clojure.") and "/" in w:
                namespace = w.split("/")[0] + "/"
            if not w.startswith((":", "[")):
                names.add(w if "/" in w or not namespace else namespace + w)
    return names


@pytest.mark.skipif(not SPEC.exists(), reason="shared spec not available")
def test_every_spec_function_is_a_builtin() -> None:
    wanted = {n for n in _spec_core_names() if not n.endswith("/...") and not n.startswith("[")}
    wanted -= RUN_LEVEL | {"rand"}  # rand is excluded by the spec (determinism)
    missing = sorted(n for n in wanted if n not in BUILTINS)
    assert missing == []
    assert len(wanted) > 150


def test_every_builtin_is_documented() -> None:
    documented = {DOCS[name].name for name in DOCS} | {a for d in DOCS.values() for a in d.aliases}
    assert set(BUILTINS) == documented
    for doc in DOCS.values():
        assert doc.arglists.startswith("(") and doc.arglists.endswith(")"), doc.name
        assert doc.doc and "\n" not in doc.doc, doc.name
        assert doc.category, doc.name
        assert getattr(BUILTINS[doc.name], "ptclisp_name", None) == doc.name
