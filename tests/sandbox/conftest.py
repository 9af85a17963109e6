"""Shared sandboxes for the tier tests: one process pool and one wasm sandbox per session.

The wasm guest is built from the checkout's sources on first use when the cache lacks it
(a clean CI clone: about a minute on two cores), then reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import ptclisp
from ptclisp import sandbox
from ptclisp._values import codec as _codec

Runner = Callable[..., "ptclisp.Result"]


@pytest.fixture(scope="session")
def pool() -> Iterator[sandbox.ProcessPool]:
    with sandbox.ProcessPool(size=2, address_space=768 << 20, grace_s=0.5) as pool:
        yield pool


@pytest.fixture(scope="session")
def wasm() -> Iterator[sandbox.WasmSandbox]:
    with sandbox.WasmSandbox(memory_limit=256 << 20, grace_s=0.5) as box:
        yield box


def runner_for(tier: str, request: pytest.FixtureRequest) -> Runner:
    """``run(source, tools=, data=, limits=, hooks=)`` for ``tier``."""
    if tier == "inproc":

        def run_inproc(source: str, *, hooks: bool = False, **kwargs: Any) -> ptclisp.Result:
            assert not hooks, "test hooks would run inside the host process"
            return ptclisp.run(source, **kwargs)

        return run_inproc
    box = request.getfixturevalue("pool" if tier == "process" else "wasm")

    def run_outer(source: str, *, hooks: bool = False, **kwargs: Any) -> ptclisp.Result:
        return box.run(source, _hooks=hooks, **kwargs)

    return run_outer


@pytest.fixture(params=sandbox.TIERS)
def tier_run(request: pytest.FixtureRequest) -> Runner:
    return runner_for(request.param, request)


@pytest.fixture(params=("process", "wasm"))
def outer_run(request: pytest.FixtureRequest) -> Runner:
    return runner_for(request.param, request)


def _nan_free(value: Any) -> Any:
    """``value`` with every NaN replaced by one marker: NaN is unequal to itself, so two runs'
    equal results would otherwise differ."""
    if type(value) is float and value != value:
        return "<NaN>"
    if isinstance(value, dict):
        return type(value)((_nan_free(k), _nan_free(v)) for k, v in value.items())
    if isinstance(value, (tuple, frozenset)):
        return type(value)(map(_nan_free, value))
    return value


def comparable(result: ptclisp.Result) -> dict[str, Any]:
    """``Result.to_dict()`` without the timings, which differ run to run, and with the value
    decoded: a set's encoded element order follows the process's string-hash seed."""
    data = result.to_dict()
    data.pop("duration_s", None)
    data["value"] = _nan_free(_codec.decode(data["value"]))
    for call in data["tool_calls"]:
        call.pop("duration_s", None)
    return data
