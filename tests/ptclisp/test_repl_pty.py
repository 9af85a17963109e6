"""The REPL in a real pseudo-terminal (pexpect): banner, history (Up arrow), Ctrl-C, exit, Ctrl-D.

Both line editors are driven: prompt_toolkit (the ``[repl]`` extra) and the readline fallback.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

UP = "\x1b[A"
EDITORS = ["prompt_toolkit", "readline"]


def spawn(tmp_path: Path, editor: str, *extra: str) -> pexpect.spawn:
    if editor == "prompt_toolkit":
        pytest.importorskip("prompt_toolkit")
    env = dict(os.environ, PTCLISP_HISTORY=str(tmp_path / "history"), TERM="xterm",
               PROMPT_TOOLKIT_NO_CPR="1", PTCLISP_LINE_EDITOR=editor, NO_COLOR="1")
    child = pexpect.spawn(sys.executable, ["-m", "ptclisp", "repl", *extra], env=env,
                          encoding="utf-8",
                          timeout=30, dimensions=(24, 120))
    child.expect("type exit, quit or Ctrl-D to leave")
    child.expect_exact(PROMPT)
    return child


PROMPT = "ptclisp>"  # prompt_toolkit draws the space after it as a cursor move
_ESCAPES = r"(?:\x1b\[[0-9;?]*[A-Za-z])*"


def result(child: pexpect.spawn, text: str) -> None:
    """The value printed on a line of its own (not the echo of the input), then a prompt."""
    child.expect(rf"\n{_ESCAPES}{re.escape(text)}\r\n")
    child.expect_exact(PROMPT)


@pytest.mark.parametrize("editor", EDITORS)
def test_history_recalls_earlier_inputs_with_the_up_arrow(tmp_path: Path, editor: str) -> None:
    child = spawn(tmp_path, editor)
    child.sendline("(def n 1)")
    result(child, "1")
    child.sendline('(str "v" n)')
    result(child, '"v1"')
    child.sendline("(def n 2)")
    result(child, "2")
    child.send(UP + UP + "\r")  # recalls (str "v" n), evaluated with the new n
    result(child, '"v2"')
    child.sendline("exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in (child.before or "")


@pytest.mark.parametrize("editor", EDITORS)
def test_ctrl_c_abandons_the_input_without_a_traceback(tmp_path: Path, editor: str) -> None:
    child = spawn(tmp_path, editor)
    child.send("(+ 1\r")  # an open form: the input goes on
    child.expect_exact("...")
    child.send("100")
    child.expect_exact("100")  # typed (echoed), as a person sees it before pressing Ctrl-C
    child.sendcontrol("c")
    child.expect_exact(PROMPT)
    child.sendline("(+ 2 3)")
    result(child, "5")  # the abandoned (+ 1 100 ...) never ran
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in (child.before or "") and "101" not in (child.before or "")


@pytest.mark.parametrize("editor", EDITORS)
def test_ctrl_d_leaves_and_multiline_input_is_one_entry(tmp_path: Path, editor: str) -> None:
    child = spawn(tmp_path, editor)
    child.send("(defn sq [x]\r")
    child.send("  (* x x))\r")
    result(child, "#function[sq]")
    child.sendline("(sq 7)")
    result(child, "49")
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@pytest.mark.parametrize("editor", EDITORS)
def test_ctrl_c_interrupts_a_running_evaluation(tmp_path: Path, editor: str) -> None:
    child = spawn(tmp_path, editor, "--limits", '{"max_steps": 100000000000, "timeout_s": 120}')
    child.sendline("(loop [i 0] (recur (inc i)))")
    child.expect_exact("(loop [i 0] (recur (inc i)))")
    import time

    time.sleep(1.5)  # the loop is running (margin for a loaded machine)
    child.sendcontrol("c")
    child.expect_exact("interrupted", timeout=20)
    child.expect_exact(PROMPT)
    child.sendline("(+ 20 22)")
    result(child, "42")  # the session goes on
    child.sendline("exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "Traceback" not in (child.before or "")


def test_exit_in_a_pipe_and_an_unknown_symbol_still_report() -> None:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "ptclisp", "repl"], input="(+ 1 2)\nexit\n9\n",
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout == "3\n"
