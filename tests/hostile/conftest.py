"""Sandboxes for the hostile corpus: one process pool and one wasm sandbox per session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import sandbox


@pytest.fixture(scope="session")
def hostile_pool() -> Iterator[sandbox.ProcessPool]:
    with sandbox.ProcessPool(size=2, address_space=768 << 20, grace_s=0.5) as pool:
        yield pool


@pytest.fixture(scope="session")
def hostile_wasm() -> Iterator[Any]:
    pytest.importorskip("wasmtime")
    with sandbox.WasmSandbox(memory_limit=256 << 20, grace_s=0.5) as box:
        yield box
