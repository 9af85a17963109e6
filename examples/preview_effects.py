"""Preview what a program will do before running it: the tools it may call (with their literal
arguments and how often), what it awaits, what it defines.

    python examples/preview_effects.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ptclisp

PROGRAM = """
(def customer (tool/get-customer {:id 42}))
(when (> (:balance customer) 100)
  (tool/charge-card {:customer 42 :amount 100 :currency "EUR"}))
(def decision (await (tool/request-approval {:reason "refund" :amount (:balance customer)})))
(doseq [line (:lines customer)]
  (tool/notify {:line line}))
(return decision)
"""


def main() -> None:
    preview = ptclisp.preview(PROGRAM)
    print(preview.summary())
    for use in preview.tools:
        when = "in a branch" if use.conditional else "always"
        bound = "any number of" if use.max_calls is None else f"at most {use.max_calls}"
        print(f"  line {use.line}: tool/{use.tool} {bound} time(s), {when}; "
              f"literal args {json.dumps(use.literal_args)}, computed {list(use.computed_args)}")
    print("awaits:", [(a.kind, a.tools) for a in preview.awaits])
    print("defines:", [d.name for d in preview.defines])


if __name__ == "__main__":
    main()
