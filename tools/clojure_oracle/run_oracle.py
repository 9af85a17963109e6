"""Fill in conformance expectations from real Clojure.

Usage:
    python tools/clojure_oracle/run_oracle.py IN.jsonl OUT.jsonl [--check]

IN.jsonl holds cases ``{id, category, program, tools?, data?, note?}`` (``expected``/``error`` are
ignored and recomputed). OUT.jsonl gets each case with ``expected`` (Clojure's ``pr-str`` of the
value) or ``error: true`` plus ``clojure_error`` ("ExceptionClass: message", informative only).
With ``--check``, IN's own expectations are compared with Clojure's and disagreements listed
(OUT may then be ``-``).

All cases run in one JVM (driver.clj); a case that times out is dropped (reported on stderr) and
the JVM restarts after it. Cases whose value prints host-dependently (``#object[...]``, functions)
are dropped too: they cannot be compared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

DRIVER = Path(__file__).resolve().with_name("driver.clj")
JARS = ("clojure.jar", "spec.alpha.jar", "core.specs.alpha.jar")
JAR_DIR = Path(os.environ.get("CLOJURE_JAR_DIR", "/usr/share/java"))

_STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "b": "\b", "f": "\f"}


def java_command(input_path: Path) -> list[str]:
    classpath = os.pathsep.join(str(JAR_DIR / jar) for jar in JARS)
    return [
        "java",
        "-Dfile.encoding=UTF-8",
        "-Dsun.stdout.encoding=UTF-8",
        "-cp",
        classpath,
        "clojure.main",
        str(DRIVER),
        str(input_path),
    ]


def to_edn(value: Any) -> str:
    """JSON value -> EDN text (object keys stay strings; the driver keywordizes them)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"JSON cannot hold {value!r}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid EDN
    if isinstance(value, list):
        return "[" + " ".join(to_edn(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + " ".join(f"{to_edn(str(k))} {to_edn(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def driver_line(index: int, case: dict[str, Any]) -> str:
    host = {name: to_edn(case.get(name) or {}) for name in ("tools", "data")}
    return (
        f'{{:i {index} :program {to_edn(case["program"])} '
        f':tools {host["tools"]} :data {host["data"]}}}'
    )


def unescape_clojure_string(literal: str) -> str:
    """Decode one Clojure string literal as printed by pr-str."""
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise ValueError(f"not a string literal: {literal!r}")
    body, out, pos = literal[1:-1], [], 0
    while pos < len(body):
        ch = body[pos]
        if ch != "\\":
            out.append(ch)
            pos += 1
            continue
        code = body[pos + 1]
        if code == "u":
            out.append(chr(int(body[pos + 2 : pos + 6], 16)))
            pos += 6
        else:
            out.append(_STRING_ESCAPES[code])
            pos += 2
    return "".join(out)


def run_driver(cases: list[dict[str, Any]]) -> dict[int, tuple[str, str]]:
    """Evaluate all cases; returns index -> (status, payload)."""
    results: dict[int, tuple[str, str]] = {}
    start = 0
    while start < len(cases):
        with tempfile.NamedTemporaryFile("w", suffix=".edn", encoding="utf-8", delete=False) as f:
            for index in range(start, len(cases)):
                f.write(driver_line(index, cases[index]) + "\n")
        try:
            proc = subprocess.run(
                java_command(Path(f.name)), capture_output=True, text=True, encoding="utf-8",
                check=False,
            )
        finally:
            os.unlink(f.name)
        for line in proc.stdout.splitlines():
            index_text, status, payload = line.split("\t", 2)
            results[int(index_text)] = (status, unescape_clojure_string(payload))
        done = [i for i in results if i >= start]
        if not done:
            raise RuntimeError(f"driver produced no results:\n{proc.stderr}")
        last = max(done)
        if results[last][0] != "TIMEOUT" and last != len(cases) - 1:
            raise RuntimeError(f"driver stopped early after case {last}:\n{proc.stderr}")
        start = last + 1
    return results


def fill(case: dict[str, Any], status: str, payload: str) -> dict[str, Any] | None:
    """The case with Clojure's outcome, or None when the outcome cannot serve as a test."""
    out = {k: v for k, v in case.items() if k not in ("expected", "error", "clojure_error")}
    if status == "OK" and "#object[" not in payload and "#function" not in payload:
        out["expected"] = payload
        return _ordered(out)
    if status == "ERR":
        out["error"] = True
        out["clojure_error"] = payload
        return _ordered(out)
    return None


def _ordered(case: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "category", "program", "expected", "error", "clojure_error", "tools", "data")
    head = {k: case[k] for k in keys if k in case}
    return head | {k: v for k, v in case.items() if k not in head}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("output", help="output JSONL, or - for stdout")
    parser.add_argument("--check", action="store_true", help="compare IN's expectations")
    args = parser.parse_args(argv)
    lines = args.input.read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    results = run_driver(cases)
    filled, dropped = [], 0
    for index, case in enumerate(cases):
        status, payload = results[index]
        new = fill(case, status, payload)
        if new is None:
            dropped += 1
            print(f"dropped {case['id']}: {status} {payload}", file=sys.stderr)
        else:
            filled.append(new)
    if args.check:
        return _report_check(cases, results)
    text = "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in filled)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    print(f"{len(filled)} cases written, {dropped} dropped", file=sys.stderr)
    return 0


def _report_check(cases: list[dict[str, Any]], results: dict[int, tuple[str, str]]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "conformance"))
    import _edn  # the same structural comparison the test runner uses

    agree = 0
    for index, case in enumerate(cases):
        status, payload = results[index]
        if case.get("error"):
            same = status == "ERR"
        else:
            same = status == "OK" and _edn.edn_equal(case["expected"], payload)
        agree += same
        if not same:
            print(f"DISAGREE {case['id']}: corpus {case.get('expected', 'error')!s} "
                  f"| clojure {status} {payload}")
    print(f"agreement: {agree}/{len(cases)}")
    return 0 if agree == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main())
