"""The seam for code that hosts ptclisp programs: sandbox tiers and agent loops.

``ptclisp`` itself exports what a program's caller needs (``run``, ``start``, ``resume``,
``Result``, ``Tool`` …). A *host* — a sandbox tier moving values across a process or wasm
boundary, an agent loop showing values to an LLM — needs a little more, and takes it from here,
never from a private module:

- ``charge_host_data(value, meter)``: charge what converting host data into a run costs (as
  ``from_python(value, meter)`` does) without converting it: a tier checks data fits a run's
  budget before serializing it.
- ``encode_value`` / ``decode_value``: a value ⇄ tagged plain data (lists, dicts, atoms) that
  msgpack or JSON carry without losing a type (keywords, lists vs vectors, sets, chars, bigints).
- ``ToolHost``, ``Meter``, ``use_meter``, ``current_meter``: the per-run tool host and budget,
  for tiers that answer a guest's tool calls on the host side.
- ``start_on`` / ``resume_on`` / ``pending_step`` / ``Suspend`` / ``OpHandle``: suspendable runs
  whose program executes elsewhere (a sandbox tier's guest) while the journal stays with the host.
- ``check_registry(step, tools)``: raise ``pending_registry_mismatch`` before claiming a step
  whose tools are missing or changed (``resume`` checks it too); ``fingerprints(host)``.
- ``read_forms``: the top-level forms of a source text (raises ``ReadError``).
- ``redact``: a value as an LLM may see it (``_``-prefixed fields hidden).
- ``builtin_docs``: the core library's reference entries, by name.
"""

from __future__ import annotations

from ._async.resume import (
    ParallelMap,
    Runner,
    check_registry,
    fingerprints,
    pending_step,
    resume_on,
    start_on,
)
from ._core import DOCS, BuiltinDoc
from ._limits import Meter, current_meter, use_meter
from ._reader.reader import read_forms
from ._tools.host import Suspend, ToolHost
from ._tools.signature import redact
from ._values.codec import decode as decode_value
from ._values.codec import encode as encode_value
from ._values.types import OpHandle, charge_host_data

__all__ = [
    "BuiltinDoc",
    "Meter",
    "OpHandle",
    "ParallelMap",
    "Runner",
    "Suspend",
    "ToolHost",
    "builtin_docs",
    "charge_host_data",
    "check_registry",
    "current_meter",
    "decode_value",
    "encode_value",
    "fingerprints",
    "pending_step",
    "read_forms",
    "redact",
    "resume_on",
    "start_on",
    "use_meter",
]


def builtin_docs() -> dict[str, BuiltinDoc]:
    """Every builtin's reference entry (name → doc); importing ``_core`` registered them all."""
    return dict(DOCS)
