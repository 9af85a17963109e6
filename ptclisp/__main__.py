"""Command line: ``python -m ptclisp eval FILE|-`` and ``python -m ptclisp repl``.

``eval`` contract (scripts depend on it):

- stdout: the ``pr-str`` of the program's value, one line; exit status 0.
- Text the program prints (``println`` ...) goes to stderr, so stdout is only the value.
- A program error: a JSON object ``{"code", "message", "line", "column", "hint"}`` as the last
  line of stderr; exit status 1.
- A program awaiting an unfinished async operation: code ``async_pending``, exit status 1.
- ``(fail v)``: ``{"code": "failed", "message": <pr-str of v>, "value": <v as JSON-like data>,
  "line": null, "column": null, "hint": null}`` on stderr; exit status 1.
- Bad command-line input (unreadable file, invalid ``--data``/``--tools`` JSON): exit status 2.

``--data JSON``: an object name → value (``data/name``). ``--tools JSON``: an object tool name →
the JSON value that tool returns, whatever its arguments. Either may be ``@path`` to read the
JSON from a file. ``--limits JSON``: an object of ``Limits`` fields.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    data = _json_arg(parser, args.data, "--data")
    tools = _fixed_tools(_json_arg(parser, args.tools, "--tools"))
    limits = _limits(parser, _json_arg(parser, args.limits, "--limits"))
    if args.command == "repl":
        from ._repl import repl

        repl(tools=tools, data=data, limits=limits)
        return 0
    return _eval(parser, args.file, tools, data, limits)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ptclisp", description="Run ptclisp programs.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("eval", help="run a program file (or - for stdin), print its value")
    run.add_argument("file", help="program file, or - to read stdin")
    repl = sub.add_parser("repl", help="interactive read-eval-print loop")
    for p in (run, repl):
        p.add_argument("--data", help="JSON object: name -> value, read as data/name")
        p.add_argument("--tools", help="JSON object: tool name -> the value it returns")
        p.add_argument("--limits", help="JSON object of limits, e.g. {\"max_steps\": 10000}")
    return parser


def _json_arg(parser: argparse.ArgumentParser, text: str | None, flag: str) -> Any:
    if text is None:
        return None
    try:
        if text.startswith("@"):
            with open(text[1:], encoding="utf-8") as fh:
                text = fh.read()
        value = json.loads(text)
    except (OSError, ValueError) as exc:
        parser.error(f"{flag}: {exc}")
    if not isinstance(value, dict):
        parser.error(f"{flag} must be a JSON object")
    return value


def _fixed_tools(spec: dict[str, Any] | None) -> dict[str, Callable[[dict[str, Any]], Any]] | None:
    if spec is None:
        return None

    def fixed(value: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda args: value

    return {name: fixed(value) for name, value in spec.items()}


def _limits(parser: argparse.ArgumentParser, spec: dict[str, Any] | None) -> Any:
    from ._limits import Limits

    if spec is None:
        return None
    try:
        return Limits.from_dict(spec)
    except (TypeError, ValueError) as exc:
        parser.error(f"--limits: {exc}")


def _eval(parser: argparse.ArgumentParser, path: str, tools: Any, data: Any, limits: Any) -> int:
    from ._errors import PtclispError
    from ._run import run
    from ._values.printer import pr_str
    from ._values.types import to_python

    try:
        source = sys.stdin.read() if path == "-" else _read(path)
    except (OSError, UnicodeDecodeError) as exc:
        parser.error(f"cannot read {path}: {exc}")
    result = run(source, tools=tools, data=data, limits=limits)
    if result.output:
        sys.stderr.write(result.output if result.output.endswith("\n") else result.output + "\n")
    try:
        report = _report(result, pr_str, to_python)
    except PtclispError as exc:  # the value is too large to print: output_limit
        report = {"code": exc.code, "message": exc.message, "line": None, "column": None,
                  "hint": exc.hint}
    if report is None:
        return 0
    sys.stderr.write(json.dumps(report) + "\n")
    return 1


def _report(result: Any, pr_str: Any, to_python: Any) -> dict[str, Any] | None:
    """Print an ok value (None), or the report of anything else (printing is budgeted)."""
    if result.status == "ok":
        sys.stdout.write(pr_str(result.value) + "\n")
        return None
    if result.status == "pending":  # awaits an async op no CLI tool can finish
        return {"code": "async_pending", "message": "the program awaits an unfinished async "
                "operation", "line": None, "column": None,
                "hint": "--tools values are returned at once; do not await async tools here"}
    if result.status == "failed":
        message = pr_str(result.value)  # budgeted first: to_python is then of a printable size
        try:
            plain = to_python(result.value)
        except TypeError:
            plain = None
        return {"code": "failed", "message": message, "value": plain, "line": None,
                "column": None, "hint": None}
    err = result.error
    return {"code": err.code, "message": err.message, "line": err.line, "column": err.column,
            "hint": err.hint}


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


if __name__ == "__main__":
    sys.exit(main())
