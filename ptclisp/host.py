"""The seam for code that hosts ptclisp programs: sandbox tiers and agent loops.

``ptclisp`` itself exports what a program's caller needs (``run``, ``start``, ``resume``,
``Result``, ``Tool`` …). A *host* — a sandbox tier moving values across a process or wasm
boundary, an agent loop showing values to an LLM — needs a little more, and takes it from here,
never from a private module:

- ``encode_value`` / ``decode_value``: a value ⇄ tagged plain data (lists, dicts, atoms) that
  msgpack or JSON carry without losing a type (keywords, lists vs vectors, sets, chars, bigints).
- ``ToolHost``, ``Meter``, ``use_meter``, ``current_meter``: the per-run tool host and budget,
  for tiers that answer a guest's tool calls on the host side.
- ``read_forms``: the top-level forms of a source text (raises ``ReadError``).
- ``redact``: a value as an LLM may see it (``_``-prefixed fields hidden).
- ``builtin_docs``: the core library's reference entries, by name.
"""

from __future__ import annotations

from ._core import DOCS, BuiltinDoc
from ._limits import Meter, current_meter, use_meter
from ._reader.reader import read_forms
from ._tools.host import ToolHost
from ._tools.signature import redact
from ._values.codec import decode as decode_value
from ._values.codec import encode as encode_value

__all__ = [
    "BuiltinDoc",
    "Meter",
    "ToolHost",
    "builtin_docs",
    "current_meter",
    "decode_value",
    "encode_value",
    "read_forms",
    "redact",
    "use_meter",
]


def builtin_docs() -> dict[str, BuiltinDoc]:
    """Every builtin's reference entry (name → doc); importing ``_core`` registered them all."""
    return dict(DOCS)
