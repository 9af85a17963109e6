"""The interactive REPL: ``ptclisp repl``.

Each input runs as its own program in one shared ``Namespace``, so ``def``/``defn`` persist and
``*1 *2 *3`` hold the last values. Input is read until its forms balance (Enter inside an open
list or string continues the input on the next line). Errors are printed and the REPL goes on;
each input gets a fresh meter with the configured limits.

Leaving: ``exit``, ``quit`` (or ``(exit)``/``(quit)``) or Ctrl-D. Ctrl-C abandons the input being
typed (or the evaluation running) and shows a fresh prompt.

Line editing and history: with a terminal, prompt_toolkit (the ``[repl]`` extra) when installed,
else the standard ``readline`` module. History is kept in ``~/.ptclisp_history`` (the
``PTCLISP_HISTORY`` environment variable names another file; empty: no history file).
``PTCLISP_LINE_EDITOR=readline`` forces the fallback. Without a terminal (a pipe), lines are read
plainly and nothing but results is written.
"""

from __future__ import annotations

import contextlib
import os
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
_LEAVE = frozenset({"exit", "quit", "(exit)", "(quit)"})

ReadLine = Callable[[str], str]
"""Returns one input (may span lines); raises EOFError at the end, KeyboardInterrupt on Ctrl-C."""


def repl(
    *,
    tools: Mapping[str, Callable[..., Any]] | None = None,
    data: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> None:
    """Read-eval-print until ``exit``/``quit`` or end of input."""
    from ._run import _convert_data
    from ._tools.host import ToolHost

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty() and stdout.isatty()
    session = _Session(ns=Namespace(), host=lambda: ToolHost(tools), data=_convert_data(data),
                       limits=limits or Limits(), stdout=stdout)
    if interactive:
        stdout.write(banner() + "\n")
        stdout.flush()
        _interactive(_line_reader(), session)
    else:
        _piped(stdin, session)


def banner() -> str:
    from ._version import version

    return (f"ptclisp {version()} — type exit, quit or Ctrl-D to leave; Ctrl-C abandons the "
            "current input")


class _Session:
    def __init__(self, *, ns: Namespace, host: Callable[[], Any], data: Mapping[str, Any],
                 limits: Limits, stdout: TextIO) -> None:
        self.ns, self.host, self.data, self.limits, self.stdout = ns, host, data, limits, stdout

    def eval_print(self, source: str) -> None:
        _eval_and_print(source, self.ns, self.host(), self.data, self.limits, self.stdout)


def _interactive(read: ReadLine, session: _Session) -> None:
    while True:
        try:
            source = read(PROMPT)
        except KeyboardInterrupt:
            continue  # the input is abandoned; a fresh prompt
        except EOFError:
            session.stdout.write("\n")
            return
        if source.strip() in _LEAVE:
            return
        if not source.strip():
            continue
        try:
            session.eval_print(source)
        except KeyboardInterrupt:
            session.stdout.write("interrupted\n")
        session.stdout.flush()


def _piped(stdin: TextIO, session: _Session) -> None:
    buffer = ""
    while True:
        line = stdin.readline()
        if not line:
            return
        buffer += line
        if not buffer.strip():
            buffer = ""
            continue
        if buffer.strip() in _LEAVE:
            return
        if _incomplete(buffer):
            continue
        source, buffer = buffer, ""
        session.eval_print(source)


# ---------------------------------------------------------------- line editors


def _history_path() -> str | None:
    path = os.environ.get("PTCLISP_HISTORY")
    if path is None:
        return os.path.join(os.path.expanduser("~"), ".ptclisp_history")
    return path or None


def _line_reader() -> ReadLine:
    if os.environ.get("PTCLISP_LINE_EDITOR") != "readline":
        try:
            return _prompt_toolkit_reader(_history_path())
        except ImportError:
            pass
    return _readline_reader(_history_path())


def _prompt_toolkit_reader(history_file: str | None) -> ReadLine:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings

    bindings = KeyBindings()

    @bindings.add("enter")
    def _enter(event: Any) -> None:
        buffer = event.current_buffer
        if buffer.text.strip() and _incomplete(buffer.text):
            buffer.insert_text("\n")  # an open form: go on on the next line
        else:
            buffer.validate_and_handle()

    history = FileHistory(history_file) if history_file else InMemoryHistory()
    session: Any = PromptSession(history=history, multiline=True, key_bindings=bindings,
                                 prompt_continuation=MORE)
    return lambda prompt: str(session.prompt(prompt))


def _readline_reader(history_file: str | None) -> ReadLine:
    try:
        import readline
    except ImportError:  # no readline (e.g. some Windows builds): plain input()
        readline = None  # type: ignore[assignment]
    if readline is not None and history_file:
        with contextlib.suppress(OSError):  # no history yet
            readline.read_history_file(history_file)
        import atexit

        atexit.register(_save_history, readline, history_file)

    def read(prompt: str) -> str:
        text = input(prompt)
        while text.strip() and _incomplete(text):
            text += "\n" + input(MORE)
        return text

    return read


def _save_history(readline: Any, path: str) -> None:
    with contextlib.suppress(OSError):
        readline.write_history_file(path)


# ---------------------------------------------------------------- evaluating


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
    except Exception as exc:  # the REPL must survive anything
        stdout.write("".join(output))
        stdout.write(f"internal error: {type(exc).__name__}: {exc}\n")
        return
    stdout.write("".join(output))
    prefix = "failed: " if completion.status == "failed" else ""
    stdout.write(prefix + pr_str(completion.value) + "\n")
    stdout.flush()
