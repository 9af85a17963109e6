"""The CLI's exit-code contract, --version, help, and one-line usage errors (real subprocesses)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

import ptclisp.__main__ as cli_main


def cli(*args: str, stdin: str | None = "1") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ptclisp", *args], input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def test_version() -> None:
    done = cli("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("ptclisp ") and done.stdout.strip() != "ptclisp"


@pytest.mark.parametrize("limits", ['{"max_steps": "lots"}', '{"max_steps": -1}',
                                    '{"timeout_s": 0}', '{"max_bogus": 1}', "[1]", "{bad"])
def test_bad_limits_exit_2_with_one_line(limits: str) -> None:
    done = cli("eval", "-", "--limits", limits)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ptclisp eval: error: ")
    assert "--limits" in lines[0] and "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [(), ("eval",), ("eval", "-", "--bogus"), ("nope",),
                                  ("eval", "/nonexistent.clj"), ("eval", "-", "--data", "[1]"),
                                  ("eval", "-", "--tools", "@/nonexistent.json"),
                                  ("repl", "--limits", '{"max_depth": 1.5}')])
def test_bad_command_lines_exit_2_with_one_line(args: tuple[str, ...]) -> None:
    done = cli(*args)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1 and "error: " in done.stderr
    assert done.stderr.startswith("ptclisp")


def test_the_exit_code_contract() -> None:
    assert cli("eval", "-", stdin="(+ 1 2)").returncode == 0
    program_error = cli("eval", "-", stdin="(inc nil)")
    assert program_error.returncode == 1
    assert json.loads(program_error.stderr.splitlines()[-1])["code"] == "type_error"
    failed = cli("eval", "-", stdin="(fail 1)")
    assert failed.returncode == 1 and json.loads(failed.stderr.splitlines()[-1])["value"] == 1
    assert cli("eval", "-", "--limits", "{bad").returncode == 2


def test_help_documents_at_file_exit_codes_and_the_error_contract() -> None:
    for args in (("--help",), ("eval", "--help")):
        done = cli(*args)
        assert done.returncode == 0
        text = done.stdout
        assert "usage: ptclisp" in text
        assert "@path" in text and "exit status" in text
        assert '{"code", "message", "line", "column", "hint"}' in text
        for code in ("0 ", "1 ", "2 "):
            assert f"  {code} " in text


def test_the_installed_script_says_ptclisp() -> None:
    script = shutil.which("ptclisp", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("the ptclisp console script is not installed in this environment")
    done = subprocess.run([script, "eval", "-"], input="(str :a)", capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout == '":a"\n'


def test_subcommands_are_registered_in_one_table() -> None:
    parser = cli_main.build_parser()
    assert set(cli_main.COMMANDS) >= {"eval", "repl"}
    args = parser.parse_args(["eval", "-"])
    assert callable(args.handler)
