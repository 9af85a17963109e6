"""Isolation tiers for ptclisp programs: in-process, worker process, WebAssembly.

    from ptclisp import sandbox
    result = sandbox.run("(tool/add {:a 1 :b 2})", tools={"add": add}, tier="wasm")

``run`` returns the same ``ptclisp.Result`` with the same error codes in every tier. Use
``ProcessPool`` / ``WasmSandbox`` directly to choose pool size, memory caps and grace periods.
See docs/sandbox.md.
"""

from ._api import TIERS, Tier, default_pool, default_wasm, resume, run, runner, start, warm
from ._errors import SandboxCrash, SandboxError
from ._process import ProcessPool
from ._wasm import WasmSandbox
from ._wasm_build import build_component

__all__ = [
    "TIERS",
    "ProcessPool",
    "SandboxCrash",
    "SandboxError",
    "Tier",
    "WasmSandbox",
    "build_component",
    "default_pool",
    "default_wasm",
    "resume",
    "run",
    "runner",
    "start",
    "warm",
]
