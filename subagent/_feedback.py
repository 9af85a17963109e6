"""What the LLM is told after each turn: the result, the error with its hint, the mismatch."""

from __future__ import annotations

from typing import Any

from ptclisp import PtclispError, SignatureMismatch, pr_str
from ptclisp.host import redact

__all__ = ["NO_PROGRAM", "error_feedback", "invalid_return_feedback", "result_feedback"]


def _preview(value: Any, limit: int) -> str:
    try:
        text = pr_str(redact(value))
    except PtclispError as exc:  # e.g. output_limit: a value too large to print
        return f"<the value cannot be shown: {exc.message}>"
    if len(text) > limit:
        text = text[:limit] + f" ... (truncated; {len(text)} characters in all)"
    return text


def result_feedback(value: Any, output: str, remaining: int, limit: int) -> str:
    parts = [f"Result:\n{_preview(value, limit)}"]
    if output:
        parts.append(f"Output:\n{output[:limit]}")
    if remaining > 0:
        parts.append(f"{remaining} turn{'s' if remaining != 1 else ''} left. Continue with the "
                     "next program, or end with (return value).")
    else:
        parts.append("No turns left.")
    return "\n\n".join(parts)


def error_feedback(error: PtclispError, output: str) -> str:
    where = f" at line {error.line}, column {error.column}" if error.line is not None else ""
    text = f"Error [{error.code}]{where}: {error.message}"
    if error.hint:
        text += f"\nHint: {error.hint}"
    if output:
        text += f"\n\nOutput before the error:\n{output[:2000]}"
    return text + "\n\nFix the program and reply with the corrected program."


def invalid_return_feedback(error: SignatureMismatch, value: Any, limit: int) -> str:
    return (f"Your return value does not match the required type: {error.message}\n"
            f"Hint: {error.hint}\nYou returned: {_preview(value, limit)}\n\n"
            "Fix the program and reply with the corrected program.")


NO_PROGRAM = ("I found no program in your reply. Reply with exactly one program in a "
               "```clojure fenced block.")
