"""Command line: ``ptclisp eval FILE|-``, ``ptclisp repl`` (also ``python -m ptclisp ...``).

``eval`` contract (scripts depend on it):

- stdout: the ``pr-str`` of the program's value, one line; exit status 0.
- Text the program prints (``println`` ...) goes to stderr, so stdout is only the value.
- A program error: a JSON object ``{"code", "message", "line", "column", "hint"}`` as the last
  line of stderr; exit status 1.
- A program awaiting an unfinished async operation: code ``async_pending``, exit status 1.
- ``(fail v)``: ``{"code": "failed", "message": <pr-str of v>, "value": <v as JSON-like data>,
  "line": null, "column": null, "hint": null}`` on stderr; exit status 1.
- Bad command-line input (unknown option, unreadable file, invalid ``--data``/``--tools``/
  ``--limits``): one line ``ptclisp <command>: error: ...`` on stderr; exit status 2.

``--data JSON``: an object name → value (``data/name``). ``--tools JSON``: an object tool name →
the JSON value that tool returns, whatever its arguments. ``--limits JSON``: an object of
``Limits`` fields. Each may be ``@path`` to read the JSON from a file.

Subcommands are registered in ``COMMANDS`` (name → function adding its parser); each sets
``handler`` (``args, parser -> exit status``) with ``set_defaults``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from ._serve_cli import add_serve_parser

__all__ = ["COMMANDS", "main"]

EXIT_OK, EXIT_PROGRAM_ERROR, EXIT_USAGE = 0, 1, 2

EPILOG = """\
options taking JSON accept @path to read it from a file (e.g. --data @input.json).

exit status:
  0  the program ran; stdout holds the pr-str of its value (one line)
  1  the program failed: the last line of stderr is a JSON error object
     {"code", "message", "line", "column", "hint"} ("value" too when the program called fail;
     code "async_pending" when it awaits an async operation)
  2  bad command line (unknown option, unreadable file, invalid --data/--tools/--limits)

what the program prints (println ...) goes to stderr, so stdout is only the value.
"""


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace, argparse.ArgumentParser], int] = args.handler
    return handler(args, args.command_parser)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ptclisp", description="Run ptclisp programs.", epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"ptclisp {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)
    for add in COMMANDS.values():
        add(sub)
    return parser


def _add_eval(sub: Any) -> None:
    p = sub.add_parser("eval", help="run a program file (or - for stdin), print its value",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", help="program file, or - to read stdin")
    _host_options(p)
    p.set_defaults(handler=_eval_command, command_parser=p)


def _add_repl(sub: Any) -> None:
    p = sub.add_parser("repl", help="interactive read-eval-print loop (exit, quit or Ctrl-D "
                       "to leave)")
    _host_options(p)
    p.set_defaults(handler=_repl_command, command_parser=p)


def _add_mcp(sub: Any) -> None:
    p = sub.add_parser("mcp", help="MCP: serve ptclisp as a run_program tool ([mcp] extra)")
    actions = p.add_subparsers(dest="mcp_command", required=True, metavar="ACTION",
                               parser_class=_Parser)
    serve = actions.add_parser("serve", help="serve run_program and the language reference "
                               "over stdio, or streamable HTTP with --port (127.0.0.1)")
    serve.add_argument("--port", type=int, help="serve streamable HTTP on this port (at /mcp)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on with --port "
                       "(default 127.0.0.1)")
    serve.add_argument("--registry", metavar="MODULE:NAME",
                       help="a ptclisp.ToolRegistry (or dict of tools) to serve, e.g. "
                       "myapp.tools:registry")
    serve.add_argument("--tasks", action="store_true", help="MCP Tasks: run_program answers "
                       "clients with the tasks extension with a task when the program awaits")
    _host_options(serve)
    serve.set_defaults(handler=_mcp_serve_command, command_parser=serve)


def _mcp_serve_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    tools, data, limits = host_inputs(parser, args)
    if args.registry:
        tools = {**(tools or {}), **_import_registry(parser, args.registry)}
    if args.port is not None and not 0 < args.port < 65536:
        parser.error(f"--port: expected 1-65535, got {args.port}")
    try:
        from .mcp import build_server, serve
    except ImportError as exc:
        parser.error(f"the MCP server needs the [mcp] extra (pip install 'ptclisp[mcp]'): {exc}")
    serve(build_server(tools, data=data, limits=limits, tasks=args.tasks), port=args.port,
          host=args.host)
    return EXIT_OK


def _import_registry(parser: argparse.ArgumentParser, spec: str) -> dict[str, Any]:
    import importlib
    from collections.abc import Mapping

    module_name, _, attr = spec.partition(":")
    try:
        value = getattr(importlib.import_module(module_name), attr or "registry")
    except (ImportError, AttributeError) as exc:
        parser.error(f"--registry {spec}: {_one_line(str(exc))}")
    if not isinstance(value, Mapping):
        parser.error(f"--registry {spec}: expected a ToolRegistry or dict, got "
                     f"{type(value).__name__}")
    return dict(value)


def _add_sandbox(sub: Any) -> None:
    p = sub.add_parser("sandbox", help="sandbox tiers: `warm` does their first-use work now "
                       "(start the worker pool, build and compile the wasm guest)")
    p.add_argument("action", choices=["warm"])
    p.add_argument("--tier", action="append", choices=["process", "wasm"],
                   help="a tier to warm (repeatable; default: both)")
    p.set_defaults(handler=_sandbox_command, command_parser=p)


def _sandbox_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ptclisp import sandbox

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    sandbox.warm(tuple(args.tier or ("process", "wasm")), progress=say)
    return EXIT_OK


COMMANDS: dict[str, Callable[[Any], None]] = {"eval": _add_eval, "repl": _add_repl,
                                              "mcp": _add_mcp, "sandbox": _add_sandbox,
                                              "serve": add_serve_parser}
"""Subcommand name → function adding its parser to the subparsers action."""


def _host_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="JSON|@FILE",
                   help="JSON object: name -> value, read as data/name")
    p.add_argument("--tools", metavar="JSON|@FILE",
                   help="JSON object: tool name -> the value it returns")
    p.add_argument("--limits", metavar="JSON|@FILE",
                   help='JSON object of limits, e.g. {"max_steps": 10000, "timeout_s": 2}')


def host_inputs(parser: argparse.ArgumentParser, args: argparse.Namespace
                ) -> tuple[Any, Any, Any]:
    """``(tools, data, limits)`` from ``--tools``/``--data``/``--limits`` (exit 2 when bad)."""
    data = _json_arg(parser, args.data, "--data")
    tools = _fixed_tools(_json_arg(parser, args.tools, "--tools"))
    limits = _limits(parser, _json_arg(parser, args.limits, "--limits"))
    return tools, data, limits


def _eval_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    tools, data, limits = host_inputs(parser, args)
    return _eval(parser, args.file, tools, data, limits)


def _repl_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ._repl import repl

    tools, data, limits = host_inputs(parser, args)
    repl(tools=tools, data=data, limits=limits)
    return EXIT_OK


def _version() -> str:
    from ._version import version

    return version()


def _json_arg(parser: argparse.ArgumentParser, text: str | None, flag: str) -> Any:
    if text is None:
        return None
    try:
        if text.startswith("@"):
            with open(text[1:], encoding="utf-8") as fh:
                text = fh.read()
        value = json.loads(text)
    except (OSError, ValueError) as exc:
        parser.error(f"{flag}: {_one_line(str(exc))}")
    if not isinstance(value, dict):
        parser.error(f"{flag} must be a JSON object, got {type(value).__name__}")
    return value


def _fixed_tools(spec: dict[str, Any] | None) -> dict[str, Callable[[dict[str, Any]], Any]] | None:
    if spec is None:
        return None

    def fixed(value: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda args: value

    return {name: fixed(value) for name, value in spec.items()}


def _limits(parser: argparse.ArgumentParser, spec: dict[str, Any] | None) -> Any:
    from ._errors import PtclispError
    from ._limits import Limits

    if spec is None:
        return None
    try:
        return Limits.from_dict(spec)
    except PtclispError as exc:
        hint = f"; {exc.hint}" if exc.hint else ""
        parser.error(f"--limits: {exc.message}{hint}")
    except (TypeError, ValueError) as exc:
        parser.error(f"--limits: {_one_line(str(exc))}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _eval(parser: argparse.ArgumentParser, path: str, tools: Any, data: Any, limits: Any) -> int:
    from ._errors import PtclispError
    from ._run import run
    from ._values.printer import pr_str

    try:
        source = sys.stdin.read() if path == "-" else _read(path)
    except (OSError, UnicodeDecodeError) as exc:
        parser.error(f"cannot read {path}: {_one_line(str(exc))}")
    result = run(source, tools=tools, data=data, limits=limits)
    if result.output:
        sys.stderr.write(result.output if result.output.endswith("\n") else result.output + "\n")
    try:
        if result.status == "ok":
            sys.stdout.write(pr_str(result.value) + "\n")  # budgeted: output_limit if too large
            return EXIT_OK
        report = _error_report(result)
    except PtclispError as exc:  # the value is too large to print
        report = {"code": exc.code, "message": exc.message, "line": None, "column": None,
                  "hint": exc.hint}
    sys.stderr.write(json.dumps(report) + "\n")
    return EXIT_PROGRAM_ERROR


def _error_report(result: Any) -> dict[str, Any]:
    from ._values.printer import pr_str
    from ._values.types import to_python

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
        return {"code": "failed", "message": message, "value": plain,
                "line": None, "column": None, "hint": None}
    err = result.error
    return {"code": err.code, "message": err.message, "line": err.line, "column": err.column,
            "hint": err.hint}


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


if __name__ == "__main__":
    sys.exit(main())
