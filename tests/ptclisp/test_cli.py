"""The CLI contract, exercised through real subprocesses."""

import json
import subprocess
import sys

import pytest


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "ptclisp", *args], input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def test_eval_file_prints_pr_str_and_exits_0(tmp_path):
    program = tmp_path / "p.clj"
    program.write_text('(defn sq [x] (* x x))\n{:squares (map sq [1 2 3]) :s "a"}\n')
    done = cli("eval", str(program))
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{:squares (1 4 9), :s "a"}\n'


def test_eval_stdin_with_data_and_tools():
    done = cli("eval", "-", "--data", '{"orders": [{"amount": 5}, {"amount": 7}]}',
               "--tools", '{"rate": {"eur": 2}}',
               stdin="(* (:eur (tool/rate {:ccy \"eur\"})) (reduce + (map :amount data/orders)))")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "24\n"


def test_data_and_tools_may_come_from_files(tmp_path):
    (tmp_path / "d.json").write_text('{"x": 41}')
    done = cli("eval", "-", "--data", f"@{tmp_path / 'd.json'}", stdin="(inc data/x)")
    assert done.stdout == "42\n"


def test_program_error_prints_json_on_stderr_and_exits_1():
    done = cli("eval", "-", stdin='(let [x 1]\n  (inc "a"))')
    assert done.returncode == 1
    assert done.stdout == ""
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == "type_error"
    assert (report["line"], report["column"]) == (2, 3)
    assert report["message"] and report["hint"]
    assert {"code", "message", "line", "column"} <= set(report)


@pytest.mark.parametrize(
    ("source", "code"),
    [("(+ 1", "parse_error"), ("(nope 1)", "unbound_symbol"), ("(loop [] (recur))", "step_limit")],
)
def test_every_stage_reports_the_same_json_shape(source, code):
    done = cli("eval", "-", "--limits", '{"max_steps": 10000}', stdin=source)
    assert done.returncode == 1
    assert json.loads(done.stderr.strip().splitlines()[-1])["code"] == code


def test_fail_reports_code_failed_with_the_value():
    done = cli("eval", "-", stdin='(fail {:reason "no stock"})')
    assert done.returncode == 1
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == "failed"
    assert report["message"] == '{:reason "no stock"}'
    assert report["value"] == {"reason": "no stock"}


def test_printed_output_goes_to_stderr_so_stdout_is_only_the_value():
    done = cli("eval", "-", stdin='(println "working") :done')
    assert done.returncode == 0
    assert done.stdout == ":done\n"
    assert done.stderr == "working\n"


@pytest.mark.parametrize(
    "args",
    [("eval", "/nonexistent/file.clj"), ("eval", "-", "--data", "{bad"), ("eval", "-", "--data", "[1]"),
     ("eval", "-", "--limits", '{"max_bogus": 1}'), ()],
)
def test_bad_command_lines_exit_2(args):
    done = cli(*args, stdin="1")
    assert done.returncode == 2
    assert done.stderr


def test_repl_keeps_defs_reads_multiline_input_and_survives_errors():
    session = "(def x 10)\n(defn add [y]\n  (+ x y))\n(add 5)\n(car 1)\n(/ 1 0)\n*1\n(add 1)\n"
    done = cli("repl", stdin=session)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "10"
    assert lines[1] == "#function[add]"
    assert lines[2] == "15"
    assert lines[3].startswith("error: unbound_symbol") and "did you mean" in lines[4]
    assert lines[5].startswith("error: division_by_zero")
    assert "15" in lines[7:] and lines[-1] == "11"


def test_repl_uses_data_and_tools():
    done = cli("repl", "--data", '{"n": 2}', "--tools", '{"t": 5}', stdin="(+ data/n (tool/t))\n")
    assert done.stdout.splitlines() == ["7"]


EXAMPLES = __import__("pathlib").Path(__file__).resolve().parents[2] / "examples"


def test_the_example_programs_run():
    hello = cli("eval", str(EXAMPLES / "hello.clj"))
    assert hello.returncode == 0 and hello.stdout == '["Hello, Ann!" "Hello, Bob!"]\n'
    assert hello.stderr == "Hello, world!\n"
    orders = cli("eval", str(EXAMPLES / "orders.clj"), "--data", f"@{EXAMPLES / 'orders.json'}",
                 "--tools", '{"fx-rate": {"rate": 2}}')
    assert orders.returncode == 0, orders.stderr
    assert orders.stdout == '[["us" 500] ["eu" 280]]\n'
    script = subprocess.run([sys.executable, str(EXAMPLES / "run_program.py")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert script.returncode == 0, script.stderr
    assert "status: ok" in script.stdout and "loop:   step_limit" in script.stdout
