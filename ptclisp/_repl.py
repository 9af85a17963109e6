"""The interactive REPL: ``python -m ptclisp repl``.

Each input runs as its own program in one shared ``Namespace``, so ``def``/``defn`` persist and
``*1 *2 *3`` hold the last values. Input is read until its forms balance (a line that leaves a
list or string open asks for more). Errors are printed and the REPL goes on; each input gets a
fresh meter with the configured limits. End with Ctrl-D (EOF).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from ._compiler.context import Namespace
from ._errors import PtclispError, ReadError
from ._limits import Limits, Meter
from ._run import execute, load
from ._values.printer import pr_str

__all__ = ["repl"]

PROMPT = "ptclisp> "
MORE = "...      "
_INCOMPLETE = ("unclosed ", "unterminated string", "input ends after")


def repl(
    *,
    tools: Mapping[str, Callable[..., Any]] | None = None,
    data: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> None:
    """Read-eval-print until end of input."""
    from ._run import _convert_data
    from ._tools.host import ToolHost

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    ns = Namespace()
    values = _convert_data(data)
    buffer = ""
    while True:
        if interactive:
            stdout.write(MORE if buffer else PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        buffer += line
        if not buffer.strip():
            buffer = ""
            continue
        if _incomplete(buffer):
            continue
        source, buffer = buffer, ""
        _eval_and_print(source, ns, ToolHost(tools), values, limits or Limits(), stdout)
    if interactive:
        stdout.write("\n")


def _incomplete(source: str) -> bool:
    from ._reader.reader import read_forms

    try:
        read_forms(source)
    except ReadError as exc:
        return exc.message.startswith(_INCOMPLETE)
    return False


def _eval_and_print(source: str, ns: Namespace, host: Any, data: Mapping[str, Any],
                    limits: Limits, stdout: TextIO) -> None:
    output: list[str] = []
    try:
        meter = Meter(limits)
        program = load(source, known_globals=tuple(ns), meter=meter)
        completion = execute(program, host=host, data=data, meter=meter, namespace=ns,
                             output=output)
    except PtclispError as exc:
        stdout.write("".join(output))
        stdout.write(f"error: {exc}\n")
        return
    except Exception as exc:
        stdout.write("".join(output))
        stdout.write(f"internal error: {type(exc).__name__}: {exc}\n")
        return
    stdout.write("".join(output))
    prefix = "failed: " if completion.status == "failed" else ""
    stdout.write(prefix + pr_str(completion.value) + "\n")
    stdout.flush()
